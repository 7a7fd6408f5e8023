/* suite.c - allocation patterns modelled on mimalloc-bench's programs,
 * written for this bench (no code taken from there), one per mode:
 *
 *   cfrac        single thread, 16..64 B objects, mostly short-lived
 *                (bignum temporaries), LIFO-ish frees
 *   espresso     single thread, 16..2048 B skewed small, a live set of 20k
 *                replaced at random
 *   fifo, lifo, random
 *                single thread, 8..512 B skewed small, half temporaries,
 *                half kept in a window of 200k and freed in FIFO, LIFO or
 *                random order (the order is the only difference)
 *   glibc-simple single thread, malloc/free pairs of 4..2048 B in a loop
 *   glibc-thread THREADS threads of glibc-simple
 *   alloc-test   THREADS threads, a live set of 1000 blocks of 16..1024 B
 *                each, replaced at random
 *   ring         THREADS threads in a ring: each allocates 16..1024 B blocks
 *                that the next thread frees (SPSC queues of batches)
 *   xmalloc      THREADS/2 producer and THREADS/2 consumer threads: blocks
 *                allocated by any producer are freed by any consumer through
 *                a shared pool of batches (xmalloc-test)
 *   mstress      THREADS threads, each keeps a set of 16..4096 B blocks and
 *                passes a tenth of them to the next thread every round
 *   rptest       THREADS threads, 16 B..16 KiB log-uniform, a live set of 2000,
 *                a quarter of the frees of blocks from another thread
 *   sh6bench     THREADS threads, batches of 1..1000 B blocks freed in
 *                reverse order of allocation, then in order
 *   cache-scratch, cache-thrash
 *                THREADS threads writing 8-byte objects: handed out by
 *                the main thread then replaced (passive false sharing), or
 *                allocated by each thread (active); a line shared by two
 *                threads' objects costs every write
 *   malloc-large single thread, 5..25 MiB blocks, 20 live, written in part
 *
 * THREADS (environment, default 4) sets the threads of the threaded modes;
 * BENCH_QUICK=1 divides the op counts by 10.  Each prints one RESULT line
 * whose checksum depends only on the mode, THREADS and the op counts (a
 * thread's checksum is its own; they are added), so the harness can compare
 * it with glibc's run.  Blocks carry tags checked before they are freed.
 *
 *   suite MODE
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

static long scale = 1;        /* 10 in quick mode */
static int nthreads = 4;

static void fail(const char *what)
{
    fprintf(stderr, "suite: %s\n", what);
    exit(1);
}

static void *xm(size_t n)
{
    void *p = malloc(n);
    if (!p)
        fail("malloc failed");
    return p;
}

/* A size in 8..max skewed small (min of two uniforms). */
static size_t skewed(uint64_t *r, size_t lo, size_t hi)
{
    size_t a = rng_range(r, lo, hi), b = rng_range(r, lo, hi);
    return a < b ? a : b;
}

/* Tag a block (its first and last 8 bytes; one byte below 16 bytes). */
static void put(void *p, size_t n, uint64_t tag)
{
    if (n >= 16)
        tag_block(p, n, tag);
    else
        *(unsigned char *)p = (unsigned char)tag;
}

static void take(void *p, size_t n, uint64_t tag)
{
    if (n >= 16)
        check_block(p, n, tag, "suite");
    else if (*(unsigned char *)p != (unsigned char)tag)
        fail("a block below 16 bytes lost its tag");
    free(p);
}

/* ---- single thread ---------------------------------------------------- */

static uint64_t cfrac(void)
{
    uint64_t r = 1, h = 0;
    void *stack[64];
    size_t sz[64];
    long ops = 40000000 / scale;
    int top = 0;
    for (long i = 0; i < ops; i++) {
        if (top < 64 && (top == 0 || (rng_next(&r) & 3) != 0)) {
            sz[top] = rng_range(&r, 16, 64);
            stack[top] = xm(sz[top]);
            put(stack[top], sz[top], (uint64_t)top);
            top++;
        } else {
            while (top > 0 && (rng_next(&r) & 1)) {
                top--;
                h = mix(h, sz[top]);
                take(stack[top], sz[top], (uint64_t)top);
            }
        }
    }
    while (top-- > 0)
        take(stack[top], sz[top], (uint64_t)top);
    return h;
}

