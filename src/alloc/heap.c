/* alloc/heap.c - per-thread heaps: the slow paths behind alloc/heap.h's fast paths,
 * cross-thread frees, and the heap life cycle (create, abandon, adopt). */
#include <errno.h>
#include <pthread.h>

#include "alloc/heap.h"
#include "alloc/check.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "alloc/pagemap.h"

SA_TLS sa_heap *sa_tls_heap;
/* 0: no heap yet, 1: has a heap, 2: its heap was abandoned (thread exit). */
static SA_TLS int tls_state;
static SA_TLS unsigned tls_abandoned_frees;

static sa_lock registry_lock = SA_LOCK_INIT;
static sa_heap *all_heaps;
static sa_heap *abandoned;
static uint64_t orphan_frees;
static pthread_key_t heap_key;
static int heap_key_ok;

static sa_heap shared_heap = { .state = SA_HEAP_SHARED, .lock = SA_LOCK_INIT };

/* ---- pool list helpers (owner only) ----------------------------------- */

/* used[c] is a circular doubly linked list (pymalloc's usedpools); the
 * head is the pool allocations come from. */
static void used_insert(sa_heap *h, sa_pool *pool, int at_head)
{
    sa_pool **head = sa_heap_used(h, pool->cls);
    if (!*head) {
        pool->next = pool->prev = pool;
        *head = pool;
        return;
    }
    pool->next = *head;
    pool->prev = (*head)->prev;
    pool->prev->next = pool;
    (*head)->prev = pool;
    if (at_head)
        *head = pool;
}

static void used_unlink(sa_heap *h, sa_pool *pool)
{
    sa_pool **head = sa_heap_used(h, pool->cls);
    if (pool->next == pool) {
        *head = NULL;
    } else {
        pool->prev->next = pool->next;
        pool->next->prev = pool->prev;
        if (*head == pool)
            *head = pool->next;
    }
    pool->next = pool->prev = NULL;
}

/* Free b into its pool, owned by h; handles FULL -> USED -> EMPTY. */
static void free_local(sa_heap *h, sa_pool *pool, sa_block *b)
{
    /* The pool as the owner's last change and the fast paths since left
     * it; b is one of its allocated blocks. */
    sa_assert(pool->heap == h && pool->used > 0);
    sa_assert(pool->state == SA_POOL_FULL ? !pool->next : pool->next != NULL);
    sa_assert((uintptr_t)b - (uintptr_t)sa_pool_base(pool) < pool->carve &&
              ((uintptr_t)b - (uintptr_t)sa_pool_base(pool)) % sa_classes[pool->cls].size == 0);
    sa_check(sa_pool_check(pool));
    b->next = pool->free;
    b->key = (uintptr_t)b ^ sa_secret;
    pool->free = b;
    if (pool->state == SA_POOL_FULL) {
        /* At the tail: the head keeps serving until it runs dry, and by
         * the time this pool's turn comes it has gathered more free
         * blocks (a free into a full pool at the head would make every
         * malloc/free pair take both slow paths). */
        pool->state = SA_POOL_USED;
        used_insert(h, pool, 0);
    }
    if (--pool->used == 0 && (pool->next != pool || sa_classes[pool->cls].size > SA_PAGE)) {
        /* Not the heap's last pool of the class, or a class of blocks
         * above a page, whose runs are too big to keep idle: give it
         * back (its pages stay dirty in the arena for reuse). */
        used_unlink(h, pool);
        sa_arena_return_pool(pool);
    }
}

static sa_pool *pool_of_block(sa_block *b)
{
    sa_arena *a = (sa_arena *)(sa_pagemap_get(b) - SA_PM_ARENA);
    uintptr_t base;
    return sa_block_pool(a, b, &base);
}

static void collect_abandoned_heap(sa_heap *h);

/* Push the chain first..last of n blocks (of owner's pools, marked free)
 * on owner's remote list: one CAS. */
