/* test_trace_api.c - the tracing API and the recording hooks, driven
 * directly on the core allocator (sa_malloc + sa_trace_alloc, as
 * override.c does), with snapshots read back by the reader. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc/alloc_inline.h"
#include "alloc/alloc.h"
#include "snapalloc.h"
#include "format/snapshot.h"
#include "alloc/pagemap.h"
#include "alloc/heap.h"
#include "trace/budget.h"
#include "trace/config.h"
#include "trace/sample.h"
#include "trace/trace.h"

static void *t_malloc(size_t n)
{
    void *p = sa_malloc(n);
    if (sa_trace_on && p)
        sa_trace_alloc(p, n);
    return p;
}

static void t_free(void *p)
{
    if (sa_trace_on && p)
        sa_trace_free(p);
    sa_free(p);
}

static void cleanup(void)
{
    snapalloc_stop();
}

TestSuite(trace_api, .fini = cleanup);

Test(trace_api, start_stop_limits)
{
    cr_assert_eq(snapalloc_is_tracing(), 0);
    cr_assert_eq(snapalloc_get_traceback_limit(), 0);
    cr_assert_eq(snapalloc_start(-1), -EINVAL);
    cr_assert_eq(snapalloc_start(SNAPALLOC_MAX_FRAMES + 1), -EINVAL);
    cr_assert_eq(snapalloc_is_tracing(), 0);
    cr_assert_eq(snapalloc_start(0), 0);
    cr_assert_eq(snapalloc_is_tracing(), 1);
    cr_assert_eq(snapalloc_get_traceback_limit(), SA_TRACE_DEFAULT_FRAMES);
    cr_assert_eq(snapalloc_start(5), 0, "start while tracing changes the limit");
    cr_assert_eq(snapalloc_get_traceback_limit(), 5);
    cr_assert_eq(snapalloc_start(SNAPALLOC_MAX_FRAMES), 0);
    cr_assert_eq(snapalloc_get_traceback_limit(), SNAPALLOC_MAX_FRAMES);
    snapalloc_stop();
    cr_assert_eq(snapalloc_is_tracing(), 0);
    cr_assert_eq(snapalloc_get_traceback_limit(), 0);
    snapalloc_stop();   /* twice is fine */
    size_t cur = 1, peak = 1;
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 0);
    cr_assert_eq(peak, 0);
    snapalloc_get_traced_memory(NULL, NULL);
}

Test(trace_api, current_and_peak)
{
    cr_assert_eq(snapalloc_start(8), 0);
    size_t cur, peak;
    void *a = t_malloc(100);
    void *b = t_malloc(1000);
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 1100);
    cr_assert_eq(peak, 1100);
    t_free(b);
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 100);
    cr_assert_eq(peak, 1100);
    snapalloc_reset_peak();
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(peak, 100);
    void *c = sa_calloc(3, 10);
    sa_trace_alloc(c, 30);
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 130);
    cr_assert_eq(peak, 130);
    t_free(a);
    t_free(c);
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 0);
    cr_assert_eq(peak, 130);
}

Test(trace_api, realloc_detach_reattach)
{
    cr_assert_eq(snapalloc_start(8), 0);
    size_t cur;
    void *p = t_malloc(200);
    sa_tag r = sa_trace_detach(p);
    cr_assert_neq(r.id, 0);
    cr_assert_eq(r.size, 200);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0, "detached: not counted");
    sa_trace_reattach(p, r);   /* the realloc failed */
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 200);
    r = sa_trace_detach(p);
    void *q = sa_realloc(p, 5000);
    sa_trace_alloc(q, 5000);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 5000);
    t_free(q);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0);
}

__attribute__((noinline)) static void *alloc_here(size_t n, uintptr_t *ret)
{
    void *p = t_malloc(n);
    *ret = (uintptr_t)__builtin_return_address(0);
    return p;
}

