/* alloc/alloc_inline.h - the free() fast path, shared by alloc/alloc.c and the
 * exported entry points in preload/override.c so both inline it. */
#ifndef SA_ALLOC_INLINE_H
#define SA_ALLOC_INLINE_H

#include "alloc/heap.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"

/* The pool of p, which must be an allocated small/medium block of arena
 * entry e; reports misuse on behalf of fn otherwise. */
SA_INLINE sa_pool *checked_pool(uintptr_t e, void *p, const char *fn)
{
    sa_arena *a = (sa_arena *)(e - SA_PM_ARENA);
    uintptr_t base;
    sa_pool *pool = sa_block_pool(a, p, &base);
    if (SA_UNLIKELY(!pool))
        sa_misuse(fn, "double free or invalid pointer", p);
    uint32_t off = (uint32_t)((uintptr_t)p - base);
    /* off is a block start iff off * recip leaves less than recip in the
     * low word (alloc/sizeclass.h; checked for every class and offset by the
     * unit tests): no divide, no multiply by the size, no table load. */
    uint64_t prod = (uint64_t)off * pool->recip;
    if (SA_UNLIKELY(off >= pool->carve || (uint32_t)prod >= pool->recip))
        sa_misuse(fn, "invalid pointer", p);
    sa_block *b = p;
    if (SA_UNLIKELY(b->key == ((uintptr_t)b ^ sa_secret)))
        sa_misuse(fn, "double free detected", p);
    return pool;
}

/* The tag of p, a block in a page whose entry in leaf is pe (nonzero),
 * if its pool has tags; else NULL.  From the page map (pagemap.h), not
 * the pool descriptor. */
SA_INLINE sa_tag *sa_tag_page_slot(const sa_pm_leaf *leaf, unsigned pe, const void *p)
{
    sa_tag *tags = sa_pagemap_pool_tags(leaf, pe, p);
    if (SA_UNLIKELY(tags == NULL))
        return NULL;
    uint32_t off = sa_pagemap_page_offset(pe, p);
    return &tags[((uint64_t)off * sa_class_by_entry[pe & SA_PM_PAGE_CLASS_BYTE].recip) >> 32];
}

/* The tag of p, a block the allocator has just returned, if p is an arena
 * block whose pool has its tags already; else NULL.  Never allocates (the
 * page map and the tag's line only). */
SA_INLINE sa_tag *sa_tag_slot_ready(void *p)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    if (SA_UNLIKELY(leaf == NULL))
        return NULL;
    unsigned pe = sa_pagemap_page_get(leaf, p);
    if (SA_UNLIKELY(pe == 0))
        return NULL;   /* a large block */
    return sa_tag_page_slot(leaf, pe, p);
}

/* The same, creating the pool's tags or finding a large block's:
 * sa_tag_slot(p, 1) without its checks on the common path. */
SA_INLINE sa_tag *sa_tag_slot_new(void *p)
{
    sa_tag *tag = sa_tag_slot_ready(p);
    return SA_LIKELY(tag != NULL) ? tag : sa_tag_slot(p, 1);
}

/* What a client does with a block's tag (NULL if it has none) just before
 * the block is freed: the tracer forgets its record there. */
typedef void sa_tag_fn(sa_tag *tag, void *p);

/* The same, for the frees that reach the slow paths whatever free()'s
 * caller did: blocks in pages marked for the slow free (pagemap.h) and
 * large blocks.  Set by the tracer before it marks a page (sampled
 * tracing); NULL until then.  May be called for a block whose record
 * its caller forgot already (the record is then empty). */
extern SA_HIDDEN sa_tag_fn *sa_free_forget;

/* free() of arena block p that its page entry did not pass: a block in
 * a page marked for the slow free (pagemap.h), or misuse, reported
 * (checked_pool's message).  Not noreturn, so that free() reaches it by
 * a jump and its fast path needs no stack frame for a call. */
SA_NOINLINE void sa_free_slow(void *p);
/* free() of p in a range of ours whose page entry is 0: a large block,
 * or misuse. */
SA_NOINLINE void sa_free_other(const sa_pm_leaf *leaf, void *p);

/* Whether b, in a page whose entry pe is nonzero (a page of carved
 * blocks), is an allocated block: a block start, inside the pool, not
 * free already.  From the page entry and the class table only; always
 * false in a page marked for the slow free (pagemap.h), whose class
 * entry bounds the pool at 0. */
SA_INLINE int sa_page_block_ok(unsigned pe, const sa_block *b)
{
    const sa_class_info *ci = &sa_class_by_entry[pe & SA_PM_PAGE_CLASS_BYTE];
    uint32_t off = sa_pagemap_page_offset(pe, b);
    uint64_t prod = (uint64_t)off * ci->recip;
    return !((uint32_t)prod >= ci->recip || off >= ci->limit ||
             b->key == ((uintptr_t)b ^ sa_secret));
}

/* Whether p, which free() was given, in a page whose entry pe is
 * nonzero, is an allocated block for the fast path; if not, the slow
 * path (sa_free_slow) has freed it or reported the misuse. */
SA_INLINE int sa_free_page_ok(unsigned pe, void *p)
{
    if (SA_UNLIKELY(!sa_page_block_ok(pe, p))) {
        sa_free_slow(p);
        return 0;
    }
    return 1;
}

/* free(): a block whose page holds carved blocks is validated from its
 * page entry and the class table and goes in the thread's cache; the
 * pool descriptor is read only if it does not fit there (pagemap.h says
 * why).  With forget (a constant at every call site, so that it is
 * inlined or, when NULL, compiled out), a valid block's tag is handed to
 * it first: the traced free shares free()'s checks and path, not a copy
 * of them. */
SA_INLINE void sa_free_then(void *p, sa_tag_fn *forget)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    if (SA_UNLIKELY(leaf == NULL))
        return;   /* NULL, or memory we do not own */
    unsigned pe = sa_pagemap_page_get(leaf, p);
    if (SA_LIKELY(pe != 0)) {
        if (SA_LIKELY(sa_free_page_ok(pe, p))) {
            if (forget)
                forget(sa_tag_page_slot(leaf, pe, p), p);
            /* A block that passed is in a plain page (pagemap.h): its
             * class is the entry's low byte less SA_CLASS_PLAIN, which
             * the compiler folds into the cache's displacement. */
            sa_heap_free_class(pe, (size_t)(pe & SA_PM_PAGE_CLASS_BYTE) - SA_CLASS_PLAIN, p);
        }
        return;
    }
    if (forget)
        forget(sa_tag_slot(p, 0), p);
    sa_free_other(leaf, p);
}

SA_INLINE void sa_free_inline(void *p)
{
    sa_free_then(p, NULL);
}

#endif
