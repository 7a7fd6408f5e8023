/* Arenas: pools are carved fullest-arena-first, multi-page runs are found,
 * wholly free arenas go back to the OS except one spare, and dirty pages
 * are reused first (in any arena) and discarded when idle or old. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "alloc/arena.h"
#include "alloc/alloc.h"
#include "alloc/pagemap.h"
#include "resident.h"
#include "alloc/sizeclass.h"

static void setup(void) { sa_init(); }
TestSuite(arena, .init = setup);

static sa_arena_counts counts(void)
{
    sa_arena_counts c;
    sa_arena_get_counts(&c);
    return c;
}

Test(arena, one_page_pools_fill_an_arena_before_the_next)
{
    sa_pool *pools[64];
    for (int i = 0; i < 63; i++) {
        pools[i] = sa_arena_take_pool(0, 0);
        cr_assert_not_null(pools[i]);
        cr_assert_eq(sa_pool_arena(pools[i]), sa_pool_arena(pools[0]));
        cr_assert_eq(pools[i]->state, SA_POOL_USED);
        cr_assert_eq(pools[i]->limit, 4096);
    }
    cr_assert_eq(counts().current, 1);
    cr_assert_eq(sa_pool_arena(pools[0])->nfree, 0);
    pools[63] = sa_arena_take_pool(0, 0);
    cr_assert_neq(sa_pool_arena(pools[63]), sa_pool_arena(pools[0]));
    cr_assert_eq(counts().current, 2);
    cr_assert_eq(counts().allocated_total, 2);
    /* The page map knows both arenas, and pool bases are distinct pages. */
    cr_assert_eq(sa_pagemap_get(sa_pool_base(pools[5])) & SA_PM_TAG, SA_PM_ARENA);
    cr_assert_eq(sa_pool_base(pools[1]) - sa_pool_base(pools[0]), 4096);
}

Test(arena, fullest_arena_is_used_first)
{
    sa_pool *a[63], *b[63];
    for (int i = 0; i < 63; i++)
        a[i] = sa_arena_take_pool(0, 0);
    for (int i = 0; i < 63; i++)
        b[i] = sa_arena_take_pool(0, 0);
    /* Arena A keeps 10 free pages, arena B 50: A is fuller. */
    for (int i = 0; i < 10; i++)
        sa_arena_return_pool(a[i]);
    for (int i = 0; i < 50; i++)
        sa_arena_return_pool(b[i]);
    for (int i = 0; i < 10; i++) {
        sa_pool *p = sa_arena_take_pool(3, 0);
        cr_assert_eq(sa_pool_arena(p), sa_pool_arena(a[20]), "pool %d came from the emptier arena", i);
    }
    sa_pool *p = sa_arena_take_pool(3, 0);
    cr_assert_eq(sa_pool_arena(p), sa_pool_arena(b[60]));
}

Test(arena, multi_page_runs)
{
    unsigned cls = sa_size_class(65536);
    cr_assert_eq(sa_classes[cls].pages, 16);
    sa_pool *p[4];
    for (int i = 0; i < 3; i++) {
        p[i] = sa_arena_take_pool(cls, 0);
        cr_assert_eq(sa_pool_arena(p[i]), sa_pool_arena(p[0]));
    }
    sa_arena *ar = sa_pool_arena(p[0]);
    cr_assert_eq(ar->nfree, 63 - 48);
    for (int i = 0; i < 3; i++) {
        unsigned first = (unsigned)(p[i] - ar->pools);
        for (unsigned k = 0; k < 16; k++)
            cr_assert_eq(ar->run_start[first + k], first);
    }
    p[3] = sa_arena_take_pool(cls, 0);   /* 15 pages left: does not fit */
    cr_assert_neq(sa_pool_arena(p[3]), ar);
    sa_arena_return_pool(p[1]);        /* a 16-page hole in the middle */
    sa_pool *q = sa_arena_take_pool(cls, 0);
    cr_assert_eq(q, p[1]);
}

/* An arena found too fragmented for a run is skipped by later searches,
 * until pages are freed in it. */