static void remote_push(sa_heap *owner, sa_block *first, sa_block *last, unsigned n)
{
    sa_block *head = __atomic_load_n(&owner->remote, __ATOMIC_RELAXED);
    do {
        last->next = head;
    } while (!__atomic_compare_exchange_n(&owner->remote, &head, first, 1,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    /* An abandoned heap has no owner to collect its remote list: a freeing
     * thread does, about every 64th block, so the lock is rarely taken. */
    if (SA_UNLIKELY(__atomic_load_n(&owner->state, __ATOMIC_RELAXED) == SA_HEAP_ABANDONED) &&
        (tls_abandoned_frees += n) >= 64) {
        tls_abandoned_frees = 0;
        collect_abandoned_heap(owner);
    }
}

/* A free block's third word (blocks of 24 bytes and more), while it is on
 * a remote list: the block SA_REMOTE_SKIP places further on in its run,
 * or whatever the program left there (the last SA_REMOTE_SKIP blocks of a
 * run, and blocks that were never given one).  Only ever prefetched,
 * never followed: the owner's collect_remote prefetches it while it
 * works on the block, so that its walk of the list, whose blocks were
 * last written by another core, waits for one line at a time no longer
 * (prodcons: a fifth of its time went to that chase). */
#define SA_REMOTE_SKIP 4
#define SA_BLOCK_SKIP(b) (((sa_block **)(void *)(b))[2])

/* Give all but the newest keep blocks of a thread cache back: blocks of
 * h's pools to their pools, the others to their owners, a run of blocks
 * with the same owner in one push.  Returns how many were others'. */
static unsigned tcache_flush(sa_heap *h, sa_tcache *tc, uint32_t keep)
{
    sa_block *b = tc->head, *prev = NULL;
    for (uint32_t i = 0; i < keep && b; i++) {
        prev = b;
        b = b->next;
    }
    if (prev)
        prev->next = NULL;
    else
        tc->head = NULL;
    tc->count = keep < tc->count ? keep : tc->count;
    sa_heap *owner = NULL;
    sa_block *first = NULL, *last = NULL, *lag = NULL;
    unsigned n = 0, foreign = 0;
    while (b) {
        sa_block *next = b->next;
        sa_pool *pool = pool_of_block(b);
        if (pool->heap == h) {
            free_local(h, pool, b);
        } else {
            if (pool->heap != owner) {
                if (first)
                    remote_push(owner, first, last, n);
                owner = pool->heap;
                first = NULL;
                n = 0;
            }
            if (first)
                last->next = b;
            else
                first = b;
            last = b;
            n++;
            foreign++;
            /* lag trails b by SA_REMOTE_SKIP blocks of the run. */
            if (n > SA_REMOTE_SKIP && sa_classes[pool->cls].size >= 3 * sizeof(void *)) {
                lag = n == SA_REMOTE_SKIP + 1 ? first : lag->next;
                SA_BLOCK_SKIP(lag) = b;
            }
        }
        b = next;
    }
    if (first)
        remote_push(owner, first, last, n);
    return foreign;
}

/* Collect h's remote list (caller owns h).  Returns 1 if it held blocks. */
static int collect_remote(sa_heap *h)
{
    if (!__atomic_load_n(&h->remote, __ATOMIC_RELAXED))
        return 0;
    sa_block *b = __atomic_exchange_n(&h->remote, NULL, __ATOMIC_ACQUIRE);
    while (b) {
        sa_pool *pool = pool_of_block(b);
        if (sa_classes[pool->cls].size >= 3 * sizeof(void *))
            __builtin_prefetch(SA_BLOCK_SKIP(b), 1);   /* see SA_REMOTE_SKIP */
        sa_block *next = b->next;
        free_local(h, pool, b);
        b = next;
    }
    return 1;
}

/* ---- heap life cycle --------------------------------------------------- */

static void registry_add(sa_heap *h)
{
    h->next_all = all_heaps;
    all_heaps = h;
}

/* The smallest bound of class c's cache, and the one it starts at. */
static uint32_t tcache_floor(unsigned c)
{
    uint32_t max = sa_classes[c].cache_max;
    return max < SA_TCACHE_MIN_BLOCKS ? max : SA_TCACHE_MIN_BLOCKS;
}

static void tcache_limits(sa_heap *h)
{
    for (unsigned c = 0; c < SA_NCLASSES; c++)
        sa_heap_cache(h, c)->limit = tcache_floor(c);
}

static sa_heap *heap_acquire(void)
{
    sa_heap *h;
    sa_lock_acquire(&registry_lock);
    if ((h = abandoned) != NULL) {
        abandoned = h->next_abandoned;
        h->next_abandoned = NULL;
        sa_lock_release(&registry_lock);
        /* Wait out any thread collecting it, then it is ours alone. */
        sa_lock_acquire(&h->lock);
        __atomic_store_n(&h->state, SA_HEAP_ALIVE, __ATOMIC_RELEASE);
        sa_lock_release(&h->lock);
        return h;
    }
    sa_lock_release(&registry_lock);
    h = sa_meta_alloc(sizeof *h);
    if (!h)
        return NULL;
    sa_lock fresh = SA_LOCK_INIT;
    h->lock = fresh;
    tcache_limits(h);
    sa_lock_acquire(&registry_lock);
    registry_add(h);
    sa_lock_release(&registry_lock);
    return h;
}

/* Called once by sa_init_slow. */
void sa_heap_init(void)
{
    if (pthread_key_create(&heap_key, sa_heap_thread_exit) == 0)
        heap_key_ok = 1;
    tcache_limits(&shared_heap);
    sa_lock_acquire(&registry_lock);
    registry_add(&shared_heap);
    sa_lock_release(&registry_lock);
}

/* The calling thread's heap, created or adopted on first use; NULL once
 * its heap was abandoned (then the shared heap is used). */
static sa_heap *heap_get(void)
{
    if (tls_state != 0)
        return NULL;
    sa_init();
    sa_heap *h = heap_acquire();
    if (!h)
        return NULL;
    tls_state = 1;
    /* An adopted heap's budget was its last thread's: malloc's next call
     * asks the slow path, which arms it for this one (trace/budget.h). */
    h->budget = h->budget_armed = 0;
    h->budget_nmalloc = h->nmalloc;
    sa_tls_heap = h;
    /* pthread_setspecific may allocate: the heap is already in place. */
    if (heap_key_ok)
        pthread_setspecific(heap_key, h);
    collect_remote(h);
    return h;
}

void sa_heap_thread_exit(void *arg)
{
    sa_heap *h = arg;
    if (!h || h != sa_tls_heap)
        return;
    collect_remote(h);
    for (unsigned c = 0; c < SA_NCLASSES; c++)
        tcache_flush(h, sa_heap_cache(h, c), 0);
    /* Empty pools kept for ping-pong go back now. */
    for (unsigned c = 0; c < SA_NCLASSES; c++) {
        sa_pool *pool = *sa_heap_used(h, c);
        for (sa_pool *end = pool ? pool->prev : NULL; pool;) {
            sa_pool *next = pool == end ? NULL : pool->next;
            if (pool->used == 0) {
                used_unlink(h, pool);
                sa_arena_return_pool(pool);
            }
            pool = next;
        }
    }
    sa_tls_heap = NULL;
    tls_state = 2;
    sa_lock_acquire(&h->lock);
    __atomic_store_n(&h->state, SA_HEAP_ABANDONED, __ATOMIC_RELEASE);
    sa_lock_release(&h->lock);
    sa_lock_acquire(&registry_lock);
    h->next_abandoned = abandoned;
    abandoned = h;
    sa_lock_release(&registry_lock);
}

/* Work on an abandoned heap as its temporary owner, if nobody else is. */
static void collect_abandoned_heap(sa_heap *h)
{
    if (pthread_mutex_trylock(&h->lock) != 0)
        return;
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == SA_HEAP_ABANDONED) {
        sa_heap *saved = sa_tls_heap;
        sa_tls_heap = h;   /* frees into h below are local */
        collect_remote(h);
        sa_tls_heap = saved;
    }
    sa_lock_release(&h->lock);
}

void sa_heap_collect_abandoned(void)
{
    sa_lock_acquire(&registry_lock);
    for (sa_heap *h = abandoned; h; h = h->next_abandoned)
        collect_abandoned_heap(h);
    sa_lock_release(&registry_lock);
}

/* ---- slow paths -------------------------------------------------------- */

/* Carve the pool's next block and, onto its (empty) free list, the other
 * blocks that start in the same page, marked free: the malloc fast path
 * serves them, instead of one call of this slow path per block (a
 * program that keeps growing, like python3, carved a block per call).
 * No page is touched earlier than the block-at-a-time carving would:
 * the page holding the first block is being written anyway. */
static sa_block *carve_page(sa_pool *pool, uint32_t size)
{
    char *base = sa_pool_base(pool);
    uint32_t off = pool->carve;
    uint32_t end = (off | (SA_PAGE - 1)) + 1;
    if (end > pool->limit)
        end = pool->limit;
    sa_block *b = (sa_block *)(base + off);
    b->key = 0;   /* the page may hold a key from an earlier pool */
    /* free() may take these blocks from now on (alloc/pagemap.h). */
    unsigned page = off >> SA_PAGE_SHIFT;
    sa_arena *a = sa_pool_arena(pool);
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) >> SA_PAGE_SHIFT);
    sa_pagemap_page_set((uintptr_t)base + ((uintptr_t)page << SA_PAGE_SHIFT),
                        sa_pagemap_page_entry(pool->cls, page, color));
    sa_block *head = NULL, **link = &head;
    for (off += size; off < end; off += size) {
        sa_block *f = (sa_block *)(base + off);
        f->key = (uintptr_t)f ^ sa_secret;
        *link = f;
        link = &f->next;
    }
    *link = pool->free;
    pool->free = head;
    __atomic_store_n(&pool->carve, off, __ATOMIC_RELAXED);   /* alloc/walk.c reads it */
    return b;
}

