/* Large blocks: own mappings aligned to a granule, the reuse cache,
 * mremap-based realloc, and the misuse checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alloc/arena.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"
#include "resident.h"

static void setup(void) { sa_init(); }
TestSuite(large, .init = setup);

Test(large, alloc_is_granule_aligned_and_registered)
{
    char *p = sa_malloc(100000);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % SA_ARENA_SIZE, 0);
    cr_assert_eq(sa_usable_size(p), 102400);
    cr_assert_eq(sa_pagemap_get(p) & SA_PM_TAG, SA_PM_LARGE);
    memset(p, 0x5a, 102400);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 1);
    cr_assert_eq(c.live_bytes, 102400);
    sa_free(p);
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 0);
    cr_assert_eq(c.cached_blocks, 1);
}

Test(large, cache_reuses_a_similar_size_and_calloc_zeroes_it)
{
    char *p = sa_malloc(200000);
    memset(p, 0xff, 200000);
    sa_free(p);
    char *q = sa_calloc(1, 190000);   /* within 1/4: reused */
    cr_assert_eq(q, p);
    for (size_t i = 0; i < 190000; i++)
        cr_assert_eq(q[i], 0);
    char *r = sa_malloc(1000000);     /* too different: fresh */
    cr_assert_neq(r, p);
    sa_free(q);
    sa_free(r);
    cr_assert_eq(sa_large_trim(), 1);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.cached_blocks, 0);
    cr_assert_eq(sa_pagemap_get(p) & SA_PM_TAG, SA_PM_FREED);
}

Test(large, a_cached_block_with_pages_serves_up_to_half_its_size)
{
    char *p = sa_malloc(300000);
    memset(p, 0x5a, 300000);
    sa_free(p);                        /* cached, pages resident */
    char *q = sa_calloc(1, 160000);    /* 303104 <= 2 * 160000: reused */
    cr_assert_eq(q, p);
    cr_assert_eq(sa_usable_size(q), 303104);   /* 74 pages */
    for (size_t i = 0; i < 160000; i++)
        cr_assert_eq(q[i], 0, "byte %zu", i);
    sa_free(q);
    /* 303104 > 2 * 143360, and what is left past its first granule
     * (40960 bytes) is too small for a large block of its own: fresh. */
    char *r = sa_malloc(140000);
    cr_assert_neq(r, p);
    sa_free(r);
    sa_large_counts c;
    cr_assert_eq(sa_large_trim(), 1);
    /* Without its pages a block is reused within 1/4 only. */
    char *big = sa_malloc(1000000);
    sa_free(big);
    sa_large_heap_grew(UINT64_MAX);    /* idle: the cache lets the pages go */
    sa_large_get_counts(&c);
    cr_assert_eq(c.cached_blocks, 1);
    cr_assert_eq(c.resident_bytes, 0);
    char *s = sa_malloc(600000);       /* 1003520 > 602112 * 5/4: fresh */
    cr_assert_neq(s, big);
    char *t = sa_malloc(900000);       /* within 1/4 */
    cr_assert_eq(t, big);
    sa_free(s);
    sa_free(t);
}

