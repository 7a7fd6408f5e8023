/* Per-thread heaps: the block life cycle in a pool, cross-thread frees
 * and their collection, thread exit and heap adoption, statistics. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "alloc/heap.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"
#include "resident.h"

static void setup(void) { sa_init(); }
TestSuite(heap, .init = setup);

static sa_pool *pool_of(void *p)
{
    uintptr_t e = sa_pagemap_get(p);
    cr_assert_eq(e & SA_PM_TAG, SA_PM_ARENA);
    sa_arena *a = (sa_arena *)(e - SA_PM_ARENA);
    return &a->pools[a->run_start[((uintptr_t)p >> 12) & 63]];
}

/* The first block of a fresh pool of size-byte blocks (no other test uses
 * the class), and *pool. */
static char *fresh_pool_block(size_t size, sa_pool **pool)
{
    cr_assert_eq(sa_classes[sa_size_class(size)].size, size);
    char *p = sa_malloc(size);
    *pool = pool_of(p);
    cr_assert_eq(p, sa_pool_base(*pool), "a fresh pool hands out its first block");
    return p;
}

Test(heap, blocks_are_carved_in_order_and_reused_lifo)
{
    char *first = sa_malloc(48);
    sa_pool *pool = pool_of(first);
    cr_assert_eq(first, sa_pool_base(pool), "a fresh pool hands out its first block");
    char *prev = first;
    for (int i = 1; i < 85; i++) {          /* 4096 / 48 = 85 blocks */
        char *p = sa_malloc(40 + i % 8);
        cr_assert_eq(p, prev + 48);
        prev = p;
    }
    cr_assert_eq(pool->used, 85);
    char *next = sa_malloc(48);
    cr_assert_neq(pool_of(next), pool, "a full pool is skipped");
    cr_assert_eq(pool->state, SA_POOL_FULL, "and leaves the used list");
    sa_free(first + 48 * 10);
    cr_assert_eq(pool->state, SA_POOL_FULL, "the block waits in the thread cache");
    cr_assert_eq(sa_malloc(48), first + 48 * 10, "the thread cache hands it back first");
    sa_free(first + 48 * 10);
    sa_heap_flush_cache();
    cr_assert_eq(pool->state, SA_POOL_USED);
    cr_assert_eq(pool->used, 84);
    sa_pool *head = *sa_heap_used(sa_tls_heap, sa_size_class(48));
    cr_assert_eq(head, pool_of(next), "the head pool keeps serving");
    cr_assert_eq(head->prev, pool, "a pool that stops being full goes to the tail");
    char *a = sa_malloc(48), *b = sa_malloc(48);
    sa_free(a);
    sa_free(b);
    sa_heap_flush_cache();
    /* The flush frees b then a into the pool: a is on top of its list. */
    cr_assert_eq(sa_malloc(48), a, "pool free lists are last-in first-out");
    cr_assert_eq(sa_malloc(48), b);
}

/* Carving takes every block that starts in the page being carved: the
 * first is returned, the others go on the pool's free list marked free
 * (the heap walk must not see them), in address order; the next page is
 * not touched until a block starting in it is needed. */
Test(heap, carving_takes_a_page_of_blocks_at_a_time)
{
    char *first = sa_malloc(48);
    sa_pool *pool = pool_of(first);
    cr_assert_eq(pool->carve, 85 * 48, "the whole one-page pool");
    cr_assert_eq(pool->used, 1);
    unsigned n = 0;
    for (sa_block *b = pool->free; b; b = b->next, n++) {
        cr_assert_eq((char *)b, first + 48 * (n + 1));
        cr_assert_eq(b->key, (uintptr_t)b ^ sa_secret);
    }
    cr_assert_eq(n, 84);

    sa_pool *mp;
    char *m = fresh_pool_block(576, &mp);
    cr_assert_gt(sa_classes[mp->cls].pages, 1);
    cr_assert_eq(mp->carve, 8 * 576, "blocks starting in page 0: 0, 576, ... 4032");
    for (int i = 1; i < 8; i++)
        cr_assert_eq(sa_malloc(576), m + 576 * i);
    cr_assert_null(mp->free);
    cr_assert_eq(sa_malloc(576), m + 576 * 8, "then page 1's");
    cr_assert_eq(mp->carve, 15 * 576, "4608 .. 8064 start in page 1");
}

