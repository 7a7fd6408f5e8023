/* test_trace_unwind.c - both stack walkers behind sa_unwind_capture: the
 * first frame is the caller's, the next ones its callers', the depth limit
 * holds, and frames inside "our own" text range are stripped.  Built with
 * -fno-omit-frame-pointer -fno-inline so the call chain is exact. */
#include <criterion/criterion.h>

#include <pthread.h>

#include "snapalloc.h"
#include "trace/unwind.h"

#define MAXF 64

struct chain {
    uintptr_t frames[MAXF];
    int n;
    uintptr_t ret1;   /* return address of level1 (into level2) */
    uintptr_t ret2;   /* return address of level2 (into its caller) */
};

__attribute__((noinline)) static void level1(struct chain *c, int max)
{
    c->n = sa_unwind_capture(c->frames, max);
    c->ret1 = (uintptr_t)__builtin_return_address(0);
}

__attribute__((noinline)) static void level2(struct chain *c, int max)
{
    level1(c, max);
    c->ret2 = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");   /* no tail call */
}

static void check_chain(int backend)
{
    cr_assert_eq(sa_unwind_init(backend), 0);
    sa_unwind_set_self_range(0, 0);
    struct chain c = {0};
    level2(&c, MAXF);
    cr_assert_geq(c.n, 3, "only %d frames", c.n);
    cr_assert_geq(c.frames[0], (uintptr_t)level1, "frame 0 is not in level1");
    cr_assert_lt(c.frames[0], (uintptr_t)level1 + 256, "frame 0 is not in level1");
    cr_assert_eq(c.frames[1], c.ret1, "frame 1 is not level1's return address");
    cr_assert_eq(c.frames[2], c.ret2, "frame 2 is not level2's return address");
}

Test(trace_unwind, libunwind_chain) { check_chain(SA_UNWIND_LIBUNWIND); }
Test(trace_unwind, fp_chain) { check_chain(SA_UNWIND_FP); }

static void check_limit(int backend)
{
    cr_assert_eq(sa_unwind_init(backend), 0);
    sa_unwind_set_self_range(0, 0);
    struct chain c = {0};
    level2(&c, 2);
    cr_assert_eq(c.n, 2);
    cr_assert_eq(c.frames[1], c.ret1);
    level2(&c, 1);
    cr_assert_eq(c.n, 1);
    level2(&c, 0);
    cr_assert_eq(c.n, 0);
}

Test(trace_unwind, libunwind_limit) { check_limit(SA_UNWIND_LIBUNWIND); }
Test(trace_unwind, fp_limit) { check_limit(SA_UNWIND_FP); }

static void check_strip(int backend)
{
    cr_assert_eq(sa_unwind_init(backend), 0);
    /* Pretend level1 is snapalloc's own code: its frame must go.  At -O0
     * functions are laid out in source order: level1 ends where level2
     * starts. */
    cr_assert_lt((uintptr_t)level1, (uintptr_t)level2);
    sa_unwind_set_self_range((uintptr_t)level1, (uintptr_t)level2);
    struct chain c = {0};
    level2(&c, MAXF);
    sa_unwind_set_self_range(0, 0);
    cr_assert_geq(c.n, 2);
    cr_assert_eq(c.frames[0], c.ret1, "level1's frame was not stripped: %#lx %#lx (range %#lx-%#lx)", (unsigned long)c.frames[0], (unsigned long)c.ret1, (unsigned long)level1, (unsigned long)level2);
    cr_assert_eq(c.frames[1], c.ret2);
}

Test(trace_unwind, libunwind_strip) { check_strip(SA_UNWIND_LIBUNWIND); }
Test(trace_unwind, fp_strip) { check_strip(SA_UNWIND_FP); }

static int thread_backend;

static void *in_thread(void *arg)
{
    struct chain *c = arg;
    cr_assert_eq(sa_unwind_init(thread_backend), 0);
    level2(c, MAXF);
    return NULL;
}

static void check_thread(int backend)
{
    sa_unwind_set_self_range(0, 0);
    thread_backend = backend;
    struct chain c = {0};
    pthread_t t;
    pthread_create(&t, NULL, in_thread, &c);
    pthread_join(t, NULL);
    cr_assert_geq(c.n, 3);
    cr_assert_eq(c.frames[1], c.ret1);
    cr_assert_eq(c.frames[2], c.ret2);
}

Test(trace_unwind, libunwind_thread) { check_thread(SA_UNWIND_LIBUNWIND); }
Test(trace_unwind, fp_thread) { check_thread(SA_UNWIND_FP); }

/* The fp walker never leaves the thread's stack, however deep the
 * recursion, and stops at the depth asked. */
__attribute__((noinline)) static int deep(int d, uintptr_t *frames, int max)
{
    if (d == 0)
        return sa_unwind_capture(frames, max);
    int n = deep(d - 1, frames, max);
    __asm__ volatile("" ::: "memory");
    return n;
}

Test(trace_unwind, fp_deep)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_FP), 0);
    sa_unwind_set_self_range(0, 0);
    uintptr_t f[SNAPALLOC_MAX_FRAMES];
    cr_assert_eq(deep(200, f, SNAPALLOC_MAX_FRAMES), SNAPALLOC_MAX_FRAMES);
    cr_assert_eq(f[1], f[2], "recursive frames share a return address");
    cr_assert_eq(deep(10, f, 5), 5);
}

Test(trace_unwind, libunwind_deep)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
    sa_unwind_set_self_range(0, 0);
    uintptr_t f[SNAPALLOC_MAX_FRAMES];
    cr_assert_eq(deep(200, f, SNAPALLOC_MAX_FRAMES), SNAPALLOC_MAX_FRAMES);
    cr_assert_eq(f[1], f[2]);
}

/* The fp walk from an entry point's frame (the unwind cache's input):
 * the frames sa_unwind_capture gives from there, each with the stack slot
 * it was read from.  entry() plays malloc's traced path: its own frame is
 * the walk's start, so its return address comes first. */
struct walked {
    uintptr_t frames[MAXF], slots[MAXF], captured[MAXF];
    uintptr_t held[MAXF];   /* what each slot held while the frames lived */
    int n, ncaptured;
};

__attribute__((noinline)) static void entry(struct walked *w, int max)
{
    w->n = sa_unwind_fp_walk(__builtin_frame_address(0), w->frames, w->slots, max);
    for (int i = 0; i < w->n; i++)
        w->held[i] = *(const uintptr_t *)w->slots[i];
    w->ncaptured = sa_unwind_capture(w->captured, max + 1);
    __asm__ volatile("" ::: "memory");   /* no tail call */
}

__attribute__((noinline)) static void caller(struct walked *w, int max)
{
    entry(w, max);
    __asm__ volatile("" ::: "memory");
}

Test(trace_unwind, fp_walk_slots)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_FP), 0);
    sa_unwind_set_self_range(0, 0);
    struct walked w = {0};
    caller(&w, MAXF);
    cr_assert_geq(w.n, 3, "only %d frames", w.n);
    /* capture() starts inside entry(); the walk starts at entry's
     * return address, capture's second frame. */
    cr_assert_eq(w.ncaptured, w.n + 1);
    for (int i = 0; i < w.n; i++) {
        cr_assert_eq(w.frames[i], w.captured[i + 1], "frame %d differs from capture's", i);
        cr_assert_eq(w.held[i], w.frames[i], "slot %d does not hold frame %d", i, i);
        if (i)
            cr_assert_gt(w.slots[i], w.slots[i - 1], "slots grow outwards");
    }
    caller(&w, 2);
    cr_assert_eq(w.n, 2, "the limit holds");
}
