/* alloc/arena.h - arenas, pools and blocks: the data model of the allocator.
 *
 * An arena is 256 KiB of address space, aligned to 256 KiB, cut into 64
 * pages.  One page holds the arena header, which carries the descriptors
 * of all its pools, so no pool or block ever carries a header of its own.
 *
 *   arena (256 KiB, aligned)
 *   +--------+--------+--------+--------+--------+--------+-----+
 *   | pool   | pool   | header | pool (medium run, 3 pages) | ... |
 *   | page 0 | page 1 | page 2 | page 3   page 4   page 5   |     |
 *   +--------+--------+--------+--------+--------+--------+-----+
 *     pools[0] pools[1]    |     pools[3] (descriptors indexed by first page)
 *                          +-> run_start[i]: first page of the pool that
 *                              page i belongs to (SA_NO_RUN: none)
 *
 * The header's page is the arena's sequence number mod SA_ARENA_COLORS
 * ("cache colouring"): were every header at offset 0 of a 256 KiB-aligned
 * arena, all pool descriptors would compete for the same few cache sets.
 * The page map points at the header itself.
 *
 *   pool of class c (pages = sa_classes[c].pages, blocks of one size)
 *   +-------+-------+-------+-------+------------------------+-----+
 *   | alloc | free  | alloc | free  |  untouched ...         |tail |
 *   +-------+-------+-------+-------+------------------------+-----+
 *   0                               ^carve                   ^capacity*size
 *
 * Blocks, as in pymalloc, are untouched (at or beyond carve: never handed
 * out since the pool was initialised, memory not even faulted in), free (on
 * the pool's free list, a thread cache or the owning heap's remote list;
 * carving puts the blocks that start in the page it carves on the free
 * list at once), or allocated.  A free block holds {next, key}; key =
 * address ^ sa_secret marks it free, which is how a second free() of the
 * same block is caught.
 *
 * Pool states (pymalloc's, per heap):
 *   EMPTY  no blocks allocated; pages free in the arena (free_mask bit set);
 *          no owner.
 *   USED   owned by a heap, some blocks allocated, some free or untouched;
 *          on the heap's used[c] list.  A heap may keep its last USED pool of
 *          a class with no block allocated rather than return it, so that a
 *          malloc/free ping-pong never takes the arena lock.
 *   FULL   owned by a heap, no free or untouched block; on no list.
 *
 *   EMPTY --take--> USED --last block out--> FULL --a block freed--> USED
 *   USED --all blocks freed (and not the heap's last pool)--> EMPTY
 *
 * Arena ordering: arenas sit in buckets by their number of free pages, and
 * a new pool comes from the lowest non-empty bucket: the fullest arenas are
 * filled first so nearly-empty ones can drain and go back to the OS
 * (pymalloc's usable_arenas order, made O(1) by the buckets).  An arena
 * whose pages are all free is unmapped when its pages decay (below),
 * except SA_SPARE_ARENAS of them: a program whose footprint swings within
 * a second finds its arenas still mapped.
 *
 * Dirty pages: a returned run's pages are free but still resident.  They
 * are kept for reuse (no page fault when taken again) until they are
 * idle: the heap grew by SA_IDLE_PAGES
 * fresh pages (the growth clock below) without reusing or returning any
 * dirty run.
 * Then they are discarded (MADV_DONTNEED): a program that moved on to
 * other sizes, or to the large path, does not keep its old pages on top of
 * its new ones.  A program that keeps reusing them never pays a discard
 * and a page fault.  And they decay: an arena's dirty pages are discarded
 * SA_DIRTY_DECAY_MS after it got them (jemalloc's decay, checked when
 * pools are returned rather than by a background thread), so a program
 * that shrank for good gives its memory back.
 *
 * A run is cut from dirty pages whenever some arena has a dirty run long
 * enough (else the run holding the most dirty pages, if any: fewer pages
 * to fault in), before the fullest-first order is asked: the fullest arena
 * might only have pages never faulted in, and taking those while dirty
 * ones wait elsewhere adds to the resident peak (prodcons faulted all of
 * its 6 arenas, 378 pages, for a peak of 337 pages in pools; cut from
 * dirty pages first, 339).  Only arenas on the dirty list are looked at.
 *
 * The growth clock counts the pages the arenas and the large path fault
 * in (fresh runs, fresh mappings, grown blocks).  The large cache uses it
 * the same way for its resident blocks (alloc/large.h).
 *
 * Locking: the free lists, carve and used count of a pool belong to its
 * owner heap's thread.  Pool ownership changes and all arena state are
 * under arena_lock, alloc/arena.c's one lock (taken about once per pool's
 * worth of allocations).
 */