Test(heap, the_pool_after_a_full_one_is_faulted_in_with_the_pages_after_it)
{
    sa_pool *first;
    char *b0 = fresh_pool_block(496, &first);
    unsigned cap = sa_classes[first->cls].capacity;
    cr_assert_eq(cap, 8);
    cr_assert_eq(resident_pages(sa_pool_base(first) + SA_PAGE, SA_PAGE), 0, "faulted in before the class grew");
    for (unsigned i = 1; i < cap; i++)
        cr_assert_eq(sa_malloc(496), b0 + i * 496);
    sa_arena_counts c;
    sa_arena_get_counts(&c);
    /* The class filled its pool: the next one, and the pages after it,
     * come faulted in. */
    char *b = sa_malloc(496);
    cr_assert_eq(b, sa_pool_base(first) + SA_PAGE);
    cr_assert_eq(resident_pages(b + SA_PAGE, (SA_POPULATE_PAGES - 1) * SA_PAGE), SA_POPULATE_PAGES - 1);
    sa_arena_counts after;
    sa_arena_get_counts(&after);
    cr_assert_eq(after.dirty_pages, c.dirty_pages + SA_POPULATE_PAGES - 1);
    /* The heap's next pool of another class takes one of those pages. */
    char *other = sa_malloc(480);
    cr_assert_eq(other, b + SA_PAGE);
}

Test(heap, sizes_alignment_and_usable_size)
{
    for (size_t n = 0; n <= 70000; n += (n < 1100 ? 1 : 97)) {
        char *p = sa_malloc(n);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 16, 0, "n=%zu", n);
        size_t u = sa_usable_size(p);
        cr_assert_geq(u, n);
        if (n <= SA_MEDIUM_MAX)
            cr_assert_eq(u, sa_classes[sa_size_class(n)].size);
        memset(p, 0xab, u);
        sa_free(p);
    }
    void *a = sa_malloc(0), *b = sa_malloc(0);
    cr_assert_neq(a, b);
    cr_assert_eq(sa_usable_size(a), 16);
}

Test(heap, emptied_pools_return_to_the_arena_except_the_last)
{
    enum { N = 4096 / 64 * 3 };   /* three pools of 64-byte blocks */
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = sa_malloc(64);
    sa_pool *pools[3] = { pool_of(p[0]), pool_of(p[N / 2]), pool_of(p[N - 1]) };
    cr_assert(pools[0] != pools[1] && pools[1] != pools[2] && pools[0] != pools[2]);
    for (int i = 0; i < N; i++)
        sa_free(p[i]);
    sa_heap_flush_cache();
    int empty = 0, kept = 0;
    for (int i = 0; i < 3; i++) {
        empty += pools[i]->state == SA_POOL_EMPTY;
        kept += pools[i]->state == SA_POOL_USED && pools[i]->used == 0 &&
                pools[i]->heap == sa_tls_heap;
    }
    cr_assert_eq(empty, 2, "emptied pools go back");
    cr_assert_eq(kept, 1, "the heap keeps its last pool");
}

struct handoff { void **blocks; int n; };

static void *free_them(void *arg)
{
    struct handoff *h = arg;
    for (int i = 0; i < h->n; i++)
        sa_free(h->blocks[i]);
    return NULL;
}

Test(heap, remote_frees_are_collected_by_the_owner)
{
    enum { N = 1000 };
    void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = sa_malloc(32);
    sa_pool *pool = pool_of(blocks[0]);
    uint16_t before = pool->used;
    pthread_t t;
    struct handoff h = { blocks, N };
    pthread_create(&t, NULL, free_them, &h);
    pthread_join(t, NULL);
    cr_assert_eq(pool->used, before, "remote frees wait for the owner");
    cr_assert_not_null(__atomic_load_n(&sa_tls_heap->remote, __ATOMIC_ACQUIRE));
    /* Exhaust the current pools of the class: the owner collects. */
    for (int i = 0; i < 2 * N; i++)
        sa_malloc(32);
    cr_assert_null(sa_tls_heap->remote);
}

