/* large_realloc.c - threads that malloc, realloc and free private large
 * blocks, for large_realloc.sh.
 *
 * Usage: large_realloc THREADS ROUNDS
 *
 * Each thread keeps 12 slots of its own.  A round picks a slot: an empty
 * one gets a malloc of 64-320 KiB; a full one is realloc'd to a new size
 * in the same range (growing or shrinking, by up to 5x either way) two
 * times in three, and freed otherwise.  Every block carries a pattern
 * derived from its tag at its start and up to its end, checked before each
 * realloc and free (a realloc keeps the old contents up to the smaller
 * size), so a block handed out twice shows up as corruption.  At the end
 * every thread frees all its blocks: nothing is in use at exit, which the
 * test reads from the allocator's statistics.  Large blocks shrunk, moved
 * by mremap and taken from the cache by other threads at the same time
 * is what the test is after.
 *
 * Output: "ok"; on corruption or an allocation failure a description on
 * stderr and exit status 1.  Bad arguments: a usage line, exit status 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSLOTS 12
#define MIN_SIZE (64u << 10)
#define MAX_SIZE (320u << 10)

struct block {
    unsigned char *p;
    size_t size;
    uint64_t tag;
};

static long rounds;
static int failed;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static size_t random_size(uint64_t *s)
{
    return MIN_SIZE + (size_t)(xorshift(s) % (MAX_SIZE - MIN_SIZE + 1));
}

/* The tag in the first 8 bytes, a byte of it on the first and last 4 KiB
 * and on every 4 KiB boundary (so that each page is covered). */
static unsigned char tag_byte(uint64_t tag)
{
    return (unsigned char)(tag ^ tag >> 29);
}

static void fill(struct block *b)
{
    memcpy(b->p, &b->tag, sizeof b->tag);
    for (size_t i = 8; i < b->size; i += 4096)
        b->p[i] = tag_byte(b->tag);
    b->p[b->size - 1] = tag_byte(b->tag);
}

/* The pattern a block of size bytes was filled with, read up to upto
 * bytes (a realloc keeps the contents up to the smaller size). */
static int check(const struct block *b, size_t size, size_t upto)
{
    uint64_t tag;
    memcpy(&tag, b->p, sizeof tag);
    if (tag != b->tag)
        return 0;
    for (size_t i = 8; i < upto; i += 4096)
        if (b->p[i] != tag_byte(b->tag))
            return 0;
    return upto < size || b->p[size - 1] == tag_byte(b->tag);
}

static void fail(const char *what, const struct block *b)
{
    fprintf(stderr, "large_realloc: %s (block %p of %zu bytes, tag %llx)\n", what,
            (void *)b->p, b->size, (unsigned long long)b->tag);
    __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

static void step(struct block *b, uint64_t *s)
{
    if (!b->p) {
        b->size = random_size(s);
        b->tag = xorshift(s);
        if (!(b->p = malloc(b->size)))
            return fail("malloc failed", b);
        fill(b);
        return;
    }
    if (!check(b, b->size, b->size))
        return fail("pattern lost before realloc or free", b);
    if (xorshift(s) % 3 == 0) {
        free(b->p);
        b->p = NULL;
        return;
    }
    size_t old = b->size, n = random_size(s);
    unsigned char *q = realloc(b->p, n);
    if (!q)
        return fail("realloc failed", b);
    b->p = q;
    b->size = n;
    if (!check(b, old, old < n ? old : n))
        return fail("realloc lost the contents", b);
    fill(b);
}

static void *worker(void *arg)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1);
    struct block blocks[NSLOTS];
    memset(blocks, 0, sizeof blocks);
    for (long r = 0; r < rounds && !__atomic_load_n(&failed, __ATOMIC_RELAXED); r++)
        step(&blocks[xorshift(&s) % NSLOTS], &s);
    for (int i = 0; i < NSLOTS; i++)
        if (blocks[i].p) {
            if (!check(&blocks[i], blocks[i].size, blocks[i].size))
                fail("pattern lost before the last free", &blocks[i]);
            free(blocks[i].p);
        }
    return NULL;
}

int main(int argc, char **argv)
{
    char *end1 = NULL, *end2 = NULL;
    long nthreads = argc == 3 ? strtol(argv[1], &end1, 10) : 0;
    rounds = argc == 3 ? strtol(argv[2], &end2, 10) : 0;
    if (argc != 3 || *end1 || *end2 || nthreads < 1 || nthreads > 64 || rounds < 1) {
        fprintf(stderr, "usage: large_realloc THREADS(1-64) ROUNDS(>=1)\n");
        return 2;
    }
    pthread_t t[64];
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0) {
            fprintf(stderr, "large_realloc: pthread_create failed\n");
            return 1;
        }
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    if (failed)
        return 1;
    puts("ok");
    return 0;
}
