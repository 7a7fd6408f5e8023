/* alloc/alloc.c - the allocator's API with malloc semantics: routing between
 * the small/medium heap path and the large path, ownership checks through
 * the page map, misuse detection, calloc/realloc/aligned allocation, and
 * the per-block tags (tag.h).  No exported malloc names here: those
 * are in preload/override.c, so unit tests can link this core next to glibc. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/fmt.h"
#include "alloc/heap.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "alloc/pagemap.h"
#include "alloc/alloc_inline.h"

uintptr_t sa_secret;
size_t sa_tag_mem;
const sa_foreign_ops *sa_foreign;

SA_NOINLINE void sa_misuse(const char *fn, const char *what, const void *p)
{
    char msg[160];
    size_t n = 0;
    const char *parts[] = { fn, ": ", what, ": " };
    for (unsigned i = 0; i < 4; i++) {
        size_t k = strlen(parts[i]);
        memcpy(msg + n, parts[i], k);
        n += k;
    }
    sa_fmt_hex(msg + n, (uintptr_t)p);
    sa_os_fatal(msg);
}

sa_tag_fn *sa_free_forget;

/* The tracer's forget for a block freed by a slow path. */
static void forget_slow(void *p)
{
    sa_tag_fn *forget = __atomic_load_n(&sa_free_forget, __ATOMIC_ACQUIRE);
    if (forget)
        forget(sa_tag_slot(p, 0), p);
}

void sa_free_slow(void *p)
{
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_ARENA) {
        /* checked_pool passes only a valid block (it reports anything
         * else and aborts), which, its page entry having failed free()'s
         * check, is in a page marked for the slow free: checked_pool is
         * at least as strict as that check (carve <= limit). */
        sa_pool *pool = checked_pool(e, p, "free()");
        forget_slow(p);
        sa_heap_free(pool, p);
        return;
    }
    sa_misuse("free()", "invalid pointer", p);
}

void sa_free_other(const sa_pm_leaf *leaf, void *p)
{
    uintptr_t e = sa_pagemap_leaf_get(leaf, p);
    if ((e & SA_PM_TAG) == SA_PM_ARENA) {
        /* Not a page of carved blocks: checked_pool reports it.  (It
         * would pass a valid block, which cannot get here.) */
        sa_heap_free(checked_pool(e, p, "free()"), p);
        return;
    }
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        sa_large *d = (sa_large *)(e - SA_PM_LARGE);
        if (p == d->base && __atomic_load_n(&d->live, __ATOMIC_ACQUIRE))
            forget_slow(p);
        sa_large_free(d, p);
        return;
    }
    if ((e & SA_PM_TAG) == SA_PM_FREED && (e & ~(uintptr_t)SA_PM_TAG) == (uintptr_t)p)
        sa_misuse("free()", "double free detected", p);
    if (e == 0 && sa_foreign) {
        forget_slow(p);   /* a sampled guarded block's record (free() did not) */
        if (sa_foreign->free(p))
            return;   /* a guarded block (debug/guard.h) */
    }
    /* Memory we do not own (the dynamic loader's early allocations,
     * another allocator's): leave it alone. */
}

void *sa_malloc(size_t size)
{
    return sa_heap_malloc(size);
}

void sa_free(void *p)
{
    sa_free_inline(p);
}

size_t sa_usable_size(const void *p)
{
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_ARENA) {
        sa_arena *a = (sa_arena *)(e - SA_PM_ARENA);
        uintptr_t base;
        sa_pool *pool = sa_block_pool(a, p, &base);
        return pool ? sa_classes[pool->cls].size : 0;
    }
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        sa_large *d = (sa_large *)(e - SA_PM_LARGE);
        return d->base == p ? d->size : 0;
    }
    return e == 0 && sa_foreign ? sa_foreign->usable(p) : 0;
}