static void *heap_malloc_from(sa_heap *h, unsigned cls)
{
    int growing = 0;   /* a pool of the class filled up just now */
    for (;;) {
        sa_pool *pool = *sa_heap_used(h, cls);
        if (pool) {
            sa_block *b = pool->free;
            if (b) {
                pool->free = b->next;
                b->key = 0;
                pool->used++;
                h->nmalloc++;
                return b;
            }
            if (pool->carve < pool->limit) {
                b = carve_page(pool, sa_classes[cls].size);
                pool->used++;
                h->nmalloc++;
                sa_check(sa_pool_check(pool));
                sa_check(sa_pagemap_check_pool(pool));
                return b;
            }
            used_unlink(h, pool);
            pool->state = SA_POOL_FULL;
            growing = 1;
            continue;
        }
        if (collect_remote(h))
            continue;
        pool = sa_arena_take_pool(cls, growing);
        if (!pool)
            return NULL;
        pool->heap = h;
        used_insert(h, pool, 1);
        sa_check(sa_pool_check(pool));
        sa_check(sa_pagemap_check_pool(pool));
    }
}

SA_NOINLINE void *sa_heap_malloc_slow(size_t n)
{
    if (n > SA_MEDIUM_MAX)
        return sa_large_alloc(n, 0, 0);
    unsigned cls = sa_size_class(n);
    /* The cache and the head pool of the class ran dry: a refill, a
     * slow path steady traffic takes, where idle memory may decay. */
    sa_arena_decay_tick();
    sa_heap *h = sa_tls_heap;
    if (!h)
        h = heap_get();
    if (h)
        return heap_malloc_from(h, cls);

    /* No heap of our own (thread exiting, or out of metadata memory). */
    sa_lock_acquire(&shared_heap.lock);
    sa_tls_heap = &shared_heap;
    collect_remote(&shared_heap);
    void *p = heap_malloc_from(&shared_heap, cls);
    sa_tls_heap = NULL;
    sa_lock_release(&shared_heap.lock);
    return p;
}