static void *alloc_and_exit(void *arg)
{
    void **out = arg;
    *out = sa_malloc(100);
    return sa_tls_heap;
}

static void count_heaps(sa_heap *h, void *ctx)
{
    int *n = ctx;
    if (__atomic_load_n(&h->state, __ATOMIC_RELAXED) == SA_HEAP_ABANDONED)
        n[0]++;
    n[1]++;
}

Test(heap, exited_threads_heaps_are_adopted)
{
    void *block;
    pthread_t t;
    void *heap1, *heap2;
    pthread_create(&t, NULL, alloc_and_exit, &block);
    pthread_join(t, &heap1);
    int n[2] = { 0, 0 };
    sa_heap_foreach(count_heaps, n);
    cr_assert_eq(n[0], 1, "the exited thread's heap is abandoned");
    int total = n[1];
    /* Freeing into an abandoned heap works (and collects it). */
    sa_free(block);
    pthread_create(&t, NULL, alloc_and_exit, &block);
    pthread_join(t, &heap2);
    cr_assert_eq(heap2, heap1, "a new thread adopts the abandoned heap");
    n[0] = n[1] = 0;
    sa_heap_foreach(count_heaps, n);
    cr_assert_eq(n[1], total, "no new heap was created");
}

static void sum_calls(sa_heap *h, void *ctx)
{
    uint64_t *s = ctx;
    s[0] += h->nmalloc;
    s[1] += h->nfree;
}

Test(heap, thread_cache_is_bounded_and_lifo)
{
    unsigned c = sa_size_class(100);
    enum { N = 180 };   /* 5 pools of 36 */
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = sa_malloc(100);
    sa_pool *pool = pool_of(p[N - 1]);   /* p[144..179] fill a pool */
    cr_assert_eq(pool_of(p[N - 36]), pool);
    for (int i = 0; i < N; i++) {
        if (i == N - 36)
            continue;   /* keeps the last pool from going back to its arena */
        sa_free(p[i]);
        cr_assert_leq(sa_heap_cache(sa_tls_heap, c)->count, sa_heap_cache(sa_tls_heap, c)->limit);
        cr_assert_leq(sa_heap_cache(sa_tls_heap, c)->limit, sa_classes[c].cache_max);
    }
    /* A burst of frees overflows the cache: the blocks beyond its bound
     * went straight back to their pool (the last block freed is on its
     * pool's free list, and the cache holds none of its pool's blocks:
     * its only block in use is the one kept). */
    int in_cache = 0, in_pool = 0;
    for (sa_block *b = sa_heap_cache(sa_tls_heap, c)->head; b; b = b->next)
        in_cache += pool_of(b) == pool;
    for (sa_block *b = pool->free; b; b = b->next)
        in_pool += b == p[N - 1];
    cr_assert(!in_cache && in_pool, "p[%d] went to its pool's free list", N - 1);
    cr_assert_eq(pool->used, 1);
    cr_assert_eq(sa_heap_cache(sa_tls_heap, c)->count, sa_heap_cache(sa_tls_heap, c)->limit);
    sa_free(p[N - 36]);
    /* While mallocs and frees alternate, the cache is LIFO. */
    for (int i = 0; i < 3; i++) {
        void *q = sa_malloc(100);
        sa_free(q);
        cr_assert_eq(sa_malloc(100), q, "the last block freed is the first reused");
        sa_free(q);
    }
    cr_assert_eq(sa_classes[sa_size_class(16384)].cache_max, 2, "big classes cache little");
    cr_assert_eq(sa_classes[sa_size_class(65536)].cache_max, 0, "the biggest not at all");
}

/* The bound of a class's cache adapts: it starts at SA_TCACHE_MIN_BLOCKS
 * and doubles at each overflow while the thread also mallocs, up to
 * cache_max; it halves at an overflow with no malloc since the last one
 * when the half given back held other heaps' blocks. */
struct consumer { void **blocks; int n; uint32_t limit, count; };

