/* alloc/pagemap.h - which memory is ours: a two-level radix tree keyed by
 * address >> SA_ARENA_SHIFT (256 KiB granules), like CPython's
 * arena_map/address_in_range, that free() consults without touching the
 * block's memory.
 *
 *   address bits:  47 ........ 33 | 32 ........ 18 | 17 ...... 0
 *                  root index (15)  leaf index (15)  inside granule
 *
 * The root (32768 pointers) lives in BSS; a leaf (32768 granule entries,
 * 256 KiB, the page entries below, 4 MiB, and the pools' tag
 * pointers, 16 MiB, covering 8 GiB of address space) is mapped the first
 * time a granule in its range becomes ours, and
 * is never unmapped; only the lines describing our memory are touched.
 * Granule entries are tagged:
 *
 *   0                      not ours
 *   arena | SA_PM_ARENA    a 256 KiB arena (its header, in one of its pages)
 *   desc  | SA_PM_LARGE    a granule of a large block (sa_large descriptor)
 *   base  | SA_PM_FREED    a large block was unmapped here: base is kept so
 *                          that a second free of base is reported
 *
 * Invariant: every region we map starts on a granule boundary, so two of
 * our regions never share a granule and every granule has one owner.
 *
 * Each leaf also holds a 16-bit page entry for every 4 KiB page of its
 * range (4 MiB of address space reserved per leaf, a few lines touched per
 * arena), which free() reads instead of the pool descriptor:
 *
 *   bits 12..15 the page of its arena that holds the arena's header
 *   bits 8..11  how many pages after the pool's first page it is
 *   bit 7       SA_PM_PAGE_VALID: a page of a pool that holds the start of
 *               carved blocks (alloc/heap.c carve_page sets the entry; returning
 *               the pool clears it); the entry of every other page is 0
 *   bits 0..6   the pool's size class
 *
 * or, for a page marked for the slow free (sa_pagemap_page_mark_slow),
 * bits 0..7 = SA_CLASS_SLOW + class (bit 7 clear, the entry still
 * nonzero): alloc/sizeclass.h's table gives such an entry a bound of 0,
 * so free()'s own check fails and sends the block to its slow path with
 * no test added to the fast one.  Sampled tracing (trace/sample.h) marks
 * the page of each block it records: free() then calls the tracer only
 * for blocks in such pages, and every other free costs what an untraced
 * one does.  The tracer clears the mark when the last recorded block of
 * the page is freed (trace/trace.c, under its mark lock: a page holding
 * a live recorded block is always marked); returning the pool clears it
 * too.
 *
 * And a pointer for every page: at the first page of a pool whose blocks
 * have tags (tag.h), that pool's tag array (the pool descriptor's tags,
 * set and cleared with it; NULL everywhere else).  A traced malloc or
 * free finds a block's tag from its page entry and
 * this pointer, 8 bytes per pool packed with its neighbours', instead of
 * reading the pool's descriptor first: one cold line less on each
 * (16 MiB of address space per leaf, touched only under tracing).
 *
 * Why: the entries of a whole heap are a few dense lines (a 64 MiB heap
 * uses 32 KiB of them), where descriptors are 56 bytes per page spread
 * over one header page per arena.  free() of a random block read a cold
 * descriptor line from one of hundreds of pages; now it reads an entry
 * from a handful of hot lines, and the descriptor only when the block
 * leaves the thread's cache (whose address the entry gives with no load:
 * sa_arena_entry_pool).  Nonzero entries are exact: the owner sets
 * an entry before it hands out a block starting in that page, and a pool
 * is returned (its entries cleared) only when none of its blocks is
 * allocated.
 */
#ifndef SA_PAGEMAP_H
#define SA_PAGEMAP_H

#include "common/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include "alloc/sizeclass.h"
#include "alloc/tunables.h"

#define SA_PM_ROOT_BITS 15
#define SA_PM_LEAF_BITS 15
#define SA_PM_ADDR_BITS (SA_ARENA_SHIFT + SA_PM_ROOT_BITS + SA_PM_LEAF_BITS)   /* 48 */

enum { SA_PM_ARENA = 1, SA_PM_LARGE = 2, SA_PM_FREED = 3, SA_PM_TAG = 3 };