#ifndef SA_ARENA_H
#define SA_ARENA_H

#include "common/compiler.h"

#include <stdint.h>

#include "alloc/tunables.h"
#include "alloc/pagemap.h"
#include "alloc/tag.h"

typedef struct sa_block {
    struct sa_block *next;
    uintptr_t key;                /* address ^ sa_secret while free */
} sa_block;

enum { SA_POOL_EMPTY = 0, SA_POOL_USED = 1, SA_POOL_FULL = 2 };

struct sa_heap;

/* What free() reads comes first, 20 bytes: with descriptors 56 bytes
 * apart, it lies on one cache line for 3 descriptors in 4 (it spanned
 * 32 bytes, and two lines for half of them); then the trace records'
 * pointer, which a traced malloc and free read with them. */
typedef struct sa_pool {
    struct sa_heap *heap;         /* owner; NULL while EMPTY */
    uint32_t carve;               /* offset of the first untouched block */
    uint32_t recip;               /* sa_classes[cls].recip */
    uint8_t cls;
    uint8_t state;
    uint16_t used;                /* allocated blocks, incl. remote-freed
                                     ones the owner has not collected */
    uint32_t limit;               /* capacity * size: carve stops here */
    sa_tag *tags;           /* capacity block tags (tag.h), or NULL */
    sa_block *free;               /* owner's free list */
    struct sa_pool *next, *prev;  /* owner's used[cls] list (USED only) */
} sa_pool;

typedef struct sa_arena {
    struct sa_arena *next, *prev; /* bucket list (by nfree) */
    uint64_t free_mask;           /* bit i set: page i is free */
    uint64_t dirty_mask;          /* free pages used since their last
                                     discard (may hold RSS); a subset of
                                     free_mask */
    uint64_t dirty_since;         /* ms (sa_os_now_ms) dirty_mask became
                                     nonzero */
    struct sa_arena *dnext, *dprev; /* dirty list: arenas whose dirty_mask
                                     is nonzero, and only those */
    uint32_t nfree;               /* popcount(free_mask) */
    uint32_t bucket;              /* the bucket it is listed in */
    uint32_t run_bound;           /* no run of free pages is longer: a
                                     multi-page search skips the arena
                                     without reading its masks (lowered
                                     when a search fails, reset to 64
                                     when pages are freed) */
    uint8_t run_start[SA_ARENA_PAGES];   /* SA_NO_RUN: header or free page */
    sa_pool pools[SA_ARENA_PAGES];       /* by first page; the cls of the
                                            others says SA_CLS_CONT/NONE */
} sa_arena;

#define SA_NO_RUN 0xffu
/* pools[i].cls of a page that starts no run: a later page of a multi-page
 * run (SA_CLS_CONT, and pools[i].used is the run's first page), or a free
 * or header page (SA_CLS_NONE). */
#define SA_CLS_CONT 0xfeu
#define SA_CLS_NONE 0xffu

_Static_assert(sizeof(sa_arena) <= SA_PAGE, "arena header fits in one page");

/* The header (page-aligned) holding a pool descriptor. */
static inline sa_arena *sa_pool_arena(const sa_pool *pool)
{
    return (sa_arena *)((uintptr_t)pool & ~(uintptr_t)(SA_PAGE - 1));
}

/* First byte of the arena whose header is a. */
static inline char *sa_arena_base(const sa_arena *a)
{
    return (char *)((uintptr_t)a & ~(uintptr_t)(SA_ARENA_SIZE - 1));
}

static inline char *sa_pool_base(const sa_pool *pool)
{
    sa_arena *a = sa_pool_arena(pool);
    return sa_arena_base(a) + (size_t)(pool - a->pools) * SA_PAGE;
}

/* The pool that the block at p (in arena a) belongs to, or NULL; *base
 * gets the pool's first byte.  A run's first page (every one-page pool)
 * is its own descriptor: free() reads one line of the header (two for the
 * later pages of a multi-page run), never run_start's. */
