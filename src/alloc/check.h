/* alloc/check.h - the allocator's invariants as executable checks.  Each
 * makes the rules its structure's header documents into sa_assert lines
 * (common/assert.h): in a debug build (configure --enable-debug) a broken
 * invariant aborts with the line that failed; the change points call them
 * through sa_check(), so a normal build never does.
 */
#ifndef SA_ALLOC_CHECK_H
#define SA_ALLOC_CHECK_H

#include "alloc/arena.h"
#include "common/assert.h"

/* A pool as its owner sees it (alloc/arena.h, alloc/heap.h): class and
 * limits from the class table; carve on a block boundary within the
 * limit; every free-list entry a block start below carve, marked free,
 * listed once; used + |free list| == blocks carved; a FULL pool has no
 * free or untouched block; a pool on a list is USED, owned and linked
 * both ways; the later pages of its run name its first.  The caller owns the
 * pool (alloc/pool_check.c). */
void sa_pool_check(const sa_pool *pool);

/* The page entries of the pool's pages (alloc/pagemap.h): a page that holds
 * the start of a carved block has the entry of the pool's class, its
 * distance from the pool's first page and the arena's header page, with
 * SA_PM_PAGE_VALID; every other page's entry is 0.  And the arena's
 * granules map to its header.  The caller owns the pool
 * (alloc/pool_check.c). */
void sa_pagemap_check_pool(const sa_pool *pool);

/* The arenas (alloc/arena.h): buckets by number of free pages, the
 * nonempty bits, the dirty list, the counters, the run hints; and the
 * pages of a (if not NULL): free ones with no run and a zero page entry,
 * the others in the run their run_start names.  Takes arena_lock
 * (alloc/arena.c). */
void sa_arena_check(const sa_arena *a);

/* The large-block registry and cache (alloc/large.h): a well-linked
 * registry of granule-aligned mappings; cached blocks not live, within
 * the cache's bounds, disjoint, still
 * registered in the page map; the byte counts the sums of the entries'
 * (the dirty ones within SA_LARGE_DIRTY_MAX).  Takes the large lock (alloc/large.c). */
void sa_large_check(void);

#endif