void *sa_calloc(size_t n, size_t size)
{
    size_t total;
    if (SA_UNLIKELY(__builtin_mul_overflow(n, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > SA_MEDIUM_MAX)
        return sa_large_alloc(total, 0, 1);   /* fresh mappings are zero */
    void *p = sa_heap_malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

static void *move_block(void *p, size_t old_size, size_t size)
{
    void *q = sa_malloc(size);
    if (q) {
        memcpy(q, p, old_size < size ? old_size : size);
        sa_free(p);
    }
    return q;
}

void *sa_realloc(void *p, size_t size)
{
    if (!p)
        return sa_malloc(size);
    if (size == 0) {
        /* glibc: realloc(p, 0) frees p and returns NULL. */
        sa_free(p);
        return NULL;
    }
    /* A valid arena block, from its page entry as free() does: no pool
     * descriptor read, and the old block goes straight to the thread's
     * cache (sqlite3 makes 390,000 reallocs, nearly all moves of blocks
     * under 64 bytes, as under glibc). */
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    unsigned pe = leaf ? sa_pagemap_page_get(leaf, p) : 0;
    if (SA_LIKELY(pe != 0) && SA_LIKELY(sa_page_block_ok(pe, p))) {
        size_t cls = pe & SA_PM_PAGE_CLASS;
        size_t have = sa_classes[cls].size;
        if (size <= have && size > have / 2)
            return p;
        void *q = sa_malloc(size);
        if (q) {
            memcpy(q, p, have < size ? have : size);
            sa_heap_free_class(pe, cls, p);
        }
        return q;
    }
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_ARENA) {
        sa_pool *pool = checked_pool(e, p, "realloc()");
        size_t have = sa_classes[pool->cls].size;
        /* Stay in place unless growing, or shrinking to under half. */
        if (size <= have && size > have / 2)
            return p;
        return move_block(p, have, size);
    }
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        sa_large *d = (sa_large *)(e - SA_PM_LARGE);
        if (SA_UNLIKELY(p != d->base || !__atomic_load_n(&d->live, __ATOMIC_ACQUIRE)))
            sa_misuse("realloc()", p != d->base ? "invalid pointer" : "double free or invalid pointer", p);
        if (size > SA_MEDIUM_MAX)
            return sa_large_realloc(d, p, size);
        return move_block(p, d->size, size);
    }
    if ((e & SA_PM_TAG) == SA_PM_FREED && (e & ~(uintptr_t)SA_PM_TAG) == (uintptr_t)p)
        sa_misuse("realloc()", "double free or invalid pointer", p);
    /* Not ours: we cannot know its size.  Copy what is certainly readable
     * (up to the end of its page) into a block of our own. */
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = sa_malloc(size);
    if (q) {
        size_t room = SA_PAGE - ((uintptr_t)p & (SA_PAGE - 1));
        memcpy(q, p, size < room ? size : room);
    }
    return q;
}

void *sa_aligned(size_t align, size_t size)
{
    sa_init();
    if (align <= SA_ALIGNMENT)
        return sa_malloc(size);
    if (size <= SA_MEDIUM_MAX && align <= SA_PAGE) {
        /* Pools start on page boundaries, so every block of a class whose
         * size is a multiple of align is aligned. */
        unsigned k = (unsigned)__builtin_ctzll(align) - SA_ALIGNED_MIN_SHIFT;
        unsigned c = sa_aligned_class[k][sa_size_class(size)];
        if (c != SA_NO_CLASS)
            return sa_malloc(sa_classes[c].size);
    }
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    return sa_large_alloc(size, align, 0);
}

int sa_page_has_tags(const void *p, uint32_t ignore)
{
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) != SA_PM_ARENA)
        return 0;
    uintptr_t base;
    sa_pool *pool = sa_block_pool((sa_arena *)(e - SA_PM_ARENA), p, &base);
    sa_tag *tags = pool ? __atomic_load_n(&pool->tags, __ATOMIC_ACQUIRE) : NULL;
    if (!tags)
        return 0;
    const sa_class_info *ci = &sa_classes[pool->cls];
    uint32_t page = (uint32_t)(((uintptr_t)p - base) & ~(uintptr_t)(SA_PAGE - 1));
    uint32_t end = page + SA_PAGE < ci->limit ? page + SA_PAGE : ci->limit;
    for (uint32_t i = (page + ci->size - 1) / ci->size; i * ci->size < end; i++) {
        uint32_t id = __atomic_load_n(&tags[i].id, __ATOMIC_RELAXED);
        if (id != 0 && id != ignore)
            return 1;
    }
    return 0;
}

sa_tag *sa_tag_slot(const void *p, int create)
{
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        sa_large *d = (sa_large *)(e - SA_PM_LARGE);
        return d->base == p ? &d->tag : NULL;
    }
    if (e == 0)
        return sa_foreign ? sa_foreign->tag(p) : NULL;
    if ((e & SA_PM_TAG) != SA_PM_ARENA)
        return NULL;
    sa_arena *a = (sa_arena *)(e - SA_PM_ARENA);
    uintptr_t base;
    sa_pool *pool = sa_block_pool(a, p, &base);
    if (!pool)
        return NULL;
    uint32_t off = (uint32_t)((uintptr_t)p - base);
    uint32_t idx = sa_class_index(pool->cls, off);
    if (idx * sa_classes[pool->cls].size != off || off >= pool->limit)
        return NULL;
    sa_tag *tags = __atomic_load_n(&pool->tags, __ATOMIC_ACQUIRE);
    if (!tags) {
        if (!create)
            return NULL;
        /* Only the owner thread creates tags (it is allocating). */
        size_t bytes = sa_classes[pool->cls].capacity * sizeof(sa_tag);
        sa_tag *fresh = sa_meta_alloc(bytes);
        if (!fresh)
            return NULL;
        /* Normally only the owner gets here; the shared heap's users race. */
        if (__atomic_compare_exchange_n(&pool->tags, &tags, fresh, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            tags = fresh;
            __atomic_fetch_add(&sa_tag_mem, bytes, __ATOMIC_RELAXED);
        } else {
            sa_meta_free(fresh, bytes);
        }
        /* Winner and loser both publish (the same array), each before its
         * client writes a tag that a free elsewhere will look up there. */
        sa_pagemap_set_pool_tags(base, tags);
    }
    return &tags[idx];
}
