/* alloc/large.h - blocks above SA_MEDIUM_MAX: each its own mapping, aligned to
 * a 256 KiB granule (see alloc/pagemap.h), registered in the page map with a
 * descriptor from alloc/meta.c.  realloc moves pages with mremap instead of
 * copying.  Freed mappings of up to SA_LARGE_CACHE_MAXBLK are kept in a
 * small cache (SA_LARGE_CACHE_SLOTS, SA_LARGE_CACHE_BYTES) and reused by a
 * later large malloc of a similar size (at most 1/4 bigger; up to twice
 * the size while it keeps its pages, which saves their page faults),
 * saving mmap/munmap and the page-map updates.  Only the most recent
 * SA_LARGE_CACHE_RESIDENT bytes keep their pages; older entries give
 * them back (MADV_DONTNEED) and keep only the address range, so the
 * cache costs little RSS (and such a block needs no memset for calloc).
 * A cached block's descriptor says it is free, so a second free() of it
 * is still caught.
 */
#ifndef SA_LARGE_H
#define SA_LARGE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/tag.h"

typedef struct sa_large {
    char *base;                /* the block (== mapping start) */
    size_t size;               /* mapping bytes, a page multiple */
    size_t want;               /* bytes last asked for (malloc or realloc) */
    int live;                  /* 0 while in the cache */
    int resident;              /* cached with its pages (else released) */
    sa_tag tag;
    struct sa_large *next, *prev;   /* every descriptor, for heap walks */
} sa_large;

/* align: 0 or a power of two.  zero: the result must read as zeros. */
void *sa_large_alloc(size_t n, size_t align, int zero);
void sa_large_free(sa_large *d, void *p);
void *sa_large_realloc(sa_large *d, void *p, size_t n);

typedef struct sa_large_counts {
    uint64_t live_blocks, live_bytes, cached_blocks, cached_bytes, resident_bytes, total_allocs, total_frees;
} sa_large_counts;
void sa_large_get_counts(sa_large_counts *out);
/* The heap grew to growth clock reading now (alloc/arena.h): if it grew by
 * SA_IDLE_PAGES since the cache was last used, its resident pages are
 * idle memory that only adds to the peak, and go back. */
void sa_large_heap_grew(uint64_t now);
/* Unmap the cached blocks (malloc_trim).  Returns 1 if any. */
int sa_large_trim(void);

/* Visit every live large block under the large lock. */
void sa_large_foreach(void (*fn)(sa_large *d, void *ctx), void *ctx);

void sa_large_prefork(void);
void sa_large_postfork_parent(void);
void sa_large_postfork_child(void);

#endif
