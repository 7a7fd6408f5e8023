/* test_trace_stack.c - the interned stack table: identity, recounted
 * totals, generations, growth, iteration and the per-thread caches of the
 * traced current. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <string.h>

#include "snapalloc.h"
#include "trace/stack.h"

static void fill(uintptr_t *f, int n, uintptr_t seed)
{
    for (int i = 0; i < n; i++)
        f[i] = 0x400000 + seed * 131 + (uintptr_t)i * 8;
}

/* A recount finding n live blocks of size bytes from stack id. */
static void count(uint32_t id, uint64_t size, int n)
{
    sa_stack *s = sa_stack_get(id);
    cr_assert_not_null(s, "id %#x is current", id);
    for (int i = 0; i < n; i++)
        sa_stack_count_block(s, size);
}

/* A new recount that finds one block of size bytes from id: the stack
 * iteration then yields that stack alone, with those totals. */
static sa_snap_wstack recount_single(uint32_t id, uint64_t size)
{
    sa_stack_clear_totals();
    count(id, size, 1);
    uint32_t cursor = 0;
    sa_snap_wstack w, other;
    cr_assert_eq(sa_stack_next(&cursor, &w), 1);
    cr_assert_eq(w.size, size);
    cr_assert_eq(w.count, 1);
    cr_assert_eq(sa_stack_next(&cursor, &other), 0, "the other stacks' totals were cleared");
    return w;
}

Test(trace_stack, same_frames_same_id)
{
    sa_stack_reset();
    uintptr_t a[10], b[10];
    fill(a, 10, 1);
    memcpy(b, a, sizeof a);
    uint32_t ia = sa_stack_intern(a, 10), ib = sa_stack_intern(b, 10);
    cr_assert_neq(ia, 0);
    cr_assert_eq(ia, ib);
    cr_assert_eq(sa_stack_count(), 1);
    cr_assert_eq(SA_STACK_GEN(ia), sa_stack_generation());
    sa_stack *s = sa_stack_get(ia);
    cr_assert_not_null(s);
    cr_assert_eq(s->nframes, 10);
    cr_assert_eq(memcmp(s->frames, a, sizeof a), 0);
    cr_assert_neq(s->frames, a, "the table keeps its own copy");
}

Test(trace_stack, different_frames_different_ids)
{
    sa_stack_reset();
    uintptr_t a[10], b[10];
    fill(a, 10, 1);
    memcpy(b, a, sizeof a);
    b[9]++;
    uint32_t ia = sa_stack_intern(a, 10);
    uint32_t ib = sa_stack_intern(b, 10);
    uint32_t ic = sa_stack_intern(a, 9);   /* a prefix is another stack */
    uint32_t id0 = sa_stack_intern(a, 0);  /* the empty stack is a stack */
    cr_assert_neq(ia, ib);
    cr_assert_neq(ia, ic);
    cr_assert_neq(ib, ic);
    cr_assert_neq(id0, 0);
    cr_assert_neq(id0, ia);
    cr_assert_eq(sa_stack_count(), 4);
    cr_assert_eq(sa_stack_get(id0)->nframes, 0);
}

Test(trace_stack, depth_is_capped)
{
    sa_stack_reset();
    uintptr_t f[SNAPALLOC_MAX_FRAMES + 10];
    fill(f, SNAPALLOC_MAX_FRAMES + 10, 5);
    uint32_t id = sa_stack_intern(f, SNAPALLOC_MAX_FRAMES + 10);
    cr_assert_eq(sa_stack_get(id)->nframes, SNAPALLOC_MAX_FRAMES);
    cr_assert_eq(sa_stack_intern(f, SNAPALLOC_MAX_FRAMES), id);
}

Test(trace_stack, counters_and_iteration)
{
    sa_stack_reset();
    uintptr_t a[3], b[4], c[5];
    fill(a, 3, 1);
    fill(b, 4, 2);
    fill(c, 5, 3);
    uint32_t ia = sa_stack_intern(a, 3), ib = sa_stack_intern(b, 4), ic = sa_stack_intern(c, 5);
    (void)ic;   /* no live block */
    count(ia, 64, 100);
    count(ib, 4096, 10);

    uint32_t cursor = 0;
    sa_snap_wstack w;
    cr_assert_eq(sa_stack_next(&cursor, &w), 1);
    cr_assert_eq(w.nframes, 3);
    cr_assert_eq(w.size, 6400);
    cr_assert_eq(w.count, 100);
    cr_assert_eq(w.frames[2], a[2]);
    cr_assert_eq(sa_stack_next(&cursor, &w), 1);
    cr_assert_eq(w.nframes, 4);
    cr_assert_eq(w.size, 40960);
    cr_assert_eq(w.count, 10);
    cr_assert_eq(sa_stack_next(&cursor, &w), 0, "stacks without live blocks are skipped");

    /* The next recount starts from zero. */
    cr_assert_eq(recount_single(ib, 8).nframes, 4);
}

/* Each thread has its own cache of the traced current; an exited
 * thread's pending change is folded into the total and its cache is
 * reused. */
static void *pend(void *arg)
{
    sa_stack_tc *c = sa_stack_tc_get();
    cr_assert_not_null(c);
    cr_assert_eq(sa_stack_tc_get(), c, "one cache per thread");
    *(sa_stack_tc **)arg = c;
    c->current_gen = (uint8_t)sa_stack_generation();
    c->current = 1000;
    return NULL;
}