static void *consume(void *arg)
{
    struct consumer *k = arg;
    sa_free(sa_malloc(8));   /* this thread's heap */
    sa_tcache *tc = sa_heap_cache(sa_tls_heap, sa_size_class(200));
    for (int i = 0; i < k->n; i++) {
        sa_free(k->blocks[i]);
        if (tc->count > tc->limit)
            k->count = tc->count;   /* never */
    }
    k->limit = tc->limit;
    if (!k->count)
        k->count = tc->count;
    return NULL;
}

Test(heap, thread_cache_bound_adapts_to_reuse)
{
    unsigned c = sa_size_class(200);
    uint32_t max = sa_classes[c].cache_max;
    cr_assert_eq(max, 64);
    sa_free(sa_malloc(8));   /* this thread's heap */
    sa_tcache *tc = sa_heap_cache(sa_tls_heap, c);
    cr_assert_eq(tc->limit, SA_TCACHE_MIN_BLOCKS);
    enum { N = 400 };
    void *p[N];
    /* Batches of mallocs and frees: 32 -> 64, and stays
     * (the later overflows of a batch of frees see no malloc, but the
     * blocks are the thread's own). */
    uint32_t seen[8];
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < N; i++)
            p[i] = sa_malloc(200);
        for (int i = 0; i < N; i++) {
            sa_free(p[i]);
            cr_assert_leq(tc->count, tc->limit);
        }
        seen[round] = tc->limit;
    }
    uint32_t want[8] = { 64, 64, 64, 64, 64, 64, 64, 64 };
    for (int round = 0; round < 8; round++)
        cr_assert_eq(seen[round], want[round], "round %d", round);
    /* Another thread that only frees our blocks ends at the floor, with
     * at most that many of them cached. */
    for (int i = 0; i < N; i++)
        p[i] = sa_malloc(200);
    struct consumer k = { p, N, 0, 0 };
    pthread_t t;
    pthread_create(&t, NULL, consume, &k);
    pthread_join(t, NULL);
    cr_assert_eq(k.limit, SA_TCACHE_MIN_BLOCKS);
    cr_assert_leq(k.count, SA_TCACHE_MIN_BLOCKS);
}

/* Rounds of n mallocs of size bytes, then n frees: each round's first
 * overflow may double the class's bound (thread_cache_bound_adapts_to_reuse). */
static uint32_t grow_cache(size_t size, int rounds)
{
    enum { N = 200 };
    void *p[N];
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < N; i++)
            p[i] = sa_malloc(size);
        for (int i = 0; i < N; i++)
            sa_free(p[i]);
    }
    return sa_heap_cache(sa_tls_heap, sa_size_class(size))->limit;
}

/* A bound doubles only while the thread's caches together hold less than
 * SA_TCACHE_TOTAL: a thread caching a little of many classes (the suite's
 * ring: 40 classes at up to 32 KiB each, 4 threads) otherwise keeps
 * megabytes of blocks no malloc asks for. */
static size_t cached_total(void)
{
    size_t sum = 0;
    for (unsigned c = 0; c < SA_NCLASSES; c++)
        sum += (size_t)sa_heap_cache(sa_tls_heap, c)->count * sa_classes[c].size;
    return sum;
}

Test(heap, thread_caches_together_stop_growing_at_the_total)
{
    cr_assert_eq(SA_TCACHE_TOTAL, 128u << 10);
    sa_free(sa_malloc(8));   /* this thread's heap, one 16 B block cached */
    cr_assert_eq(cached_total(), 16);
    size_t sizes[4] = { 512, 496, 480, 464 };
    for (int k = 0; k < 4; k++)
        cr_assert_eq(grow_cache(sizes[k], 6), 64, "%zu B: the class's own bound", sizes[k]);
    cr_assert_eq(cached_total(), 16 + 64 * (512 + 496 + 480 + 464));   /* 124944 */
    /* 448 B: at its first overflow the caches hold 124944 + 32 * 448 =
     * 139280 bytes, over the total: 32 stays (64 without the total). */
    cr_assert_eq(SA_TCACHE_MIN_BLOCKS, 32);
    uint32_t got = grow_cache(448, 6);
    cr_assert_eq(got, 32, "limit %u count %u total %zu", got, sa_heap_cache(sa_tls_heap, sa_size_class(448))->count, cached_total());
    cr_assert_eq(sa_heap_cache(sa_tls_heap, sa_size_class(448))->count, 32);
    cr_assert_eq(cached_total(), 124944 + 32 * 448);
}