Test(arena, a_fragmented_arena_gets_runs_again_when_pages_are_freed)
{
    unsigned two = 0;
    while (two < SA_NCLASSES && sa_classes[two].pages != 2)
        two++;
    cr_assert_lt(two, SA_NCLASSES, "no two-page class");
    sa_pool *p[63];
    for (int i = 0; i < 63; i++)
        p[i] = sa_arena_take_pool(0, 0);
    sa_arena *a = sa_pool_arena(p[0]);
    /* Every other pool back: 31 or so free pages, no two adjacent (the
     * header page sits somewhere among them). */
    for (int i = 0; i < 63; i += 2)
        sa_arena_return_pool(p[i]);
    cr_assert_geq(a->nfree, 31);
    sa_pool *q = sa_arena_take_pool(two, 0);
    cr_assert_neq(sa_pool_arena(q), a, "a run where there is none");
    cr_assert_lt(a->run_bound, 2);
    /* Freeing a neighbour makes a run; the fuller arena is used first. */
    sa_arena_return_pool(p[1]);
    cr_assert_eq(a->run_bound, SA_ARENA_PAGES);
    sa_pool *r = sa_arena_take_pool(two, 0);
    cr_assert_eq(sa_pool_arena(r), a, "the fuller arena's new run was not found");
}

/* The arena a run was last found in is tried first for the next run of
 * that length; it must be forgotten when that arena is unmapped. */
Test(arena, a_run_hint_does_not_outlive_its_arena)
{
    unsigned two = 0;
    while (two < SA_NCLASSES && sa_classes[two].pages != 2)
        two++;
    sa_pool *p = sa_arena_take_pool(two, 0);
    sa_pool *q = sa_arena_take_pool(two, 0);
    cr_assert_eq(sa_pool_arena(q), sa_pool_arena(p));
    sa_arena_return_pool(q);
    sa_arena_return_pool(p);
    cr_assert_eq(sa_arena_trim(), 1);
    cr_assert_eq(counts().current, 0, "the arena was not unmapped");
    sa_pool *r = sa_arena_take_pool(two, 0);   /* reads the old arena if still hinted */
    cr_assert_not_null(r);
    cr_assert_eq(counts().current, 1);
}

Test(arena, free_arenas_stay_mapped_until_they_decay_or_a_trim)
{
    sa_pool *p[3][63];
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < 63; i++)
            p[a][i] = sa_arena_take_pool(1, 0);
    cr_assert_eq(counts().current, 3);
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < 63; i++)
            sa_arena_return_pool(p[a][i]);
    sa_arena_counts c = counts();
    cr_assert_eq(c.current, 3, "a footprint that swings back within a second finds them");
    cr_assert_eq(c.reclaimed, 0);
    cr_assert_eq(c.highwater, 3);
    /* Taken again: no new arena. */
    sa_pool *again = sa_arena_take_pool(1, 0);
    cr_assert_eq(counts().allocated_total, 3);
    sa_arena_return_pool(again);
    cr_assert_eq(sa_arena_trim(), 1);
    c = counts();
    cr_assert_eq(c.current, 0);
    cr_assert_eq(c.reclaimed, 3);
    cr_assert_eq(sa_pagemap_get(sa_pool_base(p[0][0])), 0, "unmapped and unowned");
}

/* ---- Dirty pages: reuse first, discard when idle, decay with time ---- */

static int reads_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

Test(arena, a_growing_class_faults_in_its_pool_and_the_pages_after_it)
{
    /* The first arena: its header is page 0, pools follow in order. */
    sa_pool *lazy = sa_arena_take_pool(0, 0);
    cr_assert_eq(resident_pages(sa_pool_base(lazy), SA_PAGE), 0, "a pool is faulted in unasked");
    sa_pool *grow = sa_arena_take_pool(0, 1);
    char *base = sa_pool_base(grow);
    cr_assert_eq(base, sa_pool_base(lazy) + SA_PAGE);
    cr_assert_eq(resident_pages(base, SA_POPULATE_PAGES * SA_PAGE), SA_POPULATE_PAGES);
    cr_assert_eq(resident_pages(base + SA_POPULATE_PAGES * SA_PAGE, 8 * SA_PAGE), 0);
    /* The pages after the pool are free and resident: dirty. */
    cr_assert_eq(counts().dirty_pages, SA_POPULATE_PAGES - 1);
    cr_assert_eq(sa_pool_arena(grow)->dirty_mask,
                 (((uint64_t)1 << (SA_POPULATE_PAGES - 1)) - 1) << (grow - sa_pool_arena(grow)->pools + 1));
    /* The next pool of any class takes one of them, as a reused page. */
    sa_pool *next = sa_arena_take_pool(7, 0);
    cr_assert_eq(sa_pool_base(next), base + SA_PAGE);
    cr_assert_eq(counts().dirty_pages, SA_POPULATE_PAGES - 2);
    /* A growing pool on dirty pages populates nothing more. */
    sa_pool *again = sa_arena_take_pool(0, 1);
    cr_assert_eq(sa_pool_base(again), base + 2 * SA_PAGE);
    cr_assert_eq(counts().dirty_pages, SA_POPULATE_PAGES - 3);
    cr_assert_eq(resident_pages(base + SA_POPULATE_PAGES * SA_PAGE, 8 * SA_PAGE), 0);
}

