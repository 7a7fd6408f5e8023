/* alloc/stats.c - allocator statistics in the spirit of CPython's
 * sys._debugmallocstats(): per size class the pools, blocks in use and
 * available blocks; arenas; large blocks; where the bytes go.  Printed
 * with sa_buf (no malloc, no stdio) so it can run at any time. */
#include <unistd.h>

#include "alloc/arena.h"
#include "common/fmt.h"
#include "alloc/heap.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"

typedef struct class_stats {
    uint64_t pools, in_use, avail;
} class_stats;

typedef struct arena_walk {
    class_stats cls[SA_NCLASSES];
    uint64_t arenas, free_pages, bytes_in_use, bytes_avail, quantization;
} arena_walk;

static void walk_arena(sa_arena *a, void *ctx)
{
    arena_walk *w = ctx;
    w->arenas++;
    w->free_pages += a->nfree;
    for (unsigned i = 0; i < SA_ARENA_PAGES; i++) {
        sa_pool *pool = &a->pools[i];
        if (a->run_start[i] != i || pool->state == SA_POOL_EMPTY)
            continue;
        const sa_class_info *ci = &sa_classes[pool->cls];
        uint64_t used = __atomic_load_n(&pool->used, __ATOMIC_RELAXED);
        if (used > ci->capacity)
            used = ci->capacity;   /* a racy read */
        class_stats *cs = &w->cls[pool->cls];
        cs->pools++;
        cs->in_use += used;
        cs->avail += ci->capacity - used;
        w->bytes_in_use += used * ci->size;
        w->bytes_avail += (ci->capacity - used) * ci->size;
        w->quantization += (uint64_t)ci->pages * SA_PAGE - (uint64_t)ci->capacity * ci->size;
    }
}

typedef struct heap_walk {
    uint64_t nmalloc, nfree, live, abandoned;
} heap_walk;

static void walk_heap(sa_heap *h, void *ctx)
{
    heap_walk *w = ctx;
    w->nmalloc += __atomic_load_n(&h->nmalloc, __ATOMIC_RELAXED);
    w->nfree += __atomic_load_n(&h->nfree, __ATOMIC_RELAXED);
    int state = __atomic_load_n(&h->state, __ATOMIC_RELAXED);
    if (state == SA_HEAP_ALIVE)
        w->live++;
    else if (state == SA_HEAP_ABANDONED)
        w->abandoned++;
}

void sa_stats_totals(struct sa_totals *t)
{
    sa_init();
    arena_walk aw = { 0 };
    sa_arena_foreach(walk_arena, &aw);
    sa_large_counts lc;
    sa_large_get_counts(&lc);
    t->arena = aw.arenas * SA_ARENA_SIZE;
    t->inuse = aw.bytes_in_use;
    t->free_small = aw.bytes_avail + aw.free_pages * SA_PAGE;
    t->large = lc.live_bytes;
}

static void line(sa_buf *b, const char *name, uint64_t v)
{
    size_t n = 0;
    while (name[n])
        n++;
    sa_buf_str(b, name);
    for (; n < 30; n++)
        sa_buf_char(b, ' ');
    sa_buf_str(b, "= ");
    sa_buf_u64(b, v);
    sa_buf_char(b, '\n');
}

int sa_stats_print(int fd)
{
    sa_init();
    arena_walk aw = { 0 };
    sa_arena_foreach(walk_arena, &aw);
    heap_walk hw = { 0 };
    sa_heap_foreach(walk_heap, &hw);
    sa_arena_counts ac;
    sa_arena_get_counts(&ac);
    sa_large_counts lc;
    sa_large_get_counts(&lc);

    sa_buf b;
    sa_buf_init(&b, fd);
    sa_buf_str(&b, "snapalloc: allocator statistics for pid ");
    sa_buf_u64(&b, (uint64_t)getpid());
    sa_buf_str(&b, "\nSmall block threshold = 512, in 32 size classes; medium blocks up to ");
    sa_buf_u64(&b, SA_MEDIUM_MAX);
    sa_buf_str(&b, " in ");
    sa_buf_u64(&b, SA_MEDIUM_CLASSES);
    sa_buf_str(&b, " size classes.\n\n");
    sa_buf_str(&b, "class   size  pages/pool  num pools   blocks in use  avail blocks\n");
    sa_buf_str(&b, "-----  -----  ----------  ---------   -------------  ------------\n");
    for (unsigned c = 0; c < SA_NCLASSES; c++) {
        const class_stats *cs = &aw.cls[c];
        if (!cs->pools)
            continue;
        sa_buf_u64w(&b, c, 5);
        sa_buf_u64w(&b, sa_classes[c].size, 7);
        sa_buf_u64w(&b, sa_classes[c].pages, 12);
        sa_buf_u64w(&b, cs->pools, 11);
        sa_buf_u64w(&b, cs->in_use, 16);
        sa_buf_u64w(&b, cs->avail, 14);
        sa_buf_char(&b, '\n');
    }
    sa_buf_char(&b, '\n');
    line(&b, "# arenas allocated total", ac.allocated_total);
    line(&b, "# arenas reclaimed", ac.reclaimed);
    line(&b, "# arenas highwater mark", ac.highwater);
    line(&b, "# arenas allocated current", ac.current);
    sa_buf_u64(&b, aw.arenas);
    sa_buf_str(&b, " arenas * 262144 bytes/arena = ");
    sa_buf_u64(&b, aw.arenas * SA_ARENA_SIZE);
    sa_buf_str(&b, "\n\n");
    line(&b, "# bytes in allocated blocks", aw.bytes_in_use);
    line(&b, "# bytes in available blocks", aw.bytes_avail);
    line(&b, "# bytes in unused pages", aw.free_pages * SA_PAGE);
    line(&b, "# of which dirty (resident)", ac.dirty_pages * SA_PAGE);
    line(&b, "# bytes purged", ac.purged_pages * SA_PAGE);
    line(&b, "# bytes faulted in (clock)", sa_growth_now() * SA_PAGE);
    line(&b, "# bytes lost to arena headers", aw.arenas * SA_PAGE);
    line(&b, "# bytes lost to quantization", aw.quantization);
    line(&b, "# bytes in metadata", sa_meta_bytes());
    line(&b, "# page map address space", sa_pagemap_bytes());
    sa_buf_char(&b, '\n');
    line(&b, "# large blocks in use", lc.live_blocks);
    line(&b, "# bytes in large blocks", lc.live_bytes);
    line(&b, "# large blocks cached", lc.cached_blocks);
    line(&b, "# bytes in cached blocks", lc.cached_bytes);
    line(&b, "# of which resident", lc.resident_bytes);
    sa_buf_char(&b, '\n');
    line(&b, "# malloc calls", hw.nmalloc + lc.total_allocs);
    line(&b, "# free calls", hw.nfree + sa_heap_orphan_frees() + lc.total_frees);
    line(&b, "# heaps live", hw.live);
    line(&b, "# heaps abandoned", hw.abandoned);
    return sa_buf_flush(&b);
}