Test(large, a_big_cached_block_with_pages_is_split_for_a_small_request)
{
    char *p = sa_malloc(900000);               /* 901120: 220 pages */
    memset(p, 0x5a, 900000);
    sa_free(p);
    /* 901120 > 2 * 143360: its first granule serves it, the rest is
     * cached as a block of its own, pages and all. */
    char *r = sa_calloc(1, 140000);
    cr_assert_eq(r, p);
    cr_assert_eq(sa_usable_size(r), SA_ARENA_SIZE);
    for (size_t i = 0; i < 140000; i++)
        cr_assert_eq(r[i], 0, "byte %zu", i);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 1);
    cr_assert_eq(c.live_bytes, SA_ARENA_SIZE);
    cr_assert_eq(c.cached_blocks, 1);
    cr_assert_eq(c.cached_bytes, 901120 - SA_ARENA_SIZE);
    cr_assert_eq(c.resident_bytes, 901120 - SA_ARENA_SIZE);
    cr_assert_eq(sa_pagemap_get(p + SA_ARENA_SIZE) & SA_PM_TAG, SA_PM_LARGE);
    cr_assert_neq(sa_pagemap_get(p + SA_ARENA_SIZE), sa_pagemap_get(p),
                  "the tail has its own descriptor");
    /* The tail serves the next request, cleared; freeing the head with
     * the tail live and the tail after works as for any two blocks. */
    char *tail = sa_calloc(1, 600000);
    cr_assert_eq(tail, p + SA_ARENA_SIZE);
    for (size_t i = 0; i < 600000; i++)
        cr_assert_eq(tail[i], 0, "tail byte %zu", i);
    sa_free(r);
    sa_free(tail);
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 0);
    cr_assert_eq(c.cached_blocks, 2);
    cr_assert_eq(sa_large_trim(), 1);
}

Test(large, calloc_of_a_reused_dirty_block_reads_zeros_where_it_was_written)
{
    /* Written in part: the first 100 pages, a page in the middle, the
     * last byte; read (the zero page mapped) elsewhere; never touched
     * in between.  Under SA_LARGE_HUGE_MIN, so in small pages. */
    size_t size = (size_t)3 << 20;
    cr_assert_lt(size, SA_LARGE_HUGE_MIN);
    /* A peak of two such blocks: the cache may keep one with its pages. */
    char *other = sa_malloc(size);
    volatile char *p = sa_malloc(size);
    sa_free(other);
    memset((char *)p, 0x77, 100 * 4096);
    p[size / 2] = 1;
    p[size - 1] = 2;
    for (size_t i = 200 * 4096; i < 300 * 4096; i += 4096)
        (void)p[i];
    sa_free((char *)p);
    char *q = sa_calloc(1, size);
    cr_assert_eq(q, (char *)p, "the dirty block was reused");
    /* Pages it never had stay out of the resident set (clearing them by
     * memset would fault them in); the written ones stay in. */
    cr_assert_eq(resident_pages(q + 400 * 4096, 100 * 4096), 0);
    cr_assert_eq(resident_pages(q, 100 * 4096), 100);
    for (size_t i = 0; i < size; i++)
        cr_assert_eq(q[i], 0, "byte %zu", i);
    sa_free(q);
    /* And a block calloc'd with fewer bytes is cleared up to them: the
     * rest is the program's to write before it reads. */
    char *m = sa_malloc(size);
    cr_assert_eq(m, q);
    memset(m, 0x33, size);
    sa_free(m);
    char *z = sa_calloc(1, size - 8192);
    cr_assert_eq(z, m);
    for (size_t i = 0; i < size - 8192; i++)
        cr_assert_eq(z[i], 0, "byte %zu", i);
    sa_free(z);
}

Test(large, cached_pages_are_bounded_by_the_live_peak)
{
    /* Peak of live large bytes: 8 blocks of 1 MiB. */
    char *p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = sa_malloc(1 << 20);
        memset(p[i], 0x21, 1 << 20);
    }
    for (int i = 0; i < 8; i++)
        sa_free(p[i]);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.cached_blocks, 8);
    /* Live 0: the cache keeps peak / SA_LARGE_DIRTY_SHARE with pages, the
     * most recent ones. */
    size_t budget = (8u << 20) / SA_LARGE_DIRTY_SHARE;
    cr_assert_eq(c.resident_bytes, budget);
    /* A block of another size that nothing cached serves grows the live
     * bytes: the cached pages shrink to keep live + share x cached under
     * the peak, oldest first. */
    char *big = sa_malloc(6 << 20);
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, SA_LARGE_CACHE_RESIDENT);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(resident_pages(p[i], 1 << 20), 0, "block %d", i);
    cr_assert_eq(resident_pages(p[7], 1 << 20), 256);
    sa_free(big);
}