Test(trace_api, object_traceback)
{
    cr_assert_eq(snapalloc_start(16), 0);
    uintptr_t ret = 0;
    void *p = alloc_here(48, &ret);
    void *frames[16];
    int n = snapalloc_get_object_traceback(p, frames, 16);
    /* In this test the core is linked into the program, so nothing is
     * stripped beyond the capture itself: sa_trace_alloc, t_malloc,
     * alloc_here, then this test function. */
    cr_assert_geq(n, 4);
    cr_assert_lt(n, 17);
    cr_assert_eq((uintptr_t)frames[3], ret, "frame 3 is not alloc_here's return address");
    cr_assert_eq(snapalloc_get_object_traceback(p, frames, 2), 2, "max is respected");
    cr_assert_eq(snapalloc_get_object_traceback(p, frames, 0), 0);
    cr_assert_eq(snapalloc_get_object_traceback(NULL, frames, 16), 0);
    int local;
    cr_assert_eq(snapalloc_get_object_traceback(&local, frames, 16), 0, "not our block");
    cr_assert_eq(snapalloc_get_object_traceback((char *)p + 16, frames, 16), 0, "not a block start");
    t_free(p);
    cr_assert_eq(snapalloc_get_object_traceback(p, frames, 16), 0, "freed");
    cr_assert_eq(snapalloc_start(2), 0);
    void *q = alloc_here(48, &ret);
    cr_assert_eq(snapalloc_get_object_traceback(q, frames, 16), 2, "the limit applies to new blocks");
    t_free(q);
}

Test(trace_api, clear_and_generations)
{
    cr_assert_eq(snapalloc_start(8), 0);
    size_t cur, peak;
    void *old = t_malloc(700);
    snapalloc_clear_traces();
    snapalloc_get_traced_memory(&cur, &peak);
    cr_assert_eq(cur, 0);
    cr_assert_eq(peak, 0);
    void *frames[8];
    cr_assert_eq(snapalloc_get_object_traceback(old, frames, 8), 0, "cleared");
    void *fresh = t_malloc(30);
    t_free(old);   /* an old-generation block: ignored */
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 30);
    snapalloc_stop();
    /* Freed while not tracing: the record stays, but its generation is old. */
    t_free(fresh);
    void *again = t_malloc(30);
    cr_assert_eq(snapalloc_start(8), 0);
    t_free(again);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0);
}

Test(trace_api, guard_means_untraced)
{
    cr_assert_eq(snapalloc_start(8), 0);
    int g = sa_trace_guard_enter();
    void *p = t_malloc(64);
    sa_trace_guard_leave(g);
    size_t cur;
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0);
    void *frames[8];
    cr_assert_eq(snapalloc_get_object_traceback(p, frames, 8), 0);
    t_free(p);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0);
}

Test(trace_api, tracer_memory_and_baseline)
{
    cr_assert_eq(sa_trace_baseline(NULL, NULL), 0);
    cr_assert_eq(snapalloc_start(8), 0);
    void *p = t_malloc(64);
    void *q = t_malloc(64);
    cr_assert_gt(snapalloc_get_tracemalloc_memory(), 0);
    snapalloc_mark_baseline();
    uint64_t size = 0, count = 0;
    cr_assert_eq(sa_trace_baseline(&size, &count), 1);
    cr_assert_eq(size, 128);
    cr_assert_eq(count, 2);
    t_free(p);
    t_free(q);
}

/* The traced fast paths find a block's record through the page map
 * (sa_tag_slot_ready, sa_trace_free_block): the same record as the
 * pool descriptor gives, in one-page pools and on every page of a
 * multi-page run, and none once the pool went back to its arena. */