struct foreign { void *block; void *again; sa_tcache *tc; uint32_t count; };

static void *free_then_malloc(void *arg)
{
    struct foreign *f = arg;
    sa_free(sa_malloc(8));          /* give this thread a heap */
    unsigned c = sa_size_class(48);
    f->tc = sa_heap_cache(sa_tls_heap, c);
    uint32_t before = f->tc->count;
    sa_free(f->block);
    f->count = f->tc->count - before;
    f->again = sa_malloc(48);
    return NULL;
}

/* A thread caches a block of another heap's pool when it frees it, and
 * its next malloc of the class reuses it: the block never travels to its
 * owner and back, and the owner's pool still counts it as used. */
Test(heap, a_thread_reuses_other_heaps_blocks_it_freed)
{
    void *b = sa_malloc(48);
    sa_pool *pool = pool_of(b);
    uint16_t used = pool->used;
    struct foreign f = { b, NULL, NULL, 0 };
    pthread_t t;
    pthread_create(&t, NULL, free_then_malloc, &f);
    pthread_join(t, NULL);
    cr_assert_eq(f.count, 1, "cached by the freeing thread");
    cr_assert_eq(f.again, b, "and reused by it");
    cr_assert_eq(pool->used, used);
    cr_assert_null(__atomic_load_n(&sa_tls_heap->remote, __ATOMIC_ACQUIRE));
}

static unsigned remote_length(sa_heap *h)
{
    unsigned n = 0;
    for (sa_block *b = __atomic_load_n(&h->remote, __ATOMIC_ACQUIRE); b; b = b->next)
        n++;
    return n;
}

/* What another thread cached of ours comes back when it exits: every
 * block exactly once, on our remote list. */