/* Two blocks of size bytes live (the peak); the first, written whole, is
 * freed and keeps its pages: the room under the peak holds it whole,
 * though half the room (the budget) is less.  Returns it; *live is the
 * other. */
static char *freed_last_keeping_pages(size_t size, char **live)
{
    char *a = sa_malloc(size);
    *live = sa_malloc(size);
    memset(a, 0x44, size);
    sa_free(a);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, size, "the block freed last kept its pages");
    return a;
}

Test(large, a_block_replaced_one_at_a_time_keeps_its_pages)
{
    size_t size = (size_t)3 << 20;
    char *b, *a = freed_last_keeping_pages(size, &b);
    cr_assert_eq(resident_pages(a, size), size / 4096);
    char *again = sa_calloc(1, size);
    cr_assert_eq(again, a);
    for (size_t i = 0; i < size; i += 512)
        cr_assert_eq(again[i], 0, "byte %zu", i);
    sa_free(again);
    sa_free(b);
}

/* A malloc a little bigger than the block freed last grows that block by
 * mremap: its pages stay, only the growth is fresh.  A calloc does not:
 * a big array is often written in part, and a fresh one stays lazy. */
static void bigger_than_the_block_freed_last(int zero)
{
    size_t size = (size_t)3 << 20, bigger = (size_t)5 << 20;
    char *b;
    (void)freed_last_keeping_pages(size, &b);
    char *q = zero ? sa_calloc(1, bigger) : sa_malloc(bigger);
    cr_assert_not_null(q);
    cr_assert_eq((uintptr_t)q % SA_ARENA_SIZE, 0);
    if (zero)
        cr_assert_eq(resident_pages(q, size), 0, "calloc: a fresh block");
    else
        cr_assert_eq(resident_pages(q, size), size / 4096, "the old block's pages came along");
    cr_assert_eq(resident_pages(q + size, bigger - size), 0, "the growth is not faulted in");
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 2);
    cr_assert_eq(c.live_bytes, size + bigger);
    cr_assert_eq(c.cached_blocks, zero ? 1 : 0);
    cr_assert_eq(c.resident_bytes, 0);   /* calloc: over the budget, the cached one lost its pages */
    if (zero)
        for (size_t i = 0; i < bigger; i += 512)
            cr_assert_eq(q[i], 0, "byte %zu", i);
    memset(q, 0x55, bigger);
    cr_assert_eq(sa_pagemap_get(q + bigger - 1), sa_pagemap_get(q), "one block, registered whole");
    sa_free(q);
    sa_free(b);
}

Test(large, malloc_grows_a_smaller_cached_block_with_pages)
{
    bigger_than_the_block_freed_last(0);
}

Test(large, calloc_takes_a_fresh_block_over_a_smaller_cached_one)
{
    bigger_than_the_block_freed_last(1);
}

Test(large, cache_keeps_pages_of_recent_blocks_only)
{
    char *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = sa_malloc(1000000);
        memset(p[i], 0x77, 1000000);
    }
    for (int i = 0; i < 4; i++)
        sa_free(p[i]);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.cached_blocks, 4);
    cr_assert_eq(c.cached_bytes, 4 * 1003520);
    cr_assert_leq(c.resident_bytes, SA_LARGE_CACHE_RESIDENT);
    cr_assert_eq(c.resident_bytes, 2 * 1003520 > SA_LARGE_CACHE_RESIDENT ? 1003520 : 2 * 1003520);
    /* Resident or not, every reused block reads as zeros for calloc, and
     * the most recent (resident) one is reused first. */
    char *q[4];
    for (int k = 0; k < 4; k++) {
        q[k] = sa_calloc(1, 1000000);
        cr_assert_eq(q[k], p[3 - k]);
        for (size_t i = 0; i < 1000000; i += 512)
            cr_assert_eq(q[k][i], 0, "block %d byte %zu", k, i);
    }
    for (int k = 0; k < 4; k++)
        sa_free(q[k]);
}