void sa_heap_flush_cache(void)
{
    sa_heap *h = sa_tls_heap;
    if (h)
        for (unsigned c = 0; c < SA_NCLASSES; c++)
            tcache_flush(h, sa_heap_cache(h, c), 0);
}

/* Bytes h's thread caches hold. */
static size_t cached_bytes(const sa_heap *h)
{
    size_t sum = 0;
    for (unsigned c = 0; c < SA_NCLASSES; c++)
        sum += (size_t)h->cache_slot[c + 1].count * sa_classes[c].size;
    return sum;
}

/* A cache overflow that is not a burst of own frees (free_full):
 * make room, then cache b. */
static SA_NOINLINE void cache_overflow(sa_heap *h, sa_pool *pool, sa_block *b)
{
    sa_tcache *tc = sa_heap_cache(h, pool->cls);
    if (sa_classes[pool->cls].cache_max == 0) {
        if (pool->heap == h)
            free_local(h, pool, b);
        else
            remote_push(pool->heap, b, b, 1);
        return;
    }
    /* The bound adapts to what the thread does with the class.  One that
     * has malloc'd since the last overflow reuses its cache: the bound
     * doubles (up to cache_max) and the older half goes back.
     * If that half held other heaps' blocks and the thread has not
     * malloc'd since the last overflow, it is a consumer of blocks other
     * threads allocate: the bound halves, so its caches do not hold
     * pools' worth of blocks their owners would replace with new pages
     * (prodcons: +0.6 MiB of peak RSS at the full bound).  Bounds start
     * at SA_TCACHE_MIN_BLOCKS (tcache_limits).
     * A bound doubles only while the thread's caches together hold less
     * than SA_TCACHE_TOTAL: with many classes in use, each cache's count
     * wanders between empty and its bound, and at 32 KiB a class the
     * suite's ring (4 threads, 40 classes) held 5.2 MiB where glibc held
     * 2.4; 4.1 MiB with the total.  The sum is 92 loads, only at an
     * overflow that would double. */
    sa_arena_decay_tick();   /* a flush: as a refill (sa_heap_malloc_slow) */
    uint32_t now = (uint32_t)h->nmalloc, max = sa_classes[pool->cls].cache_max;
    uint32_t floor = tcache_floor(pool->cls);
    if (now != h->cache_mark[pool->cls]) {
        if (tc->limit < max && cached_bytes(h) < SA_TCACHE_TOTAL)
            tc->limit = tc->limit * 2 < max ? tc->limit * 2 : max;
        tcache_flush(h, tc, tc->count / 2);
    } else if (tcache_flush(h, tc, tc->count / 2)) {
        tc->limit = tc->limit / 2 > floor ? tc->limit / 2 : floor;
        if (tc->count >= tc->limit)
            tcache_flush(h, tc, tc->limit / 2);
    }
    h->cache_mark[pool->cls] = now;
    b->next = tc->head;
    tc->head = b;
    tc->count++;
}