static uint64_t espresso(void)
{
    enum { LIVE = 20000 };
    static void *p[LIVE];
    static size_t n[LIVE];
    uint64_t r = 2, h = 0;
    long ops = 20000000 / scale;
    for (long i = 0; i < ops; i++) {
        size_t k = rng_range(&r, 0, LIVE - 1);
        if (p[k]) {
            h = mix(h, n[k]);
            take(p[k], n[k], k);
        }
        n[k] = skewed(&r, 16, 2048);
        p[k] = xm(n[k]);
        put(p[k], n[k], k);
    }
    for (size_t k = 0; k < LIVE; k++)
        if (p[k])
            take(p[k], n[k], k);
    return h;
}

/* FIFO / LIFO / random frees of the kept half, a window of 200k. */
static uint64_t order(int how)
{
    enum { WINDOW = 200000 };
    static void *p[WINDOW];
    static uint32_t n[WINDOW];
    uint64_t r = 3, h = 0;
    long ops = 16000000 / scale;
    size_t head = 0, count = 0;   /* ring for FIFO; stack for LIFO */
    for (long i = 0; i < ops; i++) {
        size_t sz = skewed(&r, 8, 512);
        void *q = xm(sz);
        put(q, sz, sz);
        if (rng_next(&r) & 1) {        /* a temporary */
            h = mix(h, sz);
            take(q, sz, sz);
            continue;
        }
        if (count == WINDOW) {         /* free one of the kept blocks */
            size_t k;
            if (how == 0)
                k = head, head = (head + 1) % WINDOW;
            else if (how == 1)
                k = (head + count - 1) % WINDOW;
            else
                k = (head + rng_range(&r, 0, count - 1)) % WINDOW;
            h = mix(h, n[k]);
            take(p[k], n[k], n[k]);
            if (how != 0) {            /* fill the hole with the newest */
                size_t last = (head + count - 1) % WINDOW;
                p[k] = p[last], n[k] = n[last];
            }
            count--;
        }
        size_t k = (head + count) % WINDOW;
        p[k] = q, n[k] = (uint32_t)sz;
        count++;
    }
    for (size_t i = 0; i < count; i++) {
        size_t k = (head + i) % WINDOW;
        take(p[k], n[k], n[k]);
    }
    return h;
}

static uint64_t glibc_simple_run(uint64_t seed, long ops)
{
    uint64_t r = seed, h = 0;
    for (long i = 0; i < ops; i++) {
        size_t sz = rng_range(&r, 4, 2048);
        char *q = xm(sz);
        q[0] = (char)sz;
        q[sz - 1] = (char)i;
        h = mix(h, (unsigned char)q[0]);
        free(q);
    }
    return h;
}

static uint64_t malloc_large(void)
{
    enum { LIVE = 20 };
    void *p[LIVE] = {0};
    size_t n[LIVE] = {0};
    uint64_t r = 5, h = 0;
    long ops = 2000 / scale;
    for (long i = 0; i < ops; i++) {
        size_t k = rng_range(&r, 0, LIVE - 1);
        if (p[k])
            take(p[k], n[k], k);
        n[k] = rng_range(&r, 5u << 20, 25u << 20);
        p[k] = xm(n[k]);
        memset(p[k], (int)k, n[k] / rng_range(&r, 1, 4));
        put(p[k], n[k], k);
        h = mix(h, n[k]);
    }
    for (size_t k = 0; k < LIVE; k++)
        if (p[k])
            take(p[k], n[k], k);
    return h;
}

/* ---- threads ----------------------------------------------------------- */

struct worker {
    int id;
    uint64_t h;
    pthread_t t;
};

static uint64_t run_threads(void *(*fn)(void *))
{
    struct worker *w = calloc((size_t)nthreads, sizeof *w);
    uint64_t h = 0;
    for (int i = 0; i < nthreads; i++) {
        w[i].id = i;
        if (pthread_create(&w[i].t, NULL, fn, &w[i]) != 0)
            fail("pthread_create");
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(w[i].t, NULL);
        h += w[i].h;
    }
    free(w);
    return h;
}

