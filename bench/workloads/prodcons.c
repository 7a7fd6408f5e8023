/* prodcons.c - cross-thread producer/consumer.
 *
 * One thread allocates objects of random sizes 16..1024 bytes, tags them and
 * passes them through a bounded single-producer/single-consumer ring; a
 * second thread checks each tag and frees the object.  Objects travel in
 * batches of BATCH so that the ring's synchronization costs little next to
 * the allocator's work.  Every free is thus a
 * free of memory allocated by another thread, the case a per-thread heap must
 * hand back to its owner (mimalloc's `_mt` path).  The ring is FIFO, so the
 * consumer sees the objects in the same order under every allocator and its
 * checksum is deterministic.
 *
 * The consumer starts only once the producer has filled the ring, so the
 * program's live peak is the same RING * BATCH objects under every
 * allocator.  Without that, a slow allocator's ring might never fill and a
 * fast one's would: peak RSS would measure how far the producer got ahead,
 * not what the allocator costs in memory.
 *
 *   prodcons [THOUSAND_OBJECTS]      (default 6000)
 */
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define RING 8 /* batches in flight */
#define BATCH 256

struct batch {
    void *p[BATCH];
    uint32_t size[BATCH];
};

static struct batch ring[RING];
static _Alignas(64) atomic_ulong head; /* next slot the producer fills */
static _Alignas(64) atomic_ulong tail; /* next slot the consumer empties */
static long total;

static void *producer(void *arg)
{
    uint64_t seed = 0xD1B54A32D192ED03ULL;
    (void)arg;
    for (long n = 0; n < total; n += BATCH) {
        unsigned long h = atomic_load_explicit(&head, memory_order_relaxed);
        while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING)
            sched_yield();
        struct batch *b = &ring[h % RING];
        for (int k = 0; k < BATCH; k++) {
            uint32_t size = (uint32_t)rng_range(&seed, 16, 1024);
            b->p[k] = xmalloc(size);
            b->size[k] = size;
            tag_block(b->p[k], size, (uint64_t)(n + k));
        }
        atomic_store_explicit(&head, h + 1, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    total = (argc > 1 ? atol(argv[1]) : 6000) * 1000L;
    total -= total % BATCH;
    pthread_t t;
    uint64_t sum = 0, h = 0;

    if (pthread_create(&t, NULL, producer, NULL) != 0) {
        fprintf(stderr, "prodcons: pthread_create failed\n");
        return 1;
    }
    unsigned long full = total / BATCH < RING ? (unsigned long)(total / BATCH) : RING;
    while (atomic_load_explicit(&head, memory_order_acquire) < full)
        sched_yield();
    for (long n = 0; n < total; n += BATCH) {
        unsigned long tl = atomic_load_explicit(&tail, memory_order_relaxed);
        while (atomic_load_explicit(&head, memory_order_acquire) == tl)
            sched_yield();
        struct batch *b = &ring[tl % RING];
        for (int k = 0; k < BATCH; k++) {
            check_block(b->p[k], b->size[k], (uint64_t)(n + k), "prodcons");
            free(b->p[k]);
            sum += b->size[k];
            h = mix(h, b->size[k]);
        }
        atomic_store_explicit(&tail, tl + 1, memory_order_release);
    }
    pthread_join(t, NULL);
    printf("RESULT prodcons objects=%ld bytes=%llu checksum=%016llx\n", total,
           (unsigned long long)sum, (unsigned long long)h);
    return 0;
}