Test(heap, cached_foreign_blocks_go_home_at_thread_exit)
{
    enum { N = 1000 };
    void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = sa_malloc(32 + 16 * (i % 8));
    sa_heap_flush_cache();
    while (__atomic_load_n(&sa_tls_heap->remote, __ATOMIC_ACQUIRE))
        sa_malloc(16);   /* (a setup that left remote blocks: collect) */
    pthread_t t;
    struct handoff h = { blocks, N };
    pthread_create(&t, NULL, free_them, &h);
    pthread_join(t, NULL);
    cr_assert_eq(remote_length(sa_tls_heap), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(((sa_block *)blocks[i])->key, (uintptr_t)blocks[i] ^ sa_secret);
}

Test(heap, a_freed_big_block_goes_back_to_its_arena)
{
    /* Classes above SA_TCACHE_BYTES are not cached, and their runs go
     * back to the arena as soon as they are empty, even the heap's last
     * one: a run of 16 pages kept per class would pin a MiB. */
    void *p = sa_malloc(40000);
    sa_pool *pool = pool_of(p);
    cr_assert_eq(pool->state, SA_POOL_USED);
    cr_assert_eq(*sa_heap_used(sa_tls_heap, pool->cls), pool);
    sa_free(p);
    cr_assert_eq(sa_heap_cache(sa_tls_heap, pool->cls)->count, 0);
    cr_assert_eq(pool->state, SA_POOL_EMPTY);
    cr_assert_null(*sa_heap_used(sa_tls_heap, pool->cls));
    /* A one-page class keeps its last pool (the malloc/free ping-pong). */
    void *q = sa_malloc(100);
    sa_pool *qp = pool_of(q);
    sa_heap_flush_cache();
    sa_free(q);
    sa_heap_flush_cache();
    cr_assert_eq(qp->state, SA_POOL_USED);
    cr_assert_eq(qp->used, 0);
}

Test(heap, statistics_count_calls_exactly)
{
    uint64_t s0[2] = { 0, 0 }, s1[2] = { 0, 0 };
    sa_heap_foreach(sum_calls, s0);
    void *p[500];
    for (int i = 0; i < 500; i++)
        p[i] = sa_malloc((size_t)i * 37 % 3000);
    for (int i = 0; i < 300; i++)
        sa_free(p[i]);
    sa_heap_foreach(sum_calls, s1);
    cr_assert_eq(s1[0] - s0[0], 500);
    cr_assert_eq(s1[1] - s0[1], 300);
}

Test(heap, foreign_pointers_are_ignored)
{
    static char not_ours[64];
    char on_stack[64];
    sa_free(not_ours + 16);
    sa_free(on_stack);
    sa_free(NULL);
    cr_assert_eq(sa_usable_size(not_ours), 0);
    void *p = sa_malloc(10);
    cr_assert_eq(sa_usable_size(p), 16);
    sa_free(p);
}

Test(heap, trace_slots_are_per_block)
{
    char *a = sa_malloc(64), *b = sa_malloc(64), *c = sa_malloc(200000);
    cr_assert_null(sa_tag_slot(a, 0), "no records until asked for");
    sa_tag *ra = sa_tag_slot(a, 1), *rb = sa_tag_slot(b, 1);
    cr_assert_not_null(ra);
    cr_assert_eq(rb, ra + 1);
    cr_assert_eq(sa_tag_slot(a, 0), ra);
    cr_assert_not_null(sa_tag_slot(c, 1));
    cr_assert_null(sa_tag_slot(a + 16, 1));
    static char foreign[16];
    cr_assert_null(sa_tag_slot(foreign, 1));
}

Test(heap, double_free_small_aborts, .signal = SIGABRT)
{
    void *p = sa_malloc(64);
    void *keep = sa_malloc(64);
    (void)keep;
    sa_free(p);
    sa_free(p);
}

Test(heap, double_free_remote_aborts, .signal = SIGABRT)
{
    void *blocks[2];
    blocks[0] = sa_malloc(64);
    blocks[1] = blocks[0];
    pthread_t t;
    struct handoff h = { blocks, 2 };
    pthread_create(&t, NULL, free_them, &h);
    pthread_join(t, NULL);
}

Test(heap, interior_pointer_aborts, .signal = SIGABRT)
{
    char *p = sa_malloc(64);
    sa_free(p + 16);
}

Test(heap, realloc_of_freed_block_aborts, .signal = SIGABRT)
{
    void *p = sa_malloc(2000);
    void *keep = sa_malloc(2000);
    (void)keep;
    sa_free(p);
    sa_realloc(p, 3000);
}

Test(heap, realloc_keeps_contents_across_classes)
{
    unsigned char *p = sa_malloc(10);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    size_t sizes[] = { 100, 512, 513, 4000, 65536, 65537, 300000, 1000, 20, 5 };
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        p = sa_realloc(p, sizes[k]);
        cr_assert_not_null(p);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(p[i], i);
    }
    void *q = sa_malloc(100);
    cr_assert_eq(sa_realloc(q, 90), q, "a small shrink stays in place");
    cr_assert_null(sa_realloc(q, 0));
}

Test(heap, realloc_moves_a_small_block_and_caches_the_old_one)
{
    /* sqlite3's pattern: a short string grown by realloc.  The old block
     * goes to the thread's cache, so the next malloc of its class gets it
     * back (LIFO), and the free counter sees it. */
    char *p = sa_malloc(24);
    memcpy(p, "0123456789abcdefghijklm", 24);
    uint64_t frees = sa_tls_heap->nfree;
    char *q = sa_realloc(p, 40);
    cr_assert_neq(q, p);
    cr_assert_str_eq(q, "0123456789abcdefghijklm");
    cr_assert_eq(sa_tls_heap->nfree, frees + 1);
    cr_assert_eq(sa_malloc(20), p, "the old block was not cached");
    /* A freed block is still refused. */
    sa_free(q);
}

Test(heap, realloc_of_a_freed_small_block_aborts, .signal = SIGABRT)
{
    void *p = sa_malloc(24);
    void *keep = sa_malloc(24);
    (void)keep;
    sa_free(p);
    sa_realloc(p, 40);
}

Test(heap, realloc_of_an_interior_pointer_aborts, .signal = SIGABRT)
{
    char *p = sa_malloc(64);
    sa_realloc(p + 16, 200);
}