Test(large, realloc_grows_and_shrinks_keeping_contents)
{
    size_t n = 70000;
    unsigned char *p = sa_malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7);
    for (size_t size = 140000; size <= 64u << 20; size *= 2) {
        p = sa_realloc(p, size);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % SA_ARENA_SIZE, 0);
        cr_assert_geq(sa_usable_size(p), size);
        for (size_t i = 0; i < n; i += 997)
            cr_assert_eq(p[i], (unsigned char)(i * 7));
        cr_assert_eq(sa_pagemap_get(p + size - 1) & SA_PM_TAG, SA_PM_LARGE);
    }
    p = sa_realloc(p, 80000);
    cr_assert_eq(sa_usable_size(p), 81920);
    for (size_t i = 0; i < n; i += 13)
        cr_assert_eq(p[i], (unsigned char)(i * 7));
    p = sa_realloc(p, 1000);          /* back to a medium block */
    cr_assert_eq(sa_usable_size(p), 1024);
    cr_assert_eq(p[999], (unsigned char)(999 * 7));
    sa_free(p);
}

Test(large, realloc_growth_takes_over_a_cached_block_with_pages)
{
    /* This round's buffer starts small, while the last round's is still
     * live; that one is freed: cached with its pages. */
    char *old = sa_malloc(512 * 1024);
    memset(old, 0x11, 512 * 1024);
    unsigned char *p = sa_malloc(100000);
    cr_assert_neq((char *)p, old);
    sa_free(old);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, 512 * 1024);
    /* This round's buffer grows: the cached block takes it over. */
    for (size_t i = 0; i < 100000; i++)
        p[i] = (unsigned char)(i * 13);
    unsigned char *q = sa_realloc(p, 200000);
    cr_assert_eq((char *)q, old, "the cached block with pages was taken");
    for (size_t i = 0; i < 100000; i++)
        cr_assert_eq(q[i], (unsigned char)(i * 13), "byte %zu", i);
    sa_large_get_counts(&c);
    cr_assert_eq(c.live_blocks, 1);
    cr_assert_eq(c.live_bytes, 512 * 1024);
    cr_assert_eq(c.cached_blocks, 1, "the small block went to the cache");
    /* Growing within the block, or shrinking it by less than half, stays
     * in place; shrinking under half gives the tail back. */
    cr_assert_eq(sa_realloc(q, 400000), q);
    cr_assert_eq(sa_realloc(q, 300000), q);
    cr_assert_eq(sa_usable_size(q), 512 * 1024);
    cr_assert_eq(sa_realloc(q, 100000), q);
    cr_assert_eq(sa_usable_size(q), 102400);
    cr_assert_eq(q[99999], (unsigned char)(99999 * 13));
    sa_free(q);
}

Test(large, huge_requests_fail_with_enomem)
{
    errno = 0;
    cr_assert_null(sa_malloc(SIZE_MAX));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_malloc((size_t)PTRDIFF_MAX + 1));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_calloc(SIZE_MAX / 2, 3));
    cr_assert_eq(errno, ENOMEM);
}

/* The kernel's overcommit mode (0 heuristic, 1 always, 2 strict), or -1. */
static int overcommit_mode(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    return mode;
}

Test(large, absurd_requests_fail_as_the_overcommit_policy_says)
{
    if (overcommit_mode() != 0 && overcommit_mode() != 2)
        cr_skip_test("vm.overcommit_memory is %d: the kernel grants any size", overcommit_mode());
    size_t huge = (size_t)1 << 46;   /* 64 TiB: more than RAM and swap */
    errno = 0;
    cr_assert_null(sa_malloc(huge));
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    cr_assert_null(sa_calloc(huge / 16, 16));
    cr_assert_eq(errno, ENOMEM);
    char *p = sa_malloc(100000);
    cr_assert_not_null(p);
    p[99999] = 7;
    errno = 0;
    cr_assert_null(sa_realloc(p, huge));
    cr_assert_eq(errno, ENOMEM);
    cr_assert_eq(p[99999], 7, "the block is kept");
    sa_free(p);
    /* Sizes the machine can back still work. */
    p = sa_malloc((size_t)64 << 20);
    cr_assert_not_null(p);
    sa_free(p);
}