#define SA_PM_PAGE_BITS (SA_PM_LEAF_BITS + SA_ARENA_SHIFT - SA_PAGE_SHIFT)   /* 21 */
#define SA_PM_PAGE_VALID 0x80u
#define SA_PM_PAGE_CLASS 0x7fu
/* The low byte, which indexes alloc/sizeclass.h's sa_class_by_entry:
 * SA_PM_PAGE_VALID | class, or SA_CLASS_SLOW + class (marked). */
#define SA_PM_PAGE_CLASS_BYTE 0xffu
#define SA_PM_PAGE_DISTANCE 0x0f00u
#define SA_PM_PAGE_DISTANCE_SHIFT 8
#define SA_PM_PAGE_COLOR_SHIFT 12
_Static_assert(SA_NCLASSES <= SA_PM_PAGE_CLASS + 1, "a class fits 7 bits");
_Static_assert(SA_PM_PAGE_VALID == SA_CLASS_PLAIN, "a plain entry's low byte indexes sa_classes");
_Static_assert(SA_ARENA_COLORS <= 16, "the header's page fits 4 bits");

struct sa_tag;

typedef struct sa_pm_leaf {
    uintptr_t entry[1u << SA_PM_LEAF_BITS];
    uint16_t page[1u << SA_PM_PAGE_BITS];
    struct sa_tag *tags[1u << SA_PM_PAGE_BITS];   /* at pools' first pages */
} sa_pm_leaf;
_Static_assert(SA_MAX_POOL_PAGES <= 16, "a page's distance to its pool's first fits 4 bits");

extern SA_HIDDEN sa_pm_leaf *sa_pm_root[1u << SA_PM_ROOT_BITS];


/* The leaf whose range holds p, or NULL if it has none (nothing of ours
 * there). */
SA_INLINE sa_pm_leaf *sa_pagemap_leaf(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (a >> SA_PM_ADDR_BITS)
        return NULL;
    return __atomic_load_n(&sa_pm_root[a >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)],
                           __ATOMIC_ACQUIRE);
}

/* The granule entry of p in its (non-NULL) leaf. */
SA_INLINE uintptr_t sa_pagemap_leaf_get(const sa_pm_leaf *leaf, const void *p)
{
    return __atomic_load_n(&leaf->entry[((uintptr_t)p >> SA_ARENA_SHIFT) &
                                        ((1u << SA_PM_LEAF_BITS) - 1)], __ATOMIC_ACQUIRE);
}

/* The page entry of p in its (non-NULL) leaf. */
SA_INLINE unsigned sa_pagemap_page_get(const sa_pm_leaf *leaf, const void *p)
{
    return __atomic_load_n(&leaf->page[((uintptr_t)p >> SA_PAGE_SHIFT) &
                                       ((1u << SA_PM_PAGE_BITS) - 1)], __ATOMIC_RELAXED);
}

static inline uintptr_t sa_pagemap_get(const void *p)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    return leaf ? sa_pagemap_leaf_get(leaf, p) : 0;
}

/* The page entry of a page distance pages after the first of its pool of
 * class cls, in an arena whose header is its page color. */
static inline unsigned sa_pagemap_page_entry(unsigned cls, unsigned distance, unsigned color)
{
    return color << SA_PM_PAGE_COLOR_SHIFT | distance << SA_PM_PAGE_DISTANCE_SHIFT |
           SA_PM_PAGE_VALID | cls;
}

/* The fields of a nonzero page entry pe (the layout above). */
SA_INLINE unsigned sa_pagemap_page_distance(unsigned pe)
{
    return (pe & SA_PM_PAGE_DISTANCE) >> SA_PM_PAGE_DISTANCE_SHIFT;
}

SA_INLINE unsigned sa_pagemap_page_color(unsigned pe)
{
    return pe >> SA_PM_PAGE_COLOR_SHIFT;
}

/* The size class of a nonzero page entry pe, marked or not. */
SA_INLINE unsigned sa_pagemap_page_class(unsigned pe)
{
    return (pe & SA_PM_PAGE_VALID) ? pe & SA_PM_PAGE_CLASS : (pe & SA_PM_PAGE_CLASS_BYTE) - SA_CLASS_SLOW;
}

/* Whether nonzero page entry pe is marked for the slow free. */
SA_INLINE int sa_pagemap_page_is_slow(unsigned pe)
{
    return !(pe & SA_PM_PAGE_VALID);
}

