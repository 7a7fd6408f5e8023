/* test_trace_unwind_cfa.c - the learnt-shape walker returns exactly
 * libunwind's frames, or says it cannot: through frames addressed from the
 * stack pointer, frames with alloca (addressed from rbp, their sp offset
 * changing from call to call), and a signal handler's frame. */
#include <criterion/criterion.h>

#include <alloca.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>

#include "trace/unwind.h"

#define MAXF 48

struct walk {
    uintptr_t ref[MAXF + 16], fast[MAXF], slots[MAXF];
    int nref, nfast;
    int fast_ok, learnt, unsafe, wrong;
    int last_learnt;   /* frames learnt by the last walk */
    int use_last;      /* give the walker a last walk to finish from */
    sa_unwind_last last;
};

/* The stand-in for malloc: an entry point with a frame pointer whose
 * caller is "the program". */
__attribute__((noinline, optimize("no-omit-frame-pointer")))
static void probe(struct walk *w)
{
    const uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t ra = fp[1], sp = (uintptr_t)(fp + 2), rbp = fp[0];
    uintptr_t raw[MAXF + 16];
    int n = sa_unwind_libunwind_raw(raw, MAXF + 16);
    int i = 0;
    while (i < n && raw[i] != ra)
        i++;
    w->nref = n - i < MAXF ? n - i : MAXF;
    memcpy(w->ref, raw + i, (size_t)w->nref * sizeof *raw);
    int learnt = 0;
    int m = sa_unwind_cfa_walk(ra, sp, rbp, w->fast, w->slots, MAXF, &learnt,
                               w->use_last ? &w->last : NULL);
    w->last_learnt = learnt;
    if (learnt)
        w->learnt++;
    else if (m > 0)
        w->fast_ok++;
    if (m == SA_CFA_UNSAFE) {
        w->unsafe++;
        return;
    }
    w->nfast = m;
    if (m != w->nref || memcmp(w->fast, w->ref, (size_t)m * sizeof *raw) != 0)
        w->wrong++;
    for (int k = 0; k < m; k++)
        if (*(const uintptr_t *)w->slots[k] != w->fast[k])
            w->wrong++;
}

/* Frames addressed from the stack pointer. */
__attribute__((noinline, optimize("omit-frame-pointer")))
static int plain(struct walk *w, int depth)
{
    volatile char pad[48];
    pad[0] = (char)depth;
    if (depth == 0)
        probe(w);
    else
        plain(w, depth - 1);
    __asm__ volatile("" ::: "memory");
    return pad[0];
}

/* alloca: the stack pointer moves by a different amount on every call,
 * so only an rbp-based shape is right. */
__attribute__((noinline))
static int dynamic(struct walk *w, int depth, int size)
{
    volatile char *buf = alloca((size_t)size);
    buf[0] = (char)depth;
    if (depth == 0)
        probe(w);
    else
        dynamic(w, depth - 1, size * 3 % 1000 + 16);
    __asm__ volatile("" ::: "memory");
    return buf[0];
}

static void setup(void)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
}

Test(trace_unwind_cfa, sp_frames_are_learnt_then_walked_exactly, .init = setup)
{
    struct walk w = {0};
    for (int k = 0; k < 20; k++)
        plain(&w, 10 + k % 3);
    cr_assert_eq(w.wrong, 0, "%d frames differ from libunwind's", w.wrong);
    cr_assert_eq(w.unsafe, 0);
    cr_assert_geq(w.learnt, 2);
    cr_assert_leq(w.learnt, 4, "learnt %d times: a rule is trusted on the second sighting", w.learnt);
    cr_assert_geq(w.fast_ok, 17);
    cr_assert_geq(w.nfast, 13, "only %d frames", w.nfast);
}

Test(trace_unwind_cfa, alloca_frames_are_never_walked_wrong, .init = setup)
{
    struct walk w = {0};
    for (int k = 0; k < 50; k++)
        dynamic(&w, 6, 32 + 40 * k);
    cr_assert_eq(w.wrong, 0, "%d frames differ from libunwind's", w.wrong);
    /* gcc addresses alloca frames from rbp: their shape is stable. */
    cr_assert_geq(w.fast_ok, 40);
}

static struct walk sig_walk;

__attribute__((noinline)) static void on_signal(int sig)
{
    (void)sig;
    plain(&sig_walk, 2);
}

/* A new call site on top of a known stack: only its frame is learnt. */
__attribute__((noinline, optimize("omit-frame-pointer")))
static int other_site(struct walk *w)
{
    volatile char pad[24];
    pad[0] = 1;
    probe(w);
    __asm__ volatile("" ::: "memory");
    return pad[0];
}