Test(arena, a_growing_multi_page_pool_is_faulted_in_whole_and_alone)
{
    unsigned cls = sa_size_class(65536);
    cr_assert_eq(sa_classes[cls].pages, 16);
    sa_pool *lazy = sa_arena_take_pool(cls, 0);
    cr_assert_eq(resident_pages(sa_pool_base(lazy), 16 * SA_PAGE), 0);
    sa_pool *p = sa_arena_take_pool(cls, 1);
    cr_assert_eq(sa_pool_base(p), sa_pool_base(lazy) + 16 * SA_PAGE);
    cr_assert_eq(resident_pages(sa_pool_base(p), 16 * SA_PAGE), 16);
    cr_assert_eq(resident_pages(sa_pool_base(p) + 16 * SA_PAGE, 16 * SA_PAGE), 0);
    cr_assert_eq(counts().dirty_pages, 0);
}

Test(arena, returned_runs_are_dirty_and_reused_before_clean_pages)
{
    sa_pool *p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = sa_arena_take_pool(0, 0);
        memset(sa_pool_base(p[i]), 0xab, SA_PAGE);
    }
    sa_arena_return_pool(p[2]);
    cr_assert_eq(counts().dirty_pages, 1);
    cr_assert_eq(sa_arena_trim(), 1);            /* p[2]'s page: now clean */
    cr_assert_eq(counts().dirty_pages, 0);
    cr_assert(reads_zero(sa_pool_base(p[2]), SA_PAGE));
    sa_arena_return_pool(p[10]);
    cr_assert_eq(counts().dirty_pages, 1);
    /* The lowest free page is p[2]'s, but p[10]'s is resident already. */
    sa_pool *q = sa_arena_take_pool(0, 0);
    cr_assert_eq(q, p[10]);
    cr_assert_eq(counts().dirty_pages, 0);
    cr_assert_eq(sa_arena_take_pool(0, 0), p[2]);
}

Test(arena, dirty_pages_of_an_emptier_arena_come_before_clean_pages_of_a_fuller_one)
{
    static sa_pool *a[63], *b[63];
    for (int i = 0; i < 63; i++)
        a[i] = sa_arena_take_pool(0, 0);
    for (int i = 0; i < 63; i++) {
        b[i] = sa_arena_take_pool(0, 0);
        memset(sa_pool_base(b[i]), 0x77, SA_PAGE);
    }
    /* Arena A: 20 free pages, discarded (clean).  Arena B: 30 free pages,
     * dirty.  A is the fuller one, but its pages would be faulted in. */
    for (int i = 0; i < 20; i++)
        sa_arena_return_pool(a[i]);
    cr_assert_eq(sa_arena_trim(), 1);
    cr_assert_eq(counts().dirty_pages, 0);
    for (int i = 0; i < 30; i++)
        sa_arena_return_pool(b[i]);
    cr_assert_eq(counts().dirty_pages, 30);
    unsigned three = sa_size_class(600);
    cr_assert_eq(sa_classes[three].pages, 3);
    sa_pool *run = sa_arena_take_pool(three, 0);
    cr_assert_eq(sa_pool_arena(run), sa_pool_arena(b[40]), "a 3-page run came from clean pages");
    cr_assert_eq(counts().dirty_pages, 27);
    for (int i = 0; i < 27; i++) {
        sa_pool *p = sa_arena_take_pool(0, 0);
        cr_assert_eq(sa_pool_arena(p), sa_pool_arena(b[40]), "pool %d came from clean pages", i);
        cr_assert_not(reads_zero(sa_pool_base(p), SA_PAGE), "pool %d is not a dirty page", i);
    }
    cr_assert_eq(counts().dirty_pages, 0);
    /* No dirty page left: the fuller arena again. */
    sa_pool *p = sa_arena_take_pool(0, 0);
    cr_assert_eq(sa_pool_arena(p), sa_pool_arena(a[40]));
    cr_assert(reads_zero(sa_pool_base(p), SA_PAGE));
}

