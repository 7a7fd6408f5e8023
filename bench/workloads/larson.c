/* larson.c - larson-style server: threads that hand their objects to successors.
 *
 * After Larson and Krishnan's benchmark (as in mimalloc-bench): LINEAGES
 * threads run at once, each owning an array of SLOTS objects of random sizes
 * 16..1000 bytes and replacing random slots.  After OPS_PER_GEN replacements
 * a thread starts a new thread, hands it the array and exits, so most frees
 * happen in a thread other than the one that allocated the block, and
 * threads come and go (thread-exit cleanup and heap reuse are exercised).
 * Each lineage draws from its own seed, so its checksum does not depend on
 * scheduling.
 *
 *   larson [GENERATIONS]      (default 120)
 */
#include "common.h"

#include <pthread.h>
#include <semaphore.h>

#define LINEAGES 4
#define SLOTS 5000
#define OPS_PER_GEN 50000

struct lineage {
    int id;
    int gen, generations;
    uint64_t seed, h;
    void *p[SLOTS];
    uint32_t size[SLOTS];
    sem_t done;
};

static uint64_t tag_of(const struct lineage *l, uint32_t i)
{
    return ((uint64_t)l->id << 56) ^ ((uint64_t)i << 32) ^ l->size[i];
}

static void *generation(void *arg)
{
    struct lineage *l = arg;

    for (int n = 0; n < OPS_PER_GEN; n++) {
        uint64_t r = rng_next(&l->seed);
        uint32_t i = (uint32_t)(r % SLOTS);
        check_block(l->p[i], l->size[i], tag_of(l, i), "larson");
        free(l->p[i]);
        l->size[i] = 16 + (uint32_t)((r >> 32) % 985);
        l->p[i] = xmalloc(l->size[i]);
        tag_block(l->p[i], l->size[i], tag_of(l, i));
        l->h = mix(l->h, l->size[i]);
    }
    if (++l->gen == l->generations) {
        sem_post(&l->done);
        return NULL;
    }
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, generation, l) != 0) {
        fprintf(stderr, "larson: pthread_create failed\n");
        exit(1);
    }
    pthread_attr_destroy(&attr);
    return NULL;
}

int main(int argc, char **argv)
{
    int generations = argc > 1 ? atoi(argv[1]) : 120;
    static struct lineage ls[LINEAGES];
    uint64_t h = 0;

    for (int k = 0; k < LINEAGES; k++) {
        struct lineage *l = &ls[k];
        l->id = k;
        l->generations = generations;
        l->seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1);
        sem_init(&l->done, 0, 0);
        for (uint32_t i = 0; i < SLOTS; i++) {
            l->size[i] = (uint32_t)rng_range(&l->seed, 16, 1000);
            l->p[i] = xmalloc(l->size[i]);
            tag_block(l->p[i], l->size[i], tag_of(l, i));
        }
    }
    for (int k = 0; k < LINEAGES; k++) {
        pthread_t t;
        if (pthread_create(&t, NULL, generation, &ls[k]) != 0) {
            fprintf(stderr, "larson: pthread_create failed\n");
            return 1;
        }
        pthread_detach(t);
    }
    for (int k = 0; k < LINEAGES; k++) {
        struct lineage *l = &ls[k];
        while (sem_wait(&l->done) != 0)
            ;
        for (uint32_t i = 0; i < SLOTS; i++) {
            check_block(l->p[i], l->size[i], tag_of(l, i), "larson");
            free(l->p[i]);
        }
        h = mix(h, l->h);
    }
    printf("RESULT larson lineages=%d generations=%d checksum=%016llx\n", LINEAGES, generations,
           (unsigned long long)h);
    return 0;
}
