/* alloc/tunables.h - the tunables of the allocator, in one fenced place, with their
 * invariants checked at compile time.  See doc/design.md for why each value
 * was chosen.
 *
 *   request size        path     where                         threshold why
 *   ------------------  -------  ----------------------------  ---------------------------
 *   0 .. 512            small    1-page pools, 32 classes      pymalloc's classes (16-byte
 *                                of 16-byte steps              steps keep max_align_t)
 *   513 .. 65536        medium   1..16-page pools ("runs")     8 classes per power of two
 *                                in the same arenas            (<= 12.5% internal waste)
 *                                                              and 2^k + 16 below 4 KiB
 *                                                              for 2^k-plus-header; a
 *                                                              run still shares an arena
 *   > 65536             large    its own mmap, 256 KiB-        mremap makes realloc O(1);
 *                                aligned, cached when freed    a 64 KiB+ block amortises
 *                                                              its syscalls
 */
#ifndef SA_TUNABLES_H
#define SA_TUNABLES_H

/* ---- Main tunable settings ------------------------------------------ */

#define SA_ALIGNMENT        16u          /* alignof(max_align_t) on x86-64 */
#define SA_SMALL_MAX        512u         /* largest small request */
#define SA_SMALL_CLASSES    (SA_SMALL_MAX / SA_ALIGNMENT)   /* 32 */

#define SA_PAGE_SHIFT       12
#define SA_PAGE             (1u << SA_PAGE_SHIFT)           /* pool unit: 4 KiB */
#define SA_ARENA_SHIFT      18
#define SA_ARENA_SIZE       (1u << SA_ARENA_SHIFT)          /* 256 KiB */
#define SA_ARENA_PAGES      (SA_ARENA_SIZE / SA_PAGE)       /* 64, one is the header */
#define SA_ARENA_RESERVE    (4u << 20)   /* arenas are cut from 4 MiB maps */
#define SA_HUGE_PAGE        (2u << 20)   /* SNAPALLOC_THP aligns reserves to it */
#define SA_ARENA_COLORS     16u          /* header pages rotate over 64 KiB */

#define SA_MEDIUM_MAX       65536u       /* largest request served from arenas */
#define SA_MEDIUM_CLASSES   60u          /* 528 .. 65536 (alloc/sizeclass.h) */
#define SA_NCLASSES         (SA_SMALL_CLASSES + SA_MEDIUM_CLASSES)   /* 92 */
#define SA_SPLIT_MAX_SHIFT  13           /* 2^b + header classes for b < 13 */
#define SA_PAGE_HEADER      336u         /* 4096 + 336: a page plus bookkeeping */
#define SA_MAX_POOL_PAGES   16u          /* a medium run never exceeds 64 KiB */

/* Freed large mappings kept for reuse (no syscall, and for those that keep
 * their pages no page faults, on the next large malloc of a similar size).
 * The dirty (resident) bytes kept are bounded by the large blocks' peak:
 * live + SHARE x cached dirty <= the peak of live large bytes (at least
 * SA_LARGE_CACHE_RESIDENT, at most SA_LARGE_DIRTY_MAX), so keeping them
 * does not raise the peak beyond what the program's own blocks reached
 * (the block freed last may use the whole room); and they decay: a block cached with its pages for SA_LARGE_DECAY_MS
 * gives them back. */
#define SA_LARGE_CACHE_SLOTS   64u
#define SA_LARGE_CACHE_MAXBLK  (32u << 20)    /* larger blocks are unmapped (glibc's
                                                 mmap threshold ceiling) */
#define SA_LARGE_CACHE_BYTES   (256u << 20)   /* address space kept, resident or not */
#define SA_LARGE_CACHE_RESIDENT (2u << 20)    /* dirty bytes kept whatever the peak */
#define SA_LARGE_DIRTY_MAX     (64u << 20)    /* dirty bytes kept at most */
#define SA_LARGE_DECAY_MS      1000u
/* malloc'd (not calloc'd) blocks from this size on ask for transparent
 * huge pages (alloc/large.c, huge_advice). */
#define SA_LARGE_HUGE_MIN      (4u << 20)
#define SA_LARGE_DIRTY_SHARE   2u             /* of peak - live (alloc/large.c) */
/* A large calloc up to this size without resident pages is faulted in by
 * one system call (alloc/large.c). */