__attribute__((noinline, optimize("omit-frame-pointer")))
static int plain_then(struct walk *w, int depth, int other)
{
    volatile char pad[40];
    pad[0] = (char)depth;
    if (depth == 0) {
        if (other)
            other_site(w);
        else
            probe(w);
    } else {
        plain_then(w, depth - 1, other);
    }
    __asm__ volatile("" ::: "memory");
    return pad[0];
}

/* One call site for every walk of a test (an unrolled loop would make
 * each call a new return address). */
__attribute__((noinline)) static void walk_from_here(struct walk *w, int other)
{
    plain_then(w, 20, other);
    __asm__ volatile("" ::: "memory");
}

Test(trace_unwind_cfa, a_new_call_site_costs_only_its_own_frames, .init = setup)
{
    struct walk w = {0};
    volatile int rounds = 4;
    int before = 0;
    for (int k = 0; k < rounds; k++) {
        if (k == 3) {
            cr_assert_eq(w.fast_ok, 1, "the third walk is all known");
            before = w.learnt;
        }
        walk_from_here(&w, k == 3);
    }
    cr_assert_eq(w.learnt, before + 1);
    /* New: the return addresses into other_site and into plain_then after
     * its call of other_site.  The 20 frames above are known. */
    cr_assert_eq(w.last_learnt, 2, "learnt %d frames", w.last_learnt);
    cr_assert_eq(w.wrong, 0);
    cr_assert_eq(w.nfast, w.nref);
}

/* Two callers of walk_from_here with the same frame: the slot of the
 * return address into them is the same, its value differs. */
__attribute__((noipa)) static void outer_a(struct walk *w, int other)
{
    volatile int tag = 1;
    walk_from_here(w, other);
    __asm__ volatile("" ::: "memory");
    (void)tag;
}

__attribute__((noipa)) static void outer_b(struct walk *w, int other)
{
    volatile int tag = 2;
    walk_from_here(w, other);
    __asm__ volatile("" ::: "memory");
    (void)tag;
}

Test(trace_unwind_cfa, outer_frames_come_from_the_last_walk_while_they_hold, .init = setup)
{
    /* Every walk from one call site here, so that the frames above the
     * scenario differ only where the scenario says. */
    static const struct { char outer; int other; } steps[] = {
        {'a', 0}, {'a', 0}, {'a', 0},   /* learnt; the same stack again */
        {'a', 1},                       /* a new call site on top */
        {'b', 1}, {'b', 1},             /* the caller of walk_from_here changed */
        {'a', 1}, {'a', 1},             /* and back */
    };
    enum { NSTEPS = sizeof steps / sizeof steps[0] };
    int reused[NSTEPS], nfast[NSTEPS], wrong[NSTEPS];
    struct walk w = {0};
    w.use_last = 1;
    for (int k = 0; k < NSTEPS; k++) {
        (steps[k].outer == 'a' ? outer_a : outer_b)(&w, steps[k].other);
        reused[k] = w.last.reused;
        nfast[k] = w.nfast;
        wrong[k] = w.wrong;
    }
    for (int k = 0; k < NSTEPS; k++)
        cr_assert_eq(wrong[k], 0, "step %d: frames differ from libunwind's", k);
    cr_assert_eq(w.unsafe, 0);
    int depth = nfast[0];
    cr_assert_geq(depth, 24, "only %d frames", depth);
    /* The same stack again: everything above its first frame is the last
     * walk's. */
    cr_assert_eq(reused[2], depth - 1, "reused %d of %d", reused[2], depth);
    /* A new call site on top: its two frames and the first frame the
     * walks share are walked, the rest is the last walk's. */
    cr_assert_eq(nfast[3], depth + 1);
    cr_assert_eq(reused[3], depth - 2, "reused %d", reused[3]);
    /* Same slots, but outer_b's return address where outer_a's was: the
     * last walk does not hold above it. */
    cr_assert_eq(reused[4], 0, "took %d frames of outer_a's walk", reused[4]);
    cr_assert_eq(reused[6], 0, "took %d frames of outer_b's walk", reused[6]);
    cr_assert_eq(reused[7], depth, "reused %d", reused[7]);
}

Test(trace_unwind_cfa, a_signal_frame_is_left_to_libunwind, .init = setup)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    for (int k = 0; k < 10; k++)
        raise(SIGUSR1);
    cr_assert_eq(sig_walk.wrong, 0, "%d frames differ from libunwind's", sig_walk.wrong);
    /* The walk goes through the signal trampoline, whose caller's frame
     * does not follow from its stack pointer: never walked. */
    cr_assert_eq(sig_walk.fast_ok, 0);
    cr_assert_eq(sig_walk.unsafe, 10);
}