/* b (marked free) does not fit h's cache.  In a burst of frees (no malloc
 * since the class's last overflow, as when python3 drops a big
 * container) an own block goes straight to its pool rather than through
 * the cache and a flush that would look the pool up again; the cache
 * keeps what it holds.  The rest is cache_overflow's. */
static void free_full(sa_heap *h, sa_pool *pool, sa_block *b)
{
    if (pool->heap == h && (uint32_t)h->nmalloc == h->cache_mark[pool->cls]) {
        free_local(h, pool, b);
        return;
    }
    cache_overflow(h, pool, b);
}

/* A free by a thread without a heap (exiting, or out of metadata):
 * straight to the block's owner. */
static void free_orphan(sa_pool *pool, sa_block *b)
{
    __atomic_fetch_add(&orphan_frees, 1, __ATOMIC_RELAXED);
    b->key = (uintptr_t)b ^ sa_secret;
    remote_push(pool->heap, b, b, 1);
}

SA_INLINE void free_uncached(sa_pool *pool, sa_block *b)
{
    sa_heap *h = sa_tls_heap;
    if (SA_UNLIKELY(h == NULL)) {
        free_orphan(pool, b);
        return;
    }
    h->nfree++;
    b->key = (uintptr_t)b ^ sa_secret;
    free_full(h, pool, b);
}

SA_NOINLINE void sa_heap_free_uncached(sa_pool *pool, sa_block *b)
{
    free_uncached(pool, b);
}

SA_NOINLINE void sa_heap_free_entry(unsigned pe, sa_block *b)
{
    free_uncached(sa_arena_entry_pool(pe, b), b);
}

/* ---- statistics and fork ------------------------------------------------ */

void sa_heap_foreach(void (*fn)(sa_heap *h, void *ctx), void *ctx)
{
    sa_lock_acquire(&registry_lock);
    for (sa_heap *h = all_heaps; h; h = h->next_all)
        fn(h, ctx);
    sa_lock_release(&registry_lock);
}

uint64_t sa_heap_orphan_frees(void)
{
    return __atomic_load_n(&orphan_frees, __ATOMIC_RELAXED);
}

/* Lock order: registry, shared heap, every abandoned heap. */
void sa_heap_prefork(void)
{
    sa_lock_acquire(&registry_lock);
    sa_lock_acquire(&shared_heap.lock);
    for (sa_heap *h = abandoned; h; h = h->next_abandoned)
        sa_lock_acquire(&h->lock);
}

void sa_heap_postfork_parent(void)
{
    for (sa_heap *h = abandoned; h; h = h->next_abandoned)
        sa_lock_release(&h->lock);
    sa_lock_release(&shared_heap.lock);
    sa_lock_release(&registry_lock);
}

void sa_heap_postfork_child(void)
{
    for (sa_heap *h = abandoned; h; h = h->next_abandoned)
        sa_lock_reinit(&h->lock);
    sa_lock_reinit(&shared_heap.lock);
    sa_lock_reinit(&registry_lock);
}