#define SA_LARGE_POPULATE_MAX  (1u << 20)
/* One in this many of those callocs is left lazy and sampled: whether the
 * program touches its calloc'd blocks whole decides for the others. */
#define SA_CALLOC_SAMPLE       8u

/* Per-thread cache of just-freed blocks, per class (alloc/heap.h). */
#define SA_TCACHE_BLOCKS    64u
#define SA_TCACHE_BYTES     32768u
/* Where a class's cache bound starts, and the floor it halves to for a
 * thread that only passes other threads' blocks on (alloc/heap.c): such a
 * thread hands them back in runs of half its bound, along which their
 * owner's walk prefetches (SA_REMOTE_SKIP).  At 4, prodcons's consumer
 * pushed runs of two, and its producer spent a fifth of its time chasing
 * them block by block: 0.72 s at 4, 0.50 s at 16, 0.45 s at 32 (0.62 s
 * without the prefetch), peak RSS 3.4 MiB at 4, 3.4-3.9 MiB at 32. */
#define SA_TCACHE_MIN_BLOCKS 32u
/* A class's bound doubles only while the thread's caches together hold
 * less than this (alloc/heap.c, cache_overflow). */
#define SA_TCACHE_TOTAL     (128u << 10)

/* Wholly free arenas kept mapped once their pages decayed (pymalloc
 * keeps one, bpo-37257); until then every one waits (alloc/arena.h). */
#define SA_SPARE_ARENAS     1u

/* Free memory kept resident for reuse (alloc/arena.h): dirty arena pages and
 * the large cache's blocks are discarded once the heap has faulted in
 * SA_IDLE_PAGES fresh pages since they were last used (reused or, for
 * dirty pages, returned), and dirty arena pages
 * SA_DIRTY_DECAY_MS after they became dirty in any case. */
#define SA_IDLE_PAGES       64u          /* 256 KiB */
#define SA_DIRTY_DECAY_MS   1000u
/* ... but the growth's purge leaves the pages of arenas dirty for less
 * than this (alloc/arena.c, purge_dirty_settled). */
#define SA_GROWTH_PURGE_MS  100u
/* Fresh pages a growing class's one-page pool faults in at once: the
 * pool's and those after it (alloc/arena.c, populate_plan).  8 pages took most
 * of the saving in a measurement (64 MB faulted in: 162 ms a page at a
 * time, 96 ms 4 pages, 86 ms 16 pages at a time, in a VM). */
#define SA_POPULATE_PAGES   8u
/* How many candidate arenas a multi-page run search looks at before it
 * maps a new arena (bounds the cost of fragmentation). */
#define SA_RUN_SEARCH_LIMIT 256u
/* How many arenas with dirty pages a run is looked for in before the
 * fullest-first search (alloc/arena.h). */
#define SA_DIRTY_SEARCH_LIMIT 16u

/* ---- End of tunable settings ------------------------------------------ */

_Static_assert((SA_ALIGNMENT & (SA_ALIGNMENT - 1)) == 0, "alignment is a power of two");
_Static_assert(SA_SMALL_MAX % SA_ALIGNMENT == 0, "small classes tile the threshold");
_Static_assert(SA_ARENA_SIZE % SA_PAGE == 0, "arena is a whole number of pages");
_Static_assert(SA_ARENA_RESERVE % SA_ARENA_SIZE == 0, "a reserve is a whole number of arenas");
_Static_assert(SA_ARENA_PAGES == 64, "the arena page bitmap is one uint64_t");
_Static_assert(SA_MAX_POOL_PAGES < SA_ARENA_PAGES - 1, "a run fits in an arena");
_Static_assert(SA_MEDIUM_MAX <= SA_MAX_POOL_PAGES * SA_PAGE, "largest medium block fits a run");
_Static_assert(SA_LARGE_CACHE_RESIDENT <= SA_LARGE_DIRTY_MAX && SA_LARGE_DIRTY_MAX <= SA_LARGE_CACHE_BYTES,
               "the large cache's dirty floor, cap and address-space bound nest");
_Static_assert(SA_PAGE / SA_ALIGNMENT <= 65535, "block counts fit in uint16_t");

#endif