static void *glibc_thread_main(void *arg)
{
    struct worker *w = arg;
    w->h = glibc_simple_run(100 + (uint64_t)w->id, 20000000 / scale / nthreads);
    return NULL;
}

static void *alloc_test_main(void *arg)
{
    enum { LIVE = 1000 };
    struct worker *w = arg;
    void *p[LIVE] = {0};
    size_t n[LIVE] = {0};
    uint64_t r = 200 + (uint64_t)w->id, h = 0;
    long ops = 16000000 / scale / nthreads;
    for (long i = 0; i < ops; i++) {
        size_t k = rng_range(&r, 0, LIVE - 1);
        if (p[k]) {
            h = mix(h, n[k]);
            take(p[k], n[k], k);
        }
        n[k] = rng_range(&r, 16, 1024);
        p[k] = xm(n[k]);
        put(p[k], n[k], k);
    }
    for (size_t k = 0; k < LIVE; k++)
        if (p[k])
            take(p[k], n[k], k);
    w->h = h;
    return NULL;
}

/* A single-producer single-consumer queue of batches of blocks. */
enum { BATCH = 64, QLEN = 64 };
struct batch {
    void *p[BATCH];
    uint32_t n[BATCH];
};
struct queue {
    struct batch *slot[QLEN];
    _Atomic unsigned head, tail;
    char pad[64];
};
static struct queue *queues;

static void q_push(struct queue *q, struct batch *b)
{
    unsigned t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    while (t - atomic_load_explicit(&q->head, memory_order_acquire) == QLEN)
        sched_yield();
    q->slot[t % QLEN] = b;
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
}

static struct batch *q_pop(struct queue *q)
{
    unsigned h = atomic_load_explicit(&q->head, memory_order_relaxed);
    while (atomic_load_explicit(&q->tail, memory_order_acquire) == h)
        sched_yield();
    struct batch *b = q->slot[h % QLEN];
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    return b;
}

static void *ring_main(void *arg)
{
    struct worker *w = arg;
    struct queue *out = &queues[w->id], *in = &queues[(w->id + nthreads - 1) % nthreads];
    uint64_t r = 300 + (uint64_t)w->id, h = 0;
    long batches = 200000 / scale / nthreads;
    for (long i = 0; i < batches; i++) {
        struct batch *b = xm(sizeof *b);
        for (int k = 0; k < BATCH; k++) {
            b->n[k] = (uint32_t)rng_range(&r, 16, 1024);
            b->p[k] = xm(b->n[k]);
            put(b->p[k], b->n[k], b->n[k]);
            h = mix(h, b->n[k]);
        }
        q_push(out, b);
        struct batch *c = q_pop(in);
        for (int k = 0; k < BATCH; k++)
            take(c->p[k], c->n[k], c->n[k]);
        free(c);
    }
    w->h = h;
    return NULL;
}