/* No run of dirty pages is long enough: the run with the most dirty
 * pages wins over the first clean one, and adds fewer pages to the
 * resident set. */
Test(arena, a_run_partly_dirty_comes_before_a_clean_one)
{
    sa_pool *p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = sa_arena_take_pool(0, 0);
        memset(sa_pool_base(p[i]), 0xcd, SA_PAGE);
    }
    sa_arena *a = sa_pool_arena(p[0]);
    for (int i = 1; i < 20; i++)
        cr_assert_eq(sa_pool_arena(p[i]), a);
    unsigned last = (unsigned)(p[19] - a->pools);
    cr_assert_eq(p[3] - p[1], 2, "p[1..3] are 3 pages in a row");
    cr_assert_eq(a->free_mask >> (last + 1) & 3, 3, "2 free pages after p[19]");
    /* A clean hole of 3 pages low in the arena; p[19]'s dirty page
     * followed by clean ones at the end of the used pages. */
    for (int i = 1; i <= 3; i++)
        sa_arena_return_pool(p[i]);
    cr_assert_eq(sa_arena_trim(), 1);
    cr_assert_eq(counts().dirty_pages, 0);
    sa_arena_return_pool(p[19]);
    cr_assert_eq(counts().dirty_pages, 1);
    unsigned three = sa_size_class(600);
    cr_assert_eq(sa_classes[three].pages, 3);
    sa_pool *run = sa_arena_take_pool(three, 0);
    cr_assert_eq(run, p[19], "the run starts at the dirty page, not at the first clean hole");
    cr_assert_eq(counts().dirty_pages, 0);
    cr_assert_not(reads_zero(sa_pool_base(run), SA_PAGE), "its first page is the dirty one");
    /* The clean hole is next. */
    cr_assert_eq(sa_arena_take_pool(three, 0), p[1]);
}

Test(arena, idle_dirty_pages_are_discarded_when_the_heap_grows)
{
    sa_pool *p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = sa_arena_take_pool(0, 0);
        memset(sa_pool_base(p[i]), 0xcd, SA_PAGE);
    }
    uint64_t dirty_at = sa_os_now_ms();
    for (int i = 0; i < 10; i++)
        sa_arena_return_pool(p[i]);
    cr_assert_eq(counts().dirty_pages, 10);
    uint64_t purged = counts().purged_pages;
    /* Reusing a dirty run resets the idle clock: growth short of
     * SA_IDLE_PAGES since then keeps the pages. */
    sa_pool *again = sa_arena_take_pool(0, 0);
    cr_assert_eq(counts().dirty_pages, 9);
    sa_arena_heap_grew(sa_growth_advance(SA_IDLE_PAGES - 1));
    cr_assert_eq(counts().dirty_pages, 9);
    cr_assert_not(reads_zero(sa_pool_base(p[5]), SA_PAGE));
    /* One page more: they are idle, but dirty for less than
     * SA_GROWTH_PURGE_MS (unless this thread was held up that long:
     * the coarse clock says), so they stay... */
    sa_arena_heap_grew(sa_growth_advance(1));
    if (sa_os_now_ms() - dirty_at < SA_GROWTH_PURGE_MS)
        cr_assert_eq(counts().dirty_pages, 9, "pages dirty a moment ago were purged");
    /* ...and once they have been dirty that long, they go. */
    struct timespec ts = { 0, (SA_GROWTH_PURGE_MS + 20) * 1000 * 1000 };
    nanosleep(&ts, NULL);
    sa_arena_heap_grew(sa_growth_advance(1));
    cr_assert_eq(counts().dirty_pages, 0);
    cr_assert_eq(counts().purged_pages, purged + 9);
    for (int i = 0; i < 10; i++)
        if (p[i] != again)
            cr_assert(reads_zero(sa_pool_base(p[i]), SA_PAGE), "page %d kept its contents", i);
    cr_assert_not(reads_zero(sa_pool_base(p[15]), SA_PAGE), "a page in use was discarded");
}

