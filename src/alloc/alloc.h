/* alloc/alloc.h - the allocator's API to the rest of the library (the
 * tracer, the leak check, the exported entry points in src/preload),
 * grouped by the file that defines it.  Small hot helpers are static
 * inline in their own headers (heap.h, pagemap.h, alloc_inline.h).  The
 * allocator knows nothing of its clients: what it keeps for the tracer is
 * an opaque per-block tag (tag.h).
 */
#ifndef SA_ALLOC_H
#define SA_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/tag.h"
#include "common/compiler.h"

/* alloc/alloc.c: the allocator's own API (malloc semantics, no tracing).  The
 * exported names (malloc, free, ...) live in preload/override.c. */
void *sa_malloc(size_t size);
void *sa_calloc(size_t n, size_t size);
void *sa_realloc(void *p, size_t size);
void sa_free(void *p);
void *sa_aligned(size_t align, size_t size);   /* align: power of two */
size_t sa_usable_size(const void *p);          /* 0 for NULL or foreign */

/* alloc/alloc.c: the tag (tag.h) of the block starting at p.  NULL if p
 * is not a block we own; with create, the pool's tag storage is made on
 * first use (NULL if that fails). */
sa_tag *sa_tag_slot(const void *p, int create);
/* Whether a block that starts in the page of p, an arena block, has a tag
 * whose id is neither 0 nor ignore (the page's blocks are those whose
 * free reads its page entry).  Reads the pool's tags only. */
int sa_page_has_tags(const void *p, uint32_t ignore);

/* alloc/alloc.c: report misuse ("free(): double free detected: 0x...") and abort. */
__attribute__((noreturn, cold)) void sa_misuse(const char *fn, const char *what, const void *p);
/* alloc/alloc.c: blocks of a client's in a range whose granules have a
 * page-map leaf but entry 0 (guard pages' pool, debug/guard.c, which
 * sets this at start-up; NULL otherwise).  free() reaches free through
 * sa_free_other (1: it was the client's block); sa_usable_size and
 * sa_tag_slot ask usable and tag. */
typedef struct sa_foreign_ops {
    int (*free)(void *p);
    size_t (*usable)(const void *p);
    sa_tag *(*tag)(const void *p);
} sa_foreign_ops;
extern SA_HIDDEN const sa_foreign_ops *sa_foreign;
/* alloc/alloc.c: bytes of tag storage. */
extern SA_HIDDEN size_t sa_tag_mem;

/* alloc/init.c */
void sa_init_slow(void);
extern SA_HIDDEN int sa_initialized;
SA_INLINE void sa_init(void)
{
    if (SA_UNLIKELY(!__atomic_load_n(&sa_initialized, __ATOMIC_ACQUIRE)))
        sa_init_slow();
}

/* alloc/init.c: the allocator's fork handlers, registered by sa_init with
 * pthread_atfork; also what the leak check calls to take (prefork) and
 * release (postfork_parent) every allocator lock around stopping the
 * world.  Lock order: heap registry, shared heap, abandoned heaps, large
 * cache, arenas, metadata (whoever else locks takes its own locks
 * first: the tracer, preload/lifecycle.c). */
void sa_alloc_prefork(void);
void sa_alloc_postfork_parent(void);
void sa_alloc_postfork_child(void);

/* alloc/stats.c: the statistics SNAPALLOC_STATS and malloc_stats print,
 * and the totals mallinfo reports. */
int sa_stats_print(int fd);
struct sa_totals { size_t arena, inuse, free_small, large; };
void sa_stats_totals(struct sa_totals *t);

#endif