/* xmalloc-test: a shared pool (a mutex-protected stack) of batches. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct batch **pool;
static size_t pool_n, pool_done;

static void *xmalloc_main(void *arg)
{
    struct worker *w = arg;
    int producers = nthreads / 2 > 0 ? nthreads / 2 : 1;
    long batches = 160000 / scale / producers;
    uint64_t r = 400 + (uint64_t)w->id, h = 0;
    if (w->id < producers) {
        for (long i = 0; i < batches; i++) {
            struct batch *b = xm(sizeof *b);
            for (int k = 0; k < BATCH; k++) {
                b->n[k] = (uint32_t)skewed(&r, 16, 512);
                b->p[k] = xm(b->n[k]);
                put(b->p[k], b->n[k], b->n[k]);
                h = mix(h, b->n[k]);
            }
            pthread_mutex_lock(&pool_lock);
            while (pool_n == 1024)
                pthread_cond_wait(&pool_cond, &pool_lock);
            pool[pool_n++] = b;
            pthread_cond_broadcast(&pool_cond);
            pthread_mutex_unlock(&pool_lock);
        }
        pthread_mutex_lock(&pool_lock);
        pool_done++;
        pthread_cond_broadcast(&pool_cond);
        pthread_mutex_unlock(&pool_lock);
    } else {
        for (;;) {
            pthread_mutex_lock(&pool_lock);
            while (pool_n == 0 && pool_done < (size_t)producers)
                pthread_cond_wait(&pool_cond, &pool_lock);
            struct batch *b = pool_n ? pool[--pool_n] : NULL;
            pthread_cond_broadcast(&pool_cond);
            pthread_mutex_unlock(&pool_lock);
            if (!b)
                break;
            for (int k = 0; k < BATCH; k++)
                take(b->p[k], b->n[k], b->n[k]);
            free(b);
        }
    }
    w->h = h;
    return NULL;
}

/* mstress: each thread keeps a set, passes a tenth of it to the next. */
static void *mstress_main(void *arg)
{
    enum { KEEP = 4000 };
    struct worker *w = arg;
    struct queue *out = &queues[w->id], *in = &queues[(w->id + nthreads - 1) % nthreads];
    void **p = xm(KEEP * sizeof *p);
    uint32_t *n = xm(KEEP * sizeof *n);
    uint64_t r = 500 + (uint64_t)w->id, h = 0;
    for (int k = 0; k < KEEP; k++) {
        n[k] = (uint32_t)skewed(&r, 16, 4096);
        p[k] = xm(n[k]);
        put(p[k], n[k], n[k]);
    }
    long rounds = 2000 / scale;
    for (long i = 0; i < rounds; i++) {
        for (int k = 0; k < KEEP; k++)   /* replace a half in place */
            if (rng_next(&r) & 1) {
                take(p[k], n[k], n[k]);
                n[k] = (uint32_t)skewed(&r, 16, 4096);
                p[k] = xm(n[k]);
                put(p[k], n[k], n[k]);
                h = mix(h, n[k]);
            }
        for (int b = 0; b < KEEP / 10 / BATCH; b++) {   /* pass a tenth on */
            struct batch *out_b = xm(sizeof *out_b);
            for (int k = 0; k < BATCH; k++) {
                int s = b * BATCH + k;
                out_b->p[k] = p[s], out_b->n[k] = n[s];
            }
            q_push(out, out_b);
            struct batch *in_b = q_pop(in);
            for (int k = 0; k < BATCH; k++) {
                int s = b * BATCH + k;
                p[s] = in_b->p[k], n[s] = in_b->n[k];
            }
            free(in_b);
        }
    }
    for (int k = 0; k < KEEP; k++)
        take(p[k], n[k], n[k]);
    free(p);
    free(n);
    w->h = h;
    return NULL;
}

/* rptest: log-uniform 16 B..16 KiB; a quarter of the replaced blocks go
 * to the next thread to free. */
static void *rptest_main(void *arg)
{
    enum { LIVE = 2000 };
    struct worker *w = arg;
    struct queue *out = &queues[w->id], *in = &queues[(w->id + nthreads - 1) % nthreads];
    void *p[LIVE] = {0};
    uint32_t n[LIVE] = {0};
    uint64_t r = 600 + (uint64_t)w->id, h = 0;
    long rounds = 4000 / scale / nthreads * 4;
    for (long i = 0; i < rounds; i++) {
        struct batch *b = xm(sizeof *b);
        int nb = 0;
        for (int j = 0; j < 4 * BATCH; j++) {
            size_t k = rng_range(&r, 0, LIVE - 1);
            if (p[k]) {
                if ((j & 3) == 0 && nb < BATCH)
                    b->p[nb] = p[k], b->n[nb++] = n[k];
                else
                    take(p[k], n[k], n[k]);
            }
            unsigned shift = (unsigned)rng_range(&r, 4, 13);
            n[k] = (uint32_t)rng_range(&r, (size_t)1 << shift, ((size_t)2 << shift) - 1);
            p[k] = xm(n[k]);
            put(p[k], n[k], n[k]);
            h = mix(h, n[k]);
        }
        for (; nb < BATCH; nb++) {
            b->n[nb] = 16;
            b->p[nb] = xm(16);
            put(b->p[nb], 16, 16);
        }
        q_push(out, b);
        struct batch *c = q_pop(in);
        for (int k = 0; k < BATCH; k++)
            take(c->p[k], c->n[k], c->n[k]);
        free(c);
    }
    for (int k = 0; k < LIVE; k++)
        if (p[k])
            take(p[k], n[k], n[k]);
    w->h = h;
    return NULL;
}