static inline sa_pool *sa_block_pool(sa_arena *a, const void *p, uintptr_t *base)
{
    unsigned page = (unsigned)((uintptr_t)p >> SA_PAGE_SHIFT) & (SA_ARENA_PAGES - 1);
    sa_pool *pool = &a->pools[page];
    unsigned cls = pool->cls;
    if (__builtin_expect(cls < SA_CLS_CONT, 1)) {
        *base = (uintptr_t)p & ~(uintptr_t)(SA_PAGE - 1);
        return pool;
    }
    if (cls != SA_CLS_CONT)
        return (sa_pool *)0;
    /* A later page of a run: its descriptor's used field holds the run's
     * first page (the same line as cls: no run_start read). */
    unsigned first = pool->used;
    *base = (uintptr_t)sa_arena_base(a) + (uintptr_t)first * SA_PAGE;
    return &a->pools[first];
}

/* The pool of block p, whose page entry (alloc/pagemap.h) is pe: from the
 * address and the entry alone, with no load. */
static inline sa_pool *sa_arena_entry_pool(unsigned pe, const void *p)
{
    uintptr_t base = (uintptr_t)p & ~(uintptr_t)(SA_ARENA_SIZE - 1);
    sa_arena *a = (sa_arena *)(base + (uintptr_t)sa_pagemap_page_color(pe) * SA_PAGE);
    unsigned page = (unsigned)((uintptr_t)p >> SA_PAGE_SHIFT) & (SA_ARENA_PAGES - 1);
    return &a->pools[page - sa_pagemap_page_distance(pe)];
}

extern SA_HIDDEN uintptr_t sa_secret;

/* SNAPALLOC_THP=1 (alloc/init.c): arena reserves are 2 MiB-aligned and marked
 * MADV_HUGEPAGE, so the kernel may back them with transparent huge pages
 * (fewer TLB misses, at the cost of resident memory: a huge page is
 * resident whole).  Set before the first arena is mapped. */
extern SA_HIDDEN int sa_arena_thp;

/* Take an EMPTY pool of class cls (state USED, no owner yet), or NULL with
 * errno = ENOMEM.  growing: the heap's last pool of the class just filled
 * up, so this one will be carved whole: its fresh pages are faulted in at
 * once (populate_plan in alloc/arena.c).  Takes arena_lock. */
sa_pool *sa_arena_take_pool(unsigned cls, int growing);
/* Give back a pool whose blocks are all free.  Takes arena_lock. */
void sa_arena_return_pool(sa_pool *pool);
/* Unmap every wholly free arena and discard free pages (malloc_trim).
 * Returns 1 if memory was given back to the OS. */
int sa_arena_trim(void);

/* A mapping failed (ENOMEM: a ulimit -v, the kernel's overcommit
 * policy): give back what malloc_trim gives back, the large cache's
 * blocks and the wholly free arenas (the spare and those waiting for
 * their decay), so that the caller can try once more.  Returns 1 if
 * anything was unmapped.  Takes the large and arena locks (call
 * without locks). */
int sa_release_cached_memory(void);

typedef struct sa_arena_counts {
    uint64_t allocated_total, reclaimed, highwater, current;
    uint64_t active_pages;        /* pages in runs (pools) */
    uint64_t dirty_pages;         /* free pages that may be resident */
    uint64_t purged_pages;        /* dirty pages discarded, total */
} sa_arena_counts;
void sa_arena_get_counts(sa_arena_counts *out);
/* The growth clock: pages faulted in so far by the arenas and the large
 * path.  sa_growth_advance adds pages and returns the new reading. */
uint64_t sa_growth_now(void);
uint64_t sa_growth_advance(uint64_t pages);
/* The heap grew to growth clock reading now: discard the arenas' dirty
 * pages if they are idle.  Takes arena_lock (call without locks). */
void sa_arena_heap_grew(uint64_t now);
/* Let dirty pages and free arenas decay (SA_DIRTY_DECAY_MS) if it is
 * time: for slow paths that steady traffic takes (the thread caches'
 * refills and flushes), cheap when nothing is due.  Takes arena_lock
 * only if free (call without locks). */
void sa_arena_decay_tick(void);
/* Visit every arena under arena_lock (statistics, leak scans). */
void sa_arena_foreach(void (*fn)(sa_arena *a, void *ctx), void *ctx);

void sa_arena_prefork(void);
void sa_arena_postfork_parent(void);
void sa_arena_postfork_child(void);

#endif
