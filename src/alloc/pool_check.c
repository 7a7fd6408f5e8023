/* alloc/pool_check.c - the invariants of a pool and of its page entries
 * (alloc/check.h), checked by the pool's owner where they change: carving,
 * a free into the pool, taking and returning it. */
#include "alloc/check.h"
#include "alloc/heap.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"

#define MAX_BLOCKS (SA_MAX_POOL_PAGES * SA_PAGE / SA_ALIGNMENT)

/* The free list: each entry a block start below carve, marked free, not
 * listed twice (a cycle lists one twice).  Returns its length. */
static uint32_t free_list_check(const sa_pool *pool, uint32_t size)
{
    uint64_t seen[MAX_BLOCKS / 64] = {0};
    uintptr_t base = (uintptr_t)sa_pool_base(pool);
    uint32_t n = 0;
    for (const sa_block *b = pool->free; b; b = b->next) {
        uintptr_t off = (uintptr_t)b - base;
        sa_assert((uintptr_t)b >= base && off < pool->carve);
        sa_assert(off % size == 0);
        sa_assert(b->key == ((uintptr_t)b ^ sa_secret));
        uint32_t i = (uint32_t)(off / size);
        sa_assert(!(seen[i / 64] >> (i % 64) & 1));   /* listed once */
        seen[i / 64] |= (uint64_t)1 << (i % 64);
        n++;
    }
    return n;
}

/* The later pages of the run name its first page. */
static void run_pages_check(const sa_pool *pool)
{
    sa_arena *a = sa_pool_arena(pool);
    unsigned first = (unsigned)(pool - a->pools), pages = sa_classes[pool->cls].pages;
    sa_assert(first + pages <= SA_ARENA_PAGES);
    sa_assert(a->run_start[first] == first);
    for (unsigned i = first + 1; i < first + pages; i++) {
        sa_assert(a->pools[i].cls == SA_CLS_CONT);
        sa_assert(a->pools[i].used == first);
        sa_assert(a->run_start[i] == first);
    }
}

void sa_pool_check(const sa_pool *pool)
{
    sa_assert(pool->cls < SA_NCLASSES);
    const sa_class_info *ci = &sa_classes[pool->cls];
    sa_assert(pool->state == SA_POOL_USED || pool->state == SA_POOL_FULL);
    sa_assert(pool->limit == ci->limit && pool->recip == ci->recip);
    sa_assert(ci->capacity <= MAX_BLOCKS);
    sa_assert(pool->carve <= pool->limit && pool->carve % ci->size == 0);
    uint32_t nfree = free_list_check(pool, ci->size);
    sa_assert(pool->used + nfree == pool->carve / ci->size);
    if (pool->state == SA_POOL_FULL)
        sa_assert(!pool->free && pool->carve == pool->limit);
    if (pool->next)   /* on its owner's list (unlinked just before its return) */
        sa_assert(pool->state == SA_POOL_USED && pool->heap &&
                  pool->next->prev == pool && pool->prev->next == pool);
    run_pages_check(pool);
}

/* The first block start at or after byte off of a pool of size-byte
 * blocks. */
static uint32_t next_start(uint32_t off, uint32_t size)
{
    return (off + size - 1) / size * size;
}

void sa_pagemap_check_pool(const sa_pool *pool)
{
    sa_arena *a = sa_pool_arena(pool);
    uintptr_t base = (uintptr_t)sa_pool_base(pool);
    sa_assert(sa_pagemap_get((const void *)base) == ((uintptr_t)a | SA_PM_ARENA));
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) >> SA_PAGE_SHIFT);
    uint32_t size = sa_classes[pool->cls].size, carve = pool->carve;
    sa_pm_leaf *leaf = sa_pagemap_leaf((const void *)base);
    sa_assert(leaf != NULL);
    for (unsigned i = 0; i < sa_classes[pool->cls].pages; i++) {
        uint32_t start = next_start(i * SA_PAGE, size);
        int holds_carved = start < (i + 1) * SA_PAGE && start < carve;
        unsigned want = holds_carved ? sa_pagemap_page_entry(pool->cls, i, color) : 0;
        unsigned got = sa_pagemap_page_get(leaf, (const void *)(base + i * SA_PAGE));
        sa_assert((got ? sa_pagemap_page_plain(got) : 0) == want);
    }
}