Test(trace_stack, thread_caches_of_the_current)
{
    sa_stack_reset();
    uint8_t gen = (uint8_t)sa_stack_generation();
    sa_stack_tc *mine = sa_stack_tc_get();
    cr_assert_not_null(mine);
    mine->current_gen = gen;
    mine->current = 24;
    cr_assert_eq(sa_stack_pending_current(gen), 24);
    cr_assert_eq(sa_stack_pending_current((uint8_t)(gen + 1)), 0, "other generations' changes are not summed");

    sa_stack_tc *theirs = NULL;
    pthread_t t;
    pthread_create(&t, NULL, pend, &theirs);
    pthread_join(t, NULL);
    cr_assert_neq(theirs, mine);
    cr_assert_eq(theirs->current, 0, "folded at thread exit");
    cr_assert_eq(sa_stack_pending_current(gen), 24);

    sa_stack_tc *again = NULL;
    pthread_create(&t, NULL, pend, &again);
    pthread_join(t, NULL);
    cr_assert_eq(again, theirs, "an exited thread's cache is reused");
    mine->current = 0;
}

Test(trace_stack, generation_invalidates)
{
    sa_stack_reset();
    uintptr_t a[4];
    fill(a, 4, 9);
    uint32_t old = sa_stack_intern(a, 4);
    count(old, 10, 1);
    uint32_t gen = sa_stack_generation();
    sa_stack_reset();
    cr_assert_neq(sa_stack_generation(), gen);
    cr_assert_null(sa_stack_get(old), "ids of an older generation are refused");
    cr_assert_eq(sa_stack_count(), 0);
    uint32_t cursor = 0;
    sa_snap_wstack w;
    cr_assert_eq(sa_stack_next(&cursor, &w), 0, "nothing live after a reset");
    uint32_t fresh = sa_stack_intern(a, 4);
    cr_assert_neq(fresh, old);
    cr_assert_eq(SA_STACK_GEN(fresh), sa_stack_generation());
    cr_assert_eq(sa_stack_get(fresh)->count, 0, "counters start from zero");
    cr_assert_null(sa_stack_get(0));
    cr_assert_null(sa_stack_get(fresh + 1), "beyond the last stack");
    /* The fresh stack reuses the old one's record: its recount starts
     * from zero, not from the old generation's totals. */
    recount_single(fresh, 5);
}

Test(trace_stack, generation_wraps_without_zero)
{
    for (int i = 0; i < 600; i++) {
        sa_stack_reset();
        cr_assert_neq(sa_stack_generation(), 0);
    }
}

Test(trace_stack, growth_100k)
{
    sa_stack_reset();
    enum { N = 100000, DEPTH = 6 };
    static uint32_t ids[N];
    uintptr_t f[DEPTH];
    size_t before = sa_stack_mapped_bytes();
    for (int i = 0; i < N; i++) {
        fill(f, DEPTH, (uintptr_t)i);
        f[0] = (uintptr_t)i;   /* distinct */
        ids[i] = sa_stack_intern(f, DEPTH);
        cr_assert_neq(ids[i], 0);
        count(ids[i], (uint64_t)i, 1);
    }
    cr_assert_eq(sa_stack_count(), N);
    for (int i = 0; i < N; i++) {
        fill(f, DEPTH, (uintptr_t)i);
        f[0] = (uintptr_t)i;
        cr_assert_eq(sa_stack_intern(f, DEPTH), ids[i], "stack %d moved", i);
    }
    cr_assert_eq(sa_stack_count(), N, "no duplicates after growth");
    uint32_t cursor = 0;
    sa_snap_wstack w;
    uint64_t total = 0, count = 0;
    while (sa_stack_next(&cursor, &w)) {
        total += w.size;
        count += w.count;
    }
    cr_assert_eq(count, N);
    cr_assert_eq(total, (uint64_t)N * (N - 1) / 2);
    cr_assert_gt(sa_stack_mapped_bytes(), before);
}

/* Threads interning the same and different stacks concurrently; the
 * ids of the shared ones are counted afterwards. */
static uint32_t shared_ids[4][20000];

static void *intern_worker(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    uintptr_t f[8];
    for (int i = 0; i < 20000; i++) {
        fill(f, 8, (uintptr_t)(i % 5000));   /* shared by all threads */
        shared_ids[seed][i] = sa_stack_intern(f, 8);
        fill(f, 8, 100000 + seed * 100000 + (uintptr_t)i);   /* private */
        sa_stack_intern(f, 8);
    }
    return NULL;
}

Test(trace_stack, concurrent)
{
    sa_stack_reset();
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, intern_worker, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(sa_stack_count(), 5000 + 4 * 20000);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 20000; i++) {
            cr_assert_eq(shared_ids[k][i], shared_ids[0][i % 5000], "one id per stack");
            count(shared_ids[k][i], 1, 1);
        }
    uint32_t cursor = 0;
    sa_snap_wstack w;
    uint64_t n = 0, count = 0;
    while (sa_stack_next(&cursor, &w)) {
        n++;
        count += w.count;
        cr_assert_eq(w.count, 16, "each shared stack is counted 4 threads x 4 times");
    }
    cr_assert_eq(n, 5000);
    cr_assert_eq(count, 80000);
}