Test(large, big_alignment)
{
    void *p = sa_aligned((size_t)1 << 20, 5000);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % (1u << 20), 0);
    sa_free(p);
}

Test(large, double_free_of_cached_block_aborts, .signal = SIGABRT)
{
    void *p = sa_malloc(1 << 20);
    sa_free(p);
    sa_free(p);
}

Test(large, double_free_of_unmapped_block_aborts, .signal = SIGABRT)
{
    void *p = sa_malloc(64 << 20);   /* beyond the cache: unmapped on free */
    sa_free(p);
    sa_free(p);
}

Test(large, interior_pointer_aborts, .signal = SIGABRT)
{
    char *p = sa_malloc(1 << 20);
    sa_free(p + 4096);
}

Test(large, idle_cached_pages_go_back_when_the_heap_grows)
{
    char *p = sa_malloc(200000);
    memset(p, 0x5a, 200000);
    sa_free(p);
    sa_large_counts c;
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, 200704);
    /* The arenas fault in pages while the cache sits unused: short of
     * SA_IDLE_PAGES it keeps its pages, then gives them back. */
    sa_large_heap_grew(sa_growth_advance(SA_IDLE_PAGES - 1));
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, 200704);
    sa_large_heap_grew(sa_growth_advance(1));
    sa_large_get_counts(&c);
    cr_assert_eq(c.resident_bytes, 0);
    cr_assert_eq(c.cached_blocks, 1, "the mapping stays cached");
    for (size_t i = 0; i < 200000; i += 4096)
        cr_assert_eq(p[i], 0, "page %zu kept its contents", i / 4096);
    /* Reused without a memset: released pages read as zeros. */
    char *q = sa_calloc(1, 190000);
    cr_assert_eq(q, p);
    for (size_t i = 0; i < 190000; i += 64)
        cr_assert_eq(q[i], 0);
    sa_free(q);
}

/* A fresh calloc'd block of up to 1 MiB is faulted in at once while the
 * program uses such blocks whole: the first (and every 8th) is left lazy,
 * and its free counts the pages touched. */
Test(large, calloc_faults_in_blocks_up_to_a_mebibyte_at_once)
{
    char *p0 = sa_calloc(3, 100000);               /* 300000: 74 pages */
    cr_assert_eq(resident_pages(p0, 300000), 0, "the first is a sample, lazy");
    for (size_t i = 0; i < 300000; i++)
        cr_assert_eq(p0[i], 0);
    memset(p0, 1, 300000);
    sa_free(p0);                                   /* touched whole */
    char *p[8];
    p[1] = sa_calloc(3, 100000);
    cr_assert_eq(p[1], p0, "the cached block, its pages cleared");
    for (int k = 2; k < 8; k++) {
        p[k] = sa_calloc(3, 100000);
        cr_assert_eq(resident_pages(p[k], 300000), 74, "fresh calloc %d: populated", k);
        for (size_t i = 0; i < 300000; i += 64)
            cr_assert_eq(p[1][i] | p[k][i], 0);
    }
    char *big = sa_calloc(1, (size_t)3 << 20);     /* sparse tables stay lazy */
    cr_assert_eq(resident_pages(big, (size_t)3 << 20), 0);
    cr_assert_eq(big[(size_t)2 << 20], 0);
    char *m = sa_malloc(300000);                   /* malloc stays lazy */
    cr_assert_eq(resident_pages(m, 300000), 0);
    for (int k = 1; k < 8; k++)
        sa_free(p[k]);
    sa_free(big);
    sa_free(m);
}

/* A program that uses its calloc'd blocks sparsely (git's hash tables)
 * does not get them populated: pages it never touches stay out of its
 * resident set. */
