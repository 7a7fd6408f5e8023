/* alloc/heap.h - per-thread heaps and the malloc/free fast paths.
 *
 * Every thread allocates from its own heap: per size class, a list of the
 * USED pools it owns.  The fast paths below touch only the thread's heap
 * and one pool descriptor: no lock, no atomic.
 *
 * Cross-thread frees: a thread caches every block it frees, its own or
 * another heap's (sa_tcache), and reuses it for its next malloc of the
 * class; a block only changes hands when the cache overflows or the
 * thread exits: then the blocks of other heaps' pools are pushed on their
 * owners' remote lists, one CAS per run of blocks with the same owner.
 * The owner collects its list when it runs out of free blocks in a class,
 * and then frees each block locally.  So the invariant is, per pool:
 *
 *     used == allocated + |blocks of this pool on the owner's remote list|
 *                      + |blocks of this pool in any thread's tcache|
 *     capacity == used + |free list| + untouched
 *
 * Thread exit (a pthread key destructor) abandons the heap: its remote list
 * is collected and it goes on the abandoned list, still owning its pools.
 * The next new thread adopts it whole.  Until then, a thread freeing into an
 * abandoned heap collects it under the heap's lock, so its pools still drain
 * back to the arenas.  A thread that allocates after its own heap was
 * abandoned (destructors of other keys, glibc's thread cleanup) uses the
 * shared heap, under its lock.
 */
#ifndef SA_HEAP_H
#define SA_HEAP_H

#include <stdint.h>

#include "alloc/arena.h"
#include "alloc/alloc.h"
#include "common/lock.h"
#include "alloc/sizeclass.h"

enum { SA_HEAP_ALIVE = 0, SA_HEAP_ABANDONED = 1, SA_HEAP_SHARED = 2 };

/* A per-class LIFO of blocks this thread freed (from any heap's pools),
 * reused before any pool: the block freed a moment ago is still in the
 * CPU cache (the locality glibc's tcache gets).  Cached blocks still count
 * as used in their pools; at most sa_classes[c].cache_max of them per
 * class. */
typedef struct sa_tcache {
    sa_block *head;
    uint32_t count;
    uint32_t limit;     /* at most sa_classes[c].cache_max; on free()'s line */
} sa_tcache;            /* 16 bytes: the fast paths index it with a shift */
_Static_assert(sizeof(sa_tcache) == 16, "sa_tcache is indexed by shift");

/* The per-class arrays are indexed by slot, the class plus one
 * (sa_heap_cache, sa_heap_used): slot 0 belongs to malloc(0), stays empty
 * and NULL, and so malloc finds a small request's slot as its size rounded
 * up over 16, (n + 15) >> 4, with no special case for 0 (which the slow
 * path serves from class 0). */
typedef struct sa_heap {
    sa_tcache cache_slot[1 + SA_NCLASSES];
    sa_pool *used_slot[1 + SA_NCLASSES];   /* USED pools; the head serves
                                              mallocs */
    uint32_t cache_mark[SA_NCLASSES];  /* nmalloc (low bits) at the class's
                                      last cache overflow: unchanged at the
                                      next one means the thread does not
                                      reuse what it caches */
    sa_block *remote;              /* atomic: blocks freed by other threads */
    uint64_t budget;               /* bytes malloc's fast path may still
                                      allocate before it asks the slow
                                      path (sa_heap_malloc_budgeted) */
    uint64_t nmalloc, nfree;       /* calls made by this heap's thread(s) */
    int state;                     /* atomic: SA_HEAP_* */
    sa_lock lock;                  /* ABANDONED/SHARED: who works on it */
    struct sa_heap *next_all;      /* registry of every heap */
    struct sa_heap *next_abandoned;
    uint64_t budget_armed;         /* budget as last armed or settled */
    uint64_t budget_nmalloc;       /* nmalloc then (trace/budget.h) */
} sa_heap;

extern SA_TLS SA_HIDDEN sa_heap *sa_tls_heap;

/* Class c's cache and USED-pool list. */
SA_INLINE sa_tcache *sa_heap_cache(sa_heap *h, size_t c)
{
    return &h->cache_slot[c + 1];
}

SA_INLINE sa_pool **sa_heap_used(sa_heap *h, size_t c)
{
    return &h->used_slot[c + 1];
}

void *sa_heap_malloc_slow(size_t n);
/* free() of a validated block that does not go in the thread's cache;
 * the second finds its pool from its page entry pe (alloc/pagemap.h). */
void sa_heap_free_uncached(sa_pool *pool, sa_block *b);
void sa_heap_free_entry(unsigned pe, sa_block *b);
void sa_heap_thread_exit(void *heap);
void sa_heap_init(void);
/* Give the calling thread's cached blocks back to their pools. */
void sa_heap_flush_cache(void);

/* Heap registry walk for statistics. */
void sa_heap_foreach(void (*fn)(sa_heap *h, void *ctx), void *ctx);
/* Collect every abandoned heap (malloc_trim). */
void sa_heap_collect_abandoned(void);
/* Frees made by threads that had no heap. */
uint64_t sa_heap_orphan_frees(void);

void sa_heap_prefork(void);
void sa_heap_postfork_parent(void);
void sa_heap_postfork_child(void);

/* The slot (sa_heap_cache) of an n-byte request into slot, or, when n is
 * over SA_MEDIUM_MAX, return the slow path's block from the caller. */
