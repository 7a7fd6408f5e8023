/* alloc/sizeclass.h - request size -> size class -> block size.
 *
 *   class   request        block   pool pages
 *   0       0..16          16      1          small: 16-byte steps,
 *   1       17..32         32      1          (n - 1) >> 4
 *   ...
 *   31      497..512       512     1
 *   32      513..528       528     3          medium: per doubling above 2^b,
 *   33      529..576       576     9          8 classes 2^b + k * 2^(b-3),
 *   34      577..640       640     3          k = 1..8, and below 8 KiB
 *   ...                                       one more, 2^b + 16 (2^b + 336
 *                                             for b = 12)
 *   40      961..1024      1024    1
 *   41      1025..1040     1040    9
 *   42      1041..1152     1152    9
 *   ...
 *   58      3841..4096     4096    1
 *   59      4097..4432     4432    12
 *   60      4433..4608     4608    9
 *   ...
 *   91      61441..65536   65536   16
 *
 * The 2^b + 16 classes are for the commonest misfit of a geometric series:
 * a power of two plus a small header (sqlite keeps tens of thousands of
 * 1032-byte blocks live); without them such a request wastes 11%.  At
 * 4 KiB the misfit is a page plus its bookkeeping: sqlite's page cache
 * allocates each 4096-byte page with 272 bytes of headers (tens of
 * thousands live in a big database), which 4608-byte blocks padded by
 * 5.5%.  A 4432 class takes headers up to 336 bytes in 12-page pools of
 * 11 blocks, 4468 bytes of pool per block (4464 would get 11-page pools of
 * 10 blocks under pool_pages' rule, 4506 per block).  A 4096 + 16 class
 * would lose a page-sized tail per pool, as much as it saves, and above
 * 8 KiB the geometric steps are fine enough.
 *
 * Pool pages are chosen per class (alloc/sizeclass.c) so that the tail lost to
 * quantization is under 1/64 of the pool.
 */
#ifndef SA_SIZECLASS_H
#define SA_SIZECLASS_H

#include "common/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include "alloc/tunables.h"

typedef struct sa_class_info {
    uint32_t size;       /* block size */
    uint32_t pages;      /* pages per pool */
    uint32_t capacity;   /* blocks per pool */
    uint32_t recip;      /* ceil(2^32 / size): offset / size without a divide */
    uint32_t limit;      /* capacity * size: no block starts at or past it */
    uint32_t cache_max;  /* thread-cache bound: SA_TCACHE_BLOCKS (64) blocks
                            and SA_TCACHE_BYTES (32 KiB), so 0 for blocks
                            above 32 KiB; a cache's own bound adapts
                            below it (alloc/heap.c) */
    uint32_t unused[2];  /* 32 bytes: free() indexes the table by a shift */
} sa_class_info;
_Static_assert(sizeof(sa_class_info) == 32, "sa_class_info is indexed by shift");

/* The class table, indexed by the low byte of a page entry (alloc/
 * pagemap.h) so that free() finds a block's class info with no test:
 *
 *   SA_CLASS_PLAIN + c   class c (sa_classes[c])
 *   SA_CLASS_SLOW + c    the same for a page marked for the slow free
 *                        (pagemap.h, sa_pagemap_page_mark_slow): limit 0,
 *                        so free()'s bounds check sends its blocks out of
 *                        the fast path; recip and size as class c's
 *   anything else        zero (limit 0 too)
 */
#define SA_CLASS_PLAIN 0x80u
#define SA_CLASS_SLOW 1u
_Static_assert(SA_CLASS_SLOW + SA_NCLASSES <= SA_CLASS_PLAIN, "slow entries fit below plain ones");
extern SA_HIDDEN sa_class_info sa_class_by_entry[256];
#define sa_classes (sa_class_by_entry + SA_CLASS_PLAIN)

/* sa_aligned_class[k][c]: the first class >= c whose block size is a
 * multiple of 2^(k + SA_ALIGNED_MIN_SHIFT), i.e. whose every block is that
 * aligned (pools start on page boundaries), or SA_NO_CLASS.  Alignments
 * 32..4096: memalign and aligned new find their class in one load. */
#define SA_ALIGNED_MIN_SHIFT 5                          /* 32 */
#define SA_ALIGNED_SHIFTS (SA_PAGE_SHIFT - SA_ALIGNED_MIN_SHIFT + 1)   /* .. 4096 */
#define SA_NO_CLASS 0xffu
_Static_assert(1u << SA_ALIGNED_MIN_SHIFT == 2 * SA_ALIGNMENT,
               "alignments up to SA_ALIGNMENT need no table");
extern SA_HIDDEN uint8_t sa_aligned_class[SA_ALIGNED_SHIFTS][SA_NCLASSES];

void sa_sizeclass_init(void);

/* The header part of the split class 2^b + header, b < SA_SPLIT_MAX_SHIFT. */
static inline unsigned sa_split_header(unsigned b)
{
    return b < SA_PAGE_SHIFT ? 16u : SA_PAGE_HEADER;
}

/* Class of a request SA_SMALL_MAX < n <= SA_MEDIUM_MAX. */
static inline unsigned sa_medium_class(size_t n)
{
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    unsigned k = (unsigned)(((n - 1) >> (b - 3)) & 7);
    if (b >= SA_SPLIT_MAX_SHIFT)
        return SA_SMALL_CLASSES + (SA_SPLIT_MAX_SHIFT - 9) * 9 + (b - SA_SPLIT_MAX_SHIFT) * 8 + k;
    /* k == 0 is split: up to 2^b + header, then up to 2^b + 2^(b-3). */
    return SA_SMALL_CLASSES + (b - 9) * 9 + k +
           (k != 0 || n - 1 - ((size_t)1 << b) >= sa_split_header(b));
}

/* Class of a request n <= SA_MEDIUM_MAX. */
static inline unsigned sa_size_class(size_t n)
{
    if (n <= SA_SMALL_MAX)
        return n ? (unsigned)((n - 1) >> 4) : 0;
    return sa_medium_class(n);
}

/* Block index of byte offset off inside a pool of class c; exact for every
 * offset < SA_MAX_POOL_PAGES * SA_PAGE (checked by the unit tests). */
static inline uint32_t sa_class_index(unsigned c, uint32_t off)
{
    return (uint32_t)(((uint64_t)off * sa_classes[c].recip) >> 32);
}

#endif
