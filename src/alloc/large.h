/* alloc/large.h - blocks above SA_MEDIUM_MAX: each its own mapping, aligned to
 * a 256 KiB granule (see alloc/pagemap.h), registered in the page map with a
 * descriptor from alloc/meta.c.  realloc moves pages with mremap instead of
 * copying.  Freed mappings of up to SA_LARGE_CACHE_MAXBLK (32 MiB) are
 * kept in a cache (SA_LARGE_CACHE_SLOTS, SA_LARGE_CACHE_BYTES) and reused
 * by a later large malloc of a similar size (at most 1/4 bigger; up to
 * twice the size while it keeps its pages, which saves their page
 * faults), saving mmap/munmap and the page-map updates.  Cached blocks
 * keep their pages (dirty) while the live large bytes plus the cached
 * dirty bytes stay within the live bytes' peak (at least
 * SA_LARGE_CACHE_RESIDENT, at most SA_LARGE_DIRTY_MAX) and for
 * SA_LARGE_DECAY_MS; then they give them back (MADV_DONTNEED), oldest
 * first, and keep only the address range.  calloc of a dirty block
 * clears only the pages that are present and not zero.
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
    int sampled;               /* a fresh calloc left lazy: its free counts
                                  the pages the program touched */
    uint64_t cached_ms;        /* when cached with its pages (decay) */
    sa_tag tag;
    struct sa_large *next, *prev;   /* every descriptor, for heap walks */
} sa_large;

/* Make the first n bytes of a block that kept its pages read as zeros,
 * writing only pages that are present and not zero already (calloc of a
 * reused dirty block). */
void sa_large_zero_dirty(char *base, size_t n);

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
