/* stress_remote.c - threads freeing each other's blocks, for stress_remote.sh.
 *
 * A shared array of slots holds live blocks.  Each of 8 threads repeatedly
 * picks a random slot and swaps its block for a fresh one of random size
 * (1..600 bytes; sometimes 2-100 KiB; rarely 300 KiB), so almost every free
 * is of a block another thread allocated, often one that has exited since.
 * Every block is filled with a pattern derived from a per-block tag, and the
 * pattern of each block is verified before it is freed: a block handed out
 * twice, or written by the allocator while live, shows up as corruption.
 * Threads run in 3 generations of 8: each generation exits before the next
 * starts, so the allocator must reuse (or adopt the blocks of) the heaps of
 * exited threads.
 *
 * Output: "ok" after verifying and freeing all remaining blocks; on
 * corruption a description on stderr and exit status 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 8
#define GENERATIONS 3
#define NSLOTS 4096
#define OPS_PER_THREAD 150000

struct slot {
    pthread_mutex_t lock;
    unsigned char *p;
    size_t size;
    uint64_t tag;
};

static struct slot slots[NSLOTS];

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* The pattern: the first 8 bytes hold the tag (when they fit), the rest
 * repeat a byte derived from it, and the last byte is its complement, so
 * that both ends and the middle of a block are covered. */
static unsigned char tag_byte(uint64_t tag)
{
    return (unsigned char)(tag >> 56 ^ tag);
}

static void fill(unsigned char *p, size_t n, uint64_t tag)
{
    memset(p, tag_byte(tag), n);
    if (n >= 9) {
        memcpy(p, &tag, 8);
        p[n - 1] = (unsigned char)~tag_byte(tag);
    }
}

static int verify(const unsigned char *p, size_t n, uint64_t tag)
{
    unsigned char b = tag_byte(tag);
    size_t i = 0, end = n;
    if (n >= 9) {
        uint64_t t;
        memcpy(&t, p, 8);
        if (t != tag || p[n - 1] != (unsigned char)~b)
            return 0;
        i = 8;
        end = n - 1;
    }
    for (; i < end; i++)
        if (p[i] != b)
            return 0;
    return 1;
}

static size_t pick_size(uint64_t r)
{
    if (r % 2000 == 0)
        return 300 * 1024;
    if (r % 100 == 0)
        return 2 * 1024 + (r >> 20) % (98 * 1024 + 1);
    return 1 + (r >> 16) % 600;
}

static void corrupt(const char *when, const unsigned char *p, size_t n, uint64_t tag)
{
    fprintf(stderr, "stress_remote: corrupted block %p (size %zu, tag %016llx) %s\n",
            (const void *)p, n, (unsigned long long)tag, when);
    exit(1);
}

static void *worker(void *arg)
{
    uint64_t seed = 0x2545f4914f6cdd1dULL ^ ((uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL);
    for (int op = 0; op < OPS_PER_THREAD; op++) {
        uint64_t r = xorshift(&seed);
        size_t n = pick_size(r);
        uint64_t tag = xorshift(&seed) | 1;   /* 0 marks an empty slot */
        unsigned char *p = malloc(n);
        if (!p) {
            fprintf(stderr, "stress_remote: malloc(%zu) failed\n", n);
            exit(1);
        }
        fill(p, n, tag);

        struct slot *s = &slots[xorshift(&seed) % NSLOTS];
        pthread_mutex_lock(&s->lock);
        unsigned char *old = s->p;
        size_t old_n = s->size;
        uint64_t old_tag = s->tag;
        s->p = p;
        s->size = n;
        s->tag = tag;
        pthread_mutex_unlock(&s->lock);

        if (old) {
            if (!verify(old, old_n, old_tag))
                corrupt("before free", old, old_n, old_tag);
            free(old);
        }
    }
    return NULL;
}

int main(void)
{
    for (int i = 0; i < NSLOTS; i++)
        pthread_mutex_init(&slots[i].lock, NULL);

    for (int g = 0; g < GENERATIONS; g++) {
        pthread_t th[NTHREADS];
        for (int i = 0; i < NTHREADS; i++)
            if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(g * NTHREADS + i)) != 0) {
                perror("pthread_create");
                return 1;
            }
        for (int i = 0; i < NTHREADS; i++)
            pthread_join(th[i], NULL);
    }

    size_t live = 0;
    for (int i = 0; i < NSLOTS; i++) {
        struct slot *s = &slots[i];
        if (!s->p)
            continue;
        if (!verify(s->p, s->size, s->tag))
            corrupt("at the end", s->p, s->size, s->tag);
        free(s->p);
        s->p = NULL;
        live++;
    }
    if (live != NSLOTS) {
        fprintf(stderr, "stress_remote: %zu slots filled, expected %d\n", live, NSLOTS);
        return 1;
    }
    printf("ok\n");
    return 0;
}