#define SA_HEAP_SLOT_OR_RETURN(n, slot)                          \
    do {                                                         \
        if (SA_LIKELY((n) <= SA_SMALL_MAX))                      \
            (slot) = ((n) + SA_ALIGNMENT - 1) / SA_ALIGNMENT;    \
        else if ((n) <= SA_MEDIUM_MAX)                           \
            (slot) = 1 + sa_medium_class(n);                     \
        else                                                     \
            return sa_heap_malloc_slow(n);                       \
    } while (0)

/* A block of slot from h's cache or its head pool of the class, or NULL
 * when both are empty. */
SA_INLINE void *sa_heap_pop(sa_heap *h, size_t slot)
{
    sa_tcache *tc = &h->cache_slot[slot];
    sa_block *cached = tc->head;
    if (SA_LIKELY(cached != NULL)) {
        tc->head = cached->next;
        tc->count--;
        cached->key = 0;
        h->nmalloc++;
        return cached;
    }
    sa_pool *pool = h->used_slot[slot];
    if (SA_LIKELY(pool != NULL)) {
        sa_block *b = pool->free;
        if (SA_LIKELY(b != NULL)) {
            pool->free = b->next;
            b->key = 0;
            pool->used++;
            h->nmalloc++;
            return b;
        }
    }
    return NULL;
}

SA_INLINE void *sa_heap_malloc(size_t n)
{
    sa_heap *h = sa_tls_heap;
    size_t slot;
    SA_HEAP_SLOT_OR_RETURN(n, slot);
    if (SA_LIKELY(h != NULL)) {
        void *p = sa_heap_pop(h, slot);
        if (SA_LIKELY(p != NULL))
            return p;
    }
    return sa_heap_malloc_slow(n);
}

/* *budget -= n; whether that borrowed (n was more than *budget).  One
 * subtraction from memory and its carry flag on x86-64, which GCC does
 * not make of __builtin_sub_overflow on a memory operand (it loads,
 * subtracts and stores). */
SA_INLINE int sa_budget_take(uint64_t *budget, size_t n)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
    int borrow;
    __asm__("subq %2, %0" : "+m"(*budget), "=@ccb"(borrow) : "r"((uint64_t)n));
    return borrow;
#else
    return __builtin_sub_overflow(*budget, n, budget);
#endif
}

/* malloc()'s fast path: sa_heap_malloc after one subtraction from the
 * thread's byte budget, which sampled tracing and guard pages arm
 * (trace/budget.h) and which is otherwise so large that it runs out once
 * in 64 MiB.  When it runs out (the subtraction borrows: the budget then
 * holds its old value less n, modulo 2^64), or the thread has no heap
 * yet, spent (a constant at the call site, entered by a tail call) makes
 * the allocation: it is where the sampling and guard counts run.  Two
 * instructions on the untraced path, and none of the counting jemalloc
 * and tcmalloc do in their fast paths beyond them. */
SA_INLINE void *sa_heap_malloc_budgeted(size_t n, void *(*spent)(size_t))
{
    sa_heap *h = sa_tls_heap;
    if (SA_UNLIKELY(h == NULL) || SA_UNLIKELY(sa_budget_take(&h->budget, n)))
        return spent(n);
    size_t slot;
    SA_HEAP_SLOT_OR_RETURN(n, slot);
    void *p = sa_heap_pop(h, slot);
    if (SA_LIKELY(p != NULL))
        return p;
    return sa_heap_malloc_slow(n);
}

/* Put b, a validated block of class cls, in h's cache if it has room
 * (counted and marked free), whoever owns its pool: the block is reused
 * by the next malloc of its class in this thread while its lines are
 * still in this core's cache, as tcmalloc's and jemalloc's thread caches
 * do.  Returns 0, changing nothing, when the cache is full. */
SA_INLINE int sa_heap_cache_put(sa_heap *h, size_t cls, sa_block *b)
{
    sa_tcache *tc = sa_heap_cache(h, cls);
    if (SA_UNLIKELY(tc->count >= tc->limit))
        return 0;
    h->nfree++;
    b->key = (uintptr_t)b ^ sa_secret;
    b->next = tc->head;
    tc->head = b;
    tc->count++;
    return 1;
}

/* Free validated block b of pool into the calling thread's cache.  What
 * does not fit goes back to the owners (sa_heap_free_uncached: one CAS
 * per owner per batch; in a burst of frees, own blocks straight to their
 * pools); a thread without a heap pushes the block straight to its
 * owner. */
SA_INLINE void sa_heap_free(sa_pool *pool, sa_block *b)
{
    sa_heap *h = sa_tls_heap;
    if (SA_LIKELY(h != NULL) && SA_LIKELY(sa_heap_cache_put(h, pool->cls, b)))
        return;
    sa_heap_free_uncached(pool, b);
}

/* The same for free()'s fast path, which knows the class from the
 * block's page entry pe, not the pool: only a block that does not go in
 * the cache needs the pool, whose address the entry gives. */
SA_INLINE void sa_heap_free_class(unsigned pe, size_t cls, sa_block *b)
{
    sa_heap *h = sa_tls_heap;
    if (SA_LIKELY(h != NULL) && SA_LIKELY(sa_heap_cache_put(h, cls, b)))
        return;
    sa_heap_free_entry(pe, b);
}

#endif
