/* test_trace_unwind_cfa.c - the learnt-shape walker returns exactly
 * libunwind's frames, or says it cannot: through frames addressed from the
 * stack pointer, frames with alloca (addressed from rbp, their sp offset
 * changing from call to call), and a signal handler's frame. */
#include <criterion/criterion.h>

#include <alloca.h>
#include <signal.h>
#include <string.h>

#include "trace_unwind.h"

#define MAXF 48

struct walk {
    uintptr_t ref[MAXF + 16], fast[MAXF], slots[MAXF];
    int nref, nfast;
    int fast_ok, learnt, unsafe, wrong;
    int last_learnt;   /* frames learnt by the last walk */
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
    int m = sa_unwind_cfa_walk(ra, sp, rbp, w->fast, w->slots, MAXF, &learnt);
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