/* The plain entry of nonzero page entry pe (pe itself if not marked). */
SA_INLINE unsigned sa_pagemap_page_plain(unsigned pe)
{
    return (pe & ~SA_PM_PAGE_CLASS_BYTE) | SA_PM_PAGE_VALID | sa_pagemap_page_class(pe);
}

/* Mark the page of p, in leaf, whose entry is nonzero, for the slow free
 * (above).  Called by the thread that has just allocated a block there,
 * before the program sees it: any free of that block reads the mark. */
static inline void sa_pagemap_page_mark_slow(sa_pm_leaf *leaf, const void *p)
{
    uint16_t *slot = &leaf->page[((uintptr_t)p >> SA_PAGE_SHIFT) & ((1u << SA_PM_PAGE_BITS) - 1)];
    unsigned pe = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (pe && !sa_pagemap_page_is_slow(pe))
        __atomic_store_n(slot, (uint16_t)((pe & ~SA_PM_PAGE_CLASS_BYTE) |
                                          (SA_CLASS_SLOW + (pe & SA_PM_PAGE_CLASS))),
                         __ATOMIC_RELAXED);
}

/* Clear the mark of p's page (in leaf) if it has one: its free is free()'s
 * fast path again. */
static inline void sa_pagemap_page_unmark(sa_pm_leaf *leaf, const void *p)
{
    uint16_t *slot = &leaf->page[((uintptr_t)p >> SA_PAGE_SHIFT) & ((1u << SA_PM_PAGE_BITS) - 1)];
    unsigned pe = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (pe && sa_pagemap_page_is_slow(pe))
        __atomic_store_n(slot, (uint16_t)sa_pagemap_page_plain(pe), __ATOMIC_RELAXED);
}

/* The offset of p from the first page of its pool, whose page entry is pe
 * (nonzero). */
SA_INLINE uint32_t sa_pagemap_page_offset(unsigned pe, const void *p)
{
    return (uint32_t)((uintptr_t)p & (SA_PAGE - 1)) +
           ((pe & SA_PM_PAGE_DISTANCE) << (SA_PAGE_SHIFT - SA_PM_PAGE_DISTANCE_SHIFT));
}

/* Set the page entry of the page at addr, whose granule is mapped as an
 * arena (so its leaf exists): 0, or sa_pagemap_page_entry(). */
static inline void sa_pagemap_page_set(uintptr_t addr, unsigned entry)
{
    sa_pm_leaf *leaf = sa_pm_root[addr >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)];
    __atomic_store_n(&leaf->page[(addr >> SA_PAGE_SHIFT) & ((1u << SA_PM_PAGE_BITS) - 1)],
                     (uint16_t)entry, __ATOMIC_RELAXED);
}

/* The tags of the pool that holds p, whose page entry in leaf
 * is pe (nonzero), or NULL if the pool has none yet. */
SA_INLINE struct sa_tag *sa_pagemap_pool_tags(const sa_pm_leaf *leaf, unsigned pe,
                                              const void *p)
{
    size_t page = ((uintptr_t)p >> SA_PAGE_SHIFT) & ((1u << SA_PM_PAGE_BITS) - 1);
    return __atomic_load_n(&leaf->tags[page - sa_pagemap_page_distance(pe)],
                           __ATOMIC_ACQUIRE);
}

/* Publish (or, with NULL, withdraw) the tag array of the pool whose
 * first page is at addr, in an arena (so its leaf exists). */
static inline void sa_pagemap_set_pool_tags(uintptr_t addr, struct sa_tag *tags)
{
    sa_pm_leaf *leaf = sa_pm_root[addr >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)];
    __atomic_store_n(&leaf->tags[(addr >> SA_PAGE_SHIFT) & ((1u << SA_PM_PAGE_BITS) - 1)],
                     tags, __ATOMIC_RELEASE);
}

/* Set the entries of every granule of [start, start + size) to value.
 * start is granule-aligned.  Returns 0, or -1 if a leaf could not be
 * mapped (nothing is changed then). */
int sa_pagemap_set(uintptr_t start, size_t size, uintptr_t value);

/* Bytes of leaves mapped (statistics): address space, of which only the
 * lines describing our memory are ever touched. */
size_t sa_pagemap_bytes(void);

#endif