Test(trace_api, page_map_finds_the_pool_records)
{
    cr_assert_eq(snapalloc_start(8), 0);
    static const size_t sizes[] = { 16, 100, 512, 600, 5000, 20000, 65536 };
    enum { N = 40 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *p[N];
        size_t before;
        snapalloc_get_traced_memory(&before, NULL);
        for (int i = 0; i < N; i++) {
            p[i] = t_malloc(sizes[k]);
            cr_assert_not_null(p[i]);
            sa_tag *rec = sa_tag_slot(p[i], 0);
            cr_assert_not_null(rec, "size %zu block %d has a record", sizes[k], i);
            cr_assert_eq(sa_tag_slot_ready(p[i]), rec, "size %zu block %d", sizes[k], i);
            cr_assert_eq(rec->size, sizes[k]);
            cr_assert_neq(rec->id, 0);
        }
        size_t cur;
        snapalloc_get_traced_memory(&cur, NULL);
        cr_assert_eq(cur - before, N * sizes[k], "size %zu: %zu -> %zu", sizes[k], before, cur);
        /* free() while tracing, as override.c calls it: each record forgotten. */
        for (int i = 0; i < N; i++) {
            sa_tag *rec = sa_tag_slot(p[i], 0);
            sa_trace_free_block(p[i]);
            if (sa_tag_slot(p[i], 0) == rec)   /* the pool is still there */
                cr_assert_eq(rec->id, 0, "size %zu block %d forgotten", sizes[k], i);
        }
        snapalloc_get_traced_memory(&cur, NULL);
        cr_assert_eq(cur, before, "size %zu: %zu -> %zu", sizes[k], before, cur);
    }
}

/* The page of a recorded block (trace/sample.h, alloc/pagemap.h). */
static int page_marked(const void *p)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    unsigned pe = leaf ? sa_pagemap_page_get(leaf, p) : 0;
    return pe != 0 && sa_pagemap_page_is_slow(pe);
}

static int recorded(const void *p)
{
    sa_tag *rec = sa_tag_slot(p, 0);
    return rec && rec->id;
}

enum { MARK_N = 20000 };
static void *mark_blocks[MARK_N];

static void *free_odd_recorded(void *arg)
{
    (void)arg;
    for (int i = 1; i < MARK_N; i += 2)
        if (recorded(mark_blocks[i]))
            sa_free(mark_blocks[i]);   /* free()'s own path: no tracer call */
    return NULL;
}

/* Sampled tracing: free() leaves the tracer out (sa_trace_free_on 0) and
 * finds a recorded block by its page's mark; every page that holds a
 * recorded block is marked, the mark goes with the page's last record,
 * and the traced current comes back to 0 whoever frees the blocks. */
Test(trace_api, sampled_records_mark_their_pages)
{
    sa_sample_set_seed(11);
    void *warm = sa_malloc(16);   /* this thread's heap, its budget idle */
    sa_budget_arm();
    cr_assert_eq(sa_tls_heap->budget, SA_BUDGET_IDLE);
    cr_assert_eq(snapalloc_start_sampled(8, 4096), 0);
    cr_assert_eq(sa_tls_heap->budget, 0, "starting to sample zeroes malloc's budget");
    sa_free(warm);
    cr_assert_eq(sa_trace_free_on, 0);
    cr_assert_eq(sa_trace_malloc_all, 0);   /* malloc spends its budget (trace/budget.h) */
    int nrec = 0;
    for (int i = 0; i < MARK_N; i++) {
        mark_blocks[i] = t_malloc(i % 3 ? 48 : 1000);
        cr_assert_not_null(mark_blocks[i]);
        nrec += recorded(mark_blocks[i]);
    }
    /* p = 1 - exp(-48/4096) and 1 - exp(-1000/4096): about 1,500 of them. */
    cr_assert(nrec > 1000 && nrec < 2200, "recorded %d", nrec);
    size_t cur;
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_gt(cur, 0);
    int marked_pages_unrecorded = 0;
    for (int i = 0; i < MARK_N; i++) {
        if (recorded(mark_blocks[i]))
            cr_assert(page_marked(mark_blocks[i]), "block %d recorded, page unmarked", i);
        else
            marked_pages_unrecorded += page_marked(mark_blocks[i]);
    }
    cr_assert_gt(marked_pages_unrecorded, 0, "unrecorded neighbours share marked pages");
    /* The unrecorded ones first (some through the slow free), but for
     * one in 7, which keeps its pool from being returned (that would
     * clear the marks too): the marks stay. */
    static char kept[MARK_N];
    int kept_in_marked = 0;
    for (int i = 0; i < MARK_N; i++) {
        if (recorded(mark_blocks[i]))
            continue;
        if (i % 7 == 0) {
            kept[i] = 1;
            kept_in_marked += page_marked(mark_blocks[i]);
        } else {
            sa_free(mark_blocks[i]);
        }
    }
    cr_assert_gt(kept_in_marked, 10);
    for (int i = 0; i < MARK_N; i++)
        if (recorded(mark_blocks[i]))
            cr_assert(page_marked(mark_blocks[i]), "block %d lost its page's mark", i);
    /* Half the records from another thread, the rest here. */
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, free_odd_recorded, NULL), 0);
    pthread_join(t, NULL);
    for (int i = 0; i < MARK_N; i += 2)
        if (recorded(mark_blocks[i]))
            sa_free(mark_blocks[i]);
    snapalloc_get_traced_memory(&cur, NULL);
    cr_assert_eq(cur, 0, "traced current %zu after every free", cur);
    for (int i = 0; i < MARK_N; i++)
        if (kept[i])
            cr_assert(!page_marked(mark_blocks[i]), "block %d's page still marked", i);
    for (int i = 0; i < MARK_N; i++)
        if (kept[i])
            sa_free(mark_blocks[i]);
    /* Full tracing again: free() calls the tracer for every block. */
    cr_assert_eq(snapalloc_start_sampled(8, 0), 0);
    cr_assert_eq(sa_trace_free_on, 1);
    cr_assert_eq(sa_trace_malloc_all, 1);
}