static void *sh6_main(void *arg)
{
    enum { N = 1000 };
    struct worker *w = arg;
    void *p[N];
    uint32_t n[N];
    uint64_t r = 700 + (uint64_t)w->id, h = 0;
    long rounds = 20000 / scale / nthreads;
    for (long i = 0; i < rounds; i++) {
        for (int k = 0; k < N; k++) {
            n[k] = (uint32_t)rng_range(&r, 1, 1000);
            p[k] = xm(n[k]);
            put(p[k], n[k], n[k]);
            h = mix(h, n[k]);
        }
        if (i & 1)
            for (int k = N; k-- > 0;)
                take(p[k], n[k], n[k]);
        else
            for (int k = 0; k < N; k++)
                take(p[k], n[k], n[k]);
    }
    w->h = h;
    return NULL;
}

/* cache-scratch / cache-thrash: objects of 8 bytes written many times. */
static void **handed;
static int thrash;

static void *cache_main(void *arg)
{
    struct worker *w = arg;
    long rounds = 5000 / scale, writes = 20000;
    volatile char *o;
    if (!thrash)
        free(handed[w->id]);   /* a neighbour's line, handed back */
    o = xm(8);
    memset((void *)o, 0, 8);
    uint64_t h = 0;
    for (long i = 0; i < rounds; i++) {
        for (long j = 0; j < writes; j++)
            o[j & 7] = (char)(o[j & 7] + 1);
        h = mix(h, (unsigned char)o[0]);
        free((void *)o);
        o = xm(8);
        memset((void *)o, 0, 8);
    }
    free((void *)o);
    w->h = h;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *quick = getenv("BENCH_QUICK"), *threads = getenv("THREADS");
    if (quick && *quick == '1')
        scale = 10;
    if (threads && atoi(threads) > 0)
        nthreads = atoi(threads);
    if (argc != 2) {
        fprintf(stderr, "usage: suite MODE\n");
        return 2;
    }
    const char *m = argv[1];
    queues = calloc((size_t)nthreads, sizeof *queues);
    uint64_t h;
    if (!strcmp(m, "cfrac"))
        h = cfrac();
    else if (!strcmp(m, "espresso"))
        h = espresso();
    else if (!strcmp(m, "fifo"))
        h = order(0);
    else if (!strcmp(m, "lifo"))
        h = order(1);
    else if (!strcmp(m, "random"))
        h = order(2);
    else if (!strcmp(m, "glibc-simple"))
        h = glibc_simple_run(7, 20000000 / scale);
    else if (!strcmp(m, "glibc-thread"))
        h = run_threads(glibc_thread_main);
    else if (!strcmp(m, "alloc-test"))
        h = run_threads(alloc_test_main);
    else if (!strcmp(m, "ring"))
        h = run_threads(ring_main);
    else if (!strcmp(m, "xmalloc")) {
        pool = xm(1024 * sizeof *pool);
        if (nthreads < 2)
            nthreads = 2;
        h = run_threads(xmalloc_main);
    } else if (!strcmp(m, "mstress"))
        h = run_threads(mstress_main);
    else if (!strcmp(m, "rptest"))
        h = run_threads(rptest_main);
    else if (!strcmp(m, "sh6bench"))
        h = run_threads(sh6_main);
    else if (!strcmp(m, "cache-scratch") || !strcmp(m, "cache-thrash")) {
        thrash = m[6] == 't';
        handed = xm((size_t)nthreads * sizeof *handed);
        for (int i = 0; i < nthreads; i++)
            handed[i] = xm(8);
        h = run_threads(cache_main);
        if (thrash)
            for (int i = 0; i < nthreads; i++)
                free(handed[i]);
    } else if (!strcmp(m, "malloc-large"))
        h = malloc_large();
    else {
        fprintf(stderr, "suite: unknown mode %s\n", m);
        return 2;
    }
    printf("RESULT suite %s %d %ld %016llx\n", m, nthreads, scale, (unsigned long long)h);
    return 0;
}