Test(arena, growth_before_a_return_does_not_make_its_pages_idle)
{
    sa_pool *p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = sa_arena_take_pool(0, 0);
        memset(sa_pool_base(p[i]), 0x5a, SA_PAGE);
    }
    /* Much growth, then pages freed: they were not idle during it. */
    sa_arena_heap_grew(sa_growth_advance(50 * SA_IDLE_PAGES));
    for (int i = 0; i < 10; i++)
        sa_arena_return_pool(p[i]);
    uint64_t purged = counts().purged_pages;
    sa_arena_heap_grew(sa_growth_advance(SA_IDLE_PAGES - 1));
    cr_assert_eq(counts().dirty_pages, 10, "discarded for growth that came before the free");
    cr_assert_eq(counts().purged_pages, purged);
    cr_assert_not(reads_zero(sa_pool_base(p[3]), SA_PAGE));
    /* Growth after the return does make them idle (once they have been
     * dirty for SA_GROWTH_PURGE_MS). */
    struct timespec ts = { 0, (SA_GROWTH_PURGE_MS + 20) * 1000 * 1000 };
    nanosleep(&ts, NULL);
    sa_arena_heap_grew(sa_growth_advance(1));
    cr_assert_eq(counts().dirty_pages, 0);
    cr_assert_eq(counts().purged_pages, purged + 10);
    cr_assert(reads_zero(sa_pool_base(p[3]), SA_PAGE));
}

Test(arena, dirty_pages_decay_and_spare_arenas_go_back_after_a_second)
{
    enum { N = 6 };
    static sa_pool *p[N][63];
    for (int a = 0; a < N; a++)
        for (int i = 0; i < 63; i++) {
            p[a][i] = sa_arena_take_pool(1, 0);
            memset(sa_pool_base(p[a][i]), 0x11, 64);
        }
    cr_assert_eq(counts().current, N);
    for (int a = 0; a < N; a++)
        for (int i = 0; i < 63; i++)
            sa_arena_return_pool(p[a][i]);
    /* A footprint that swings back finds its arenas still mapped... */
    uint64_t waiting = counts().current;
    cr_assert_eq(waiting, N, "wholly free arenas wait for their decay");
    cr_assert_eq(counts().dirty_pages, waiting * 63);
    /* ...but a program that shrank for good gives them back: after
     * SA_DIRTY_DECAY_MS the next return of a pool unmaps all but the spare
     * and discards the dirty pages of the arenas in use. */
    sa_pool *keep = sa_arena_take_pool(1, 0), *gone = sa_arena_take_pool(1, 0);
    memset(sa_pool_base(gone), 0x22, 64);
    struct timespec ts = { 1, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    sa_arena_return_pool(gone);
    (void)keep;
    cr_assert_eq(counts().current, 1 + SA_SPARE_ARENAS, "keep's arena and the spare");
    cr_assert_eq(counts().dirty_pages, 0);
}

Test(arena, block_pool_finds_the_run_from_any_page)
{
    unsigned cls = sa_size_class(20000);        /* a multi-page run */
    cr_assert_gt(sa_classes[cls].pages, 1);
    sa_pool *run = sa_arena_take_pool(cls, 0);
    sa_pool *small = sa_arena_take_pool(0, 0);
    sa_arena *a = sa_pool_arena(run);
    uintptr_t base = 0;
    char *first = sa_pool_base(run);
    for (unsigned i = 0; i < sa_classes[cls].pages; i++) {
        cr_assert_eq(sa_block_pool(a, first + i * SA_PAGE + 48, &base), run, "page %u", i);
        cr_assert_eq(base, (uintptr_t)first);
    }
    cr_assert_eq(sa_block_pool(sa_pool_arena(small), sa_pool_base(small) + 32, &base), small);
    cr_assert_eq(base, (uintptr_t)sa_pool_base(small));
    /* The header page and free pages belong to no pool. */
    cr_assert_null(sa_block_pool(a, (char *)a + 16, &base));
    sa_arena_return_pool(run);
    cr_assert_null(sa_block_pool(a, first + SA_PAGE, &base));
    cr_assert_null(sa_block_pool(a, first, &base));
}