/* Record arrays are tracer memory while their pool lives, not after. */
Test(trace_api, tracer_memory_gives_back_returned_pools)
{
    cr_assert_eq(snapalloc_start(8), 0);
    enum { N = 400 };   /* blocks of 4096: a one-block pool each */
    void *p[N];
    p[0] = t_malloc(4096);   /* maps the stack table, interns the stack */
    size_t before = snapalloc_get_tracemalloc_memory();
    for (int i = 1; i < N; i++)
        cr_assert_not_null(p[i] = t_malloc(4096));
    size_t during = snapalloc_get_tracemalloc_memory();
    cr_assert_eq(during - before, (N - 1) * sizeof(sa_tag),
                 "one record array of one record per new pool");
    for (int i = 0; i < N; i++)
        sa_trace_free_block(p[i]);
    sa_heap_flush_cache();   /* the thread cache's blocks back to their pools */
    size_t after = snapalloc_get_tracemalloc_memory();
    /* Every pool but the class's last went back to its arena. */
    cr_assert_eq(during - after, (N - 1) * sizeof(sa_tag), "%zu -> %zu -> %zu",
                 before, during, after);
    /* The pages go to pools of another class, untraced: no record array
     * of the old pools may be found for their blocks. */
    snapalloc_stop();
    for (int i = 0; i < N * 20; i++) {
        void *q = sa_malloc(48);
        cr_assert_null(sa_tag_slot_ready(q), "block %d at %p", i, q);
    }
}

/* ---- Snapshots ---------------------------------------------------------- */

static char dir[] = "/tmp/sa-trace-api.XXXXXX";

static void mkdir_tmp(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    snapalloc_stop();
}

static sa_snapshot *read_snap(const char *path)
{
    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s: %s", path, err);
    return s;
}

__attribute__((noinline)) static void *site_small(void) { return t_malloc(64); }
__attribute__((noinline)) static void *site_page(void) { return t_malloc(4096); }
__attribute__((noinline)) static void *site_big(void) { return t_malloc(1 << 20); }

TestSuite(trace_snap, .init = mkdir_tmp, .fini = rm_tmp);