Test(heap, aligned_allocations)
{
    for (size_t align = 32; align <= (1u << 21); align *= 2)
        for (size_t n = 1; n < 100000; n = n * 3 + 1) {
            void *p = sa_aligned(align, n);
            cr_assert_not_null(p);
            cr_assert_eq((uintptr_t)p % align, 0, "align %zu n %zu", align, n);
            cr_assert_geq(sa_usable_size(p), n);
            sa_free(p);
        }
}

#include "alloc/walk.h"

struct walk_count { int small, large; size_t bytes; void *want; int seen; };

static void count_block(const sa_block_info *b, void *ctx)
{
    struct walk_count *w = ctx;
    if (b->size > SA_MEDIUM_MAX)
        w->large++;
    else
        w->small++;
    w->bytes += b->size;
    if (b->start == w->want)
        w->seen++;
}

Test(heap, walk_finds_exactly_the_live_blocks)
{
    void *p[100];
    for (int i = 0; i < 100; i++)
        p[i] = sa_malloc(i < 98 ? 64 : 300000);
    for (int i = 0; i < 50; i++)
        sa_free(p[i]);          /* some sit in the thread cache, some in the pool */
    struct walk_count w = { 0, 0, 0, p[60], 0 };
    sa_block_foreach(count_block, &w);
    cr_assert_eq(w.small, 48);
    cr_assert_eq(w.large, 2);
    cr_assert_eq(w.seen, 1);
    cr_assert_eq(w.bytes, 48 * 64 + 2 * 303104);
}

/* The page entry free() reads (pagemap.h): set when a page's blocks are
 * carved, with the class, the page's distance from its pool's first page
 * and the arena's header page, so that the pool's descriptor is found
 * from it; 0 for a page whose blocks are not carved yet, and 0 again once
 * the pool has gone back to its arena. */
static unsigned page_entry(const void *p)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(p);
    cr_assert_not_null(leaf);
    return sa_pagemap_page_get(leaf, p);
}

Test(heap, page_entries_follow_carving_and_find_the_pool)
{
    /* 10240-byte blocks: 2 per 5-page pool, the second starting in the
     * pool's third page.  A fresh pool: no other test uses the class. */
    sa_pool *pool;
    char *first = fresh_pool_block(10240, &pool);
    unsigned cls = pool->cls;
    cr_assert_eq(sa_classes[cls].pages, 5);
    sa_arena *a = sa_pool_arena(pool);
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) / SA_PAGE);
    cr_assert_eq(page_entry(first), sa_pagemap_page_entry(cls, 0, color));
    cr_assert_eq(sa_arena_entry_pool(page_entry(first), first), pool);
    for (int pg = 1; pg < 5; pg++)
        cr_assert_eq(page_entry(first + pg * SA_PAGE), 0, "page %d is not carved yet", pg);
    char *second = sa_malloc(10240);
    cr_assert_eq(second, first + 10240);
    cr_assert_eq(page_entry(second), sa_pagemap_page_entry(cls, 2, color));
    cr_assert_eq(sa_arena_entry_pool(page_entry(second), second), pool);
    cr_assert_eq(page_entry(first + SA_PAGE), 0, "no block starts in the second page");
    /* Both freed and out of the cache: an empty pool of blocks over a page
     * goes back to its arena, its entries cleared. */
    sa_free(second);
    sa_free(first);
    sa_heap_flush_cache();
    cr_assert_eq(pool->state, SA_POOL_EMPTY);
    for (int pg = 0; pg < 5; pg++)
        cr_assert_eq(page_entry(first + pg * SA_PAGE), 0, "page %d after the pool went", pg);
}

Test(heap, page_entry_of_a_one_page_pool)
{
    char *p = sa_malloc(300);
    sa_pool *pool = pool_of(p);
    unsigned pe = page_entry(p);
    cr_assert_eq(pe & SA_PM_PAGE_CLASS, sa_size_class(300));
    cr_assert_eq(pe & SA_PM_PAGE_DISTANCE, 0);
    cr_assert_eq(sa_arena_entry_pool(pe, p), pool);
    sa_free(p);
}