Test(large, sparse_calloc_blocks_stay_lazy)
{
    char *q0 = sa_calloc(3, 100000);
    cr_assert_eq(resident_pages(q0, 300000), 0, "the first is a sample, lazy");
    q0[100000] = 1;                                /* one page of 74 */
    sa_free(q0);
    char *q1 = sa_calloc(3, 100000);
    cr_assert_eq(q1, q0, "the cached block");
    cr_assert_eq(q1[100000], 0);
    for (int k = 0; k < 9; k++) {
        char *q = sa_calloc(3, 100000);
        cr_assert_eq(resident_pages(q, 300000), 0, "fresh calloc %d: lazy", k);
        q[0] = 1;
        cr_assert_eq(q[299999], 0);
        /* kept live: the next one is fresh too */
    }
    sa_free(q1);
}

Test(large, realloc_growth_faults_in_up_to_a_quarter_of_the_old_size)
{
    char *p = sa_malloc(400 * 1024);
    cr_assert_eq(resident_pages(p, 400 * 1024), 0);
    memset(p, 0x31, 400 * 1024);
    /* By 1.2x: the whole growth (20 pages, under 100 / 4). */
    char *q = sa_realloc(p, 480 * 1024);
    cr_assert_eq(resident_pages(q + 400 * 1024, 80 * 1024), 20);
    memset(q + 400 * 1024, 0x32, 80 * 1024);
    /* By 2x: a quarter of the old size (30 of the 120 new pages). */
    char *r = sa_realloc(q, 960 * 1024);
    cr_assert_eq(resident_pages(r + 480 * 1024, 120 * 1024), 30);
    cr_assert_eq(resident_pages(r + 600 * 1024, 360 * 1024), 0);
    cr_assert_eq(r[0], 0x31);
    cr_assert_eq(r[400 * 1024 - 1], 0x31);
    cr_assert_eq(r[480 * 1024 - 1], 0x32);
    cr_assert_eq(r[480 * 1024], 0);
    sa_free(r);
}

/* Whether the mapping holding p has MADV_HUGEPAGE ("hg" among its
 * VmFlags in /proc/self/smaps). */
static int huge_advised(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    cr_assert_not_null(f);
    char line[512];
    int in = 0, advised = -1;
    while (advised < 0 && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char dash;
        if (sscanf(line, "%lx%c%lx", &lo, &dash, &hi) == 3 && dash == '-')
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0)
            advised = strstr(line, " hg") != NULL;
    }
    fclose(f);
    cr_assert_geq(advised, 0, "no mapping holds %p", p);
    return advised;
}

/* malloc'd blocks of SA_LARGE_HUGE_MIN or more ask for transparent huge
 * pages (fewer page faults for big buffers); calloc'd ones, often sparse
 * arrays, and smaller ones do not.  A malloc'd block the cache hands to
 * a calloc keeps its advice, and the calloc clears what was written, as
 * for any reused block. */
Test(large, big_mallocs_ask_for_huge_pages_callocs_do_not)
{
    char *m = sa_malloc(SA_LARGE_HUGE_MIN);
    char *c = sa_calloc(1, SA_LARGE_HUGE_MIN);
    char *s = sa_malloc(SA_LARGE_HUGE_MIN - (256u << 10));
    cr_assert(huge_advised(m), "a %u-byte malloc has no MADV_HUGEPAGE", SA_LARGE_HUGE_MIN);
    cr_assert(!huge_advised(c), "a calloc asked for huge pages");
    cr_assert(!huge_advised(s), "a malloc under SA_LARGE_HUGE_MIN asked for huge pages");
    memset(m, 0x5a, 4096);
    sa_free(m);
    char *z = sa_calloc(1, SA_LARGE_HUGE_MIN);
    cr_assert_eq(z, m, "the cached block was reused");
    for (size_t i = 0; i < SA_LARGE_HUGE_MIN; i += 512)
        cr_assert_eq(z[i], 0, "byte %zu", i);
    sa_free(z);
    sa_free(c);
    sa_free(s);
}