Test(trace_snap, exact_groups)
{
    cr_assert_eq(snapalloc_start(8), 0);
    void *small[100], *page[10], *big;
    for (int i = 0; i < 100; i++)
        small[i] = site_small();
    for (int i = 0; i < 10; i++)
        page[i] = site_page();
    big = site_big();
    void *gone = site_big();
    t_free(gone);
    char path[128];
    snprintf(path, sizeof path, "%s/a.snap", dir);
    cr_assert_eq(snapalloc_take_snapshot(path), 0);
    sa_snapshot *s = read_snap(path);
    cr_assert_eq(s->frame_limit, 8);
    cr_assert_eq(s->trigger, SA_SNAP_TRIGGER_API);
    cr_assert_eq(s->pid, (uint32_t)getpid());
    cr_assert_eq(s->nstacks, 3);
    uint64_t want_size[3] = {6400, 40960, 1 << 20}, want_count[3] = {100, 10, 1};
    int seen[3] = {0};
    for (uint32_t i = 0; i < s->nstacks; i++) {
        for (int k = 0; k < 3; k++)
            if (s->stacks[i].size == want_size[k] && s->stacks[i].count == want_count[k])
                seen[k]++;
        cr_assert_eq(s->stacks[i].nframes, 8);
    }
    cr_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "groups %d %d %d", seen[0], seen[1], seen[2]);
    cr_assert_eq(s->total_size, 6400 + 40960 + (1 << 20));
    cr_assert_eq(s->total_count, 111);
    cr_assert_eq(s->traced_current, 6400 + 40960 + (1 << 20));
    cr_assert_eq(s->traced_peak, 6400 + 40960 + 2 * (1 << 20));
    sa_snapshot_free(s);
    for (int i = 0; i < 100; i++)
        t_free(small[i]);
    for (int i = 0; i < 10; i++)
        t_free(page[i]);
    t_free(big);
}

Test(trace_snap, errors)
{
    char path[128];
    snprintf(path, sizeof path, "%s/x.snap", dir);
    cr_assert_eq(snapalloc_take_snapshot(path), -EINVAL, "not tracing");
    cr_assert_eq(access(path, F_OK), -1);
    cr_assert_eq(snapalloc_start(4), 0);
    snprintf(path, sizeof path, "%s/missing/x.snap", dir);
    cr_assert_eq(snapalloc_take_snapshot(path), -ENOENT);
}

Test(trace_snap, template_and_sequence)
{
    snprintf(sa_trace_cfg.tmpl, sizeof sa_trace_cfg.tmpl, "%s/t.%%e.%%p.%%n.snap", dir);
    cr_assert_eq(snapalloc_start(4), 0);
    void *p = t_malloc(10);
    char exp[256];
    cr_assert_eq(snapalloc_take_snapshot(NULL), 0);
    cr_assert_eq(snapalloc_take_snapshot(NULL), 0);
    snprintf(exp, sizeof exp, "%s/t.test_trace_api.%d.2.snap", dir, (int)getpid());
    sa_snapshot *s = read_snap(exp);
    cr_assert_eq(s->sequence, 2);
    cr_assert_eq(s->total_size, 10);
    sa_snapshot_free(s);
    snprintf(exp, sizeof exp, "%s/t.test_trace_api.%d.1.snap", dir, (int)getpid());
    cr_assert_eq(access(exp, F_OK), 0);
    t_free(p);
}

Test(trace_snap, peak_trigger)
{
    snprintf(sa_trace_cfg.tmpl, sizeof sa_trace_cfg.tmpl, "%s/peak.%%n.snap", dir);
    sa_trace_cfg.peak_step = 1000;
    cr_assert_eq(snapalloc_start(4), 0);
    char path[128];
    void *a = t_malloc(600);
    snprintf(path, sizeof path, "%s/peak.1.snap", dir);
    cr_assert_eq(access(path, F_OK), -1, "600 < 1000: no snapshot yet");
    void *b = t_malloc(600);            /* 1200 >= 1000 */
    sa_snapshot *s = read_snap(path);
    cr_assert_eq(s->trigger, SA_SNAP_TRIGGER_PEAK);
    cr_assert_eq(s->traced_current, 1200);
    cr_assert_eq(s->total_size, 1200);
    sa_snapshot_free(s);
    t_free(b);                          /* 600 */
    void *c = t_malloc(1500);           /* 2100 < 1200 + 1000 */
    snprintf(path, sizeof path, "%s/peak.2.snap", dir);
    cr_assert_eq(access(path, F_OK), -1, "2100 < 2200: no snapshot");
    void *d = t_malloc(100);            /* 2200 */
    s = read_snap(path);
    cr_assert_eq(s->traced_current, 2200);
    cr_assert_eq(s->total_count, 3);
    sa_snapshot_free(s);
    t_free(a);
    t_free(c);
    t_free(d);
    sa_trace_cfg.peak_step = 0;
}
