/* realloc.c - realloc growth, calloc and aligned allocation.
 *
 * Three phases per round, each checking what the C standard promises:
 *  - grow a buffer by realloc from 16 bytes to a bit over 1 MiB in ~1.25x
 *    steps, filling each new part with its step number and checking that old
 *    contents moved with the block (the path from small classes through
 *    large blocks to mmap-sized ones);
 *  - calloc arrays of 1..4096 elements of 8..64 bytes, check they are zero,
 *    then dirty them so a reused block that is not cleared is caught later;
 *  - posix_memalign and aligned_alloc with alignments 16..4096 and sizes up
 *    to 8 KiB, keeping a ring of live blocks, checking alignment and tags.
 *
 *   realloc [ROUNDS]      (default 60)
 */
#include "common.h"

#include <stdint.h>

#define GROW_LIMIT (1200u * 1024u)
#define CALLOCS 2000
#define ALIGNED 20000
#define RING 256

static void fail(const char *what, size_t n)
{
    fprintf(stderr, "realloc: %s (%zu)\n", what, n);
    exit(1);
}

static uint64_t grow(uint64_t h)
{
    size_t ends[128];
    int steps = 0;
    size_t size = 16;
    unsigned char *p = xmalloc(size);

    memset(p, 0, size);
    ends[steps++] = size;
    while (size < GROW_LIMIT) {
        size_t old = size;
        size += size / 4 + 16;
        p = realloc(p, size);
        if (!p)
            fail("realloc failed", size);
        /* Check the first byte, the last byte written by the previous step and
         * one byte in the middle, whose step is found among the boundaries. */
        size_t mid = old / 2;
        int s = 0;
        while (ends[s] <= mid)
            s++;
        if (p[0] != 0 || p[old - 1] != (unsigned char)(steps - 1) || p[mid] != (unsigned char)s)
            fail("realloc lost contents", old);
        memset(p + old, steps, size - old);
        ends[steps++] = size;
    }
    h = mix(h, size);
    /* Shrink back in halves: contents must survive shrinking too. */
    while (size > 64) {
        size /= 2;
        p = realloc(p, size);
        int s = 0;
        while (ends[s] <= size - 1)
            s++;
        if (!p || p[0] != 0 || p[size - 1] != (unsigned char)s)
            fail("realloc lost contents when shrinking", size);
    }
    free(p);
    return mix(h, (uint64_t)steps);
}

static uint64_t callocs(uint64_t *seed, uint64_t h)
{
    for (int n = 0; n < CALLOCS; n++) {
        size_t count = rng_range(seed, 1, 4096), elem = rng_range(seed, 8, 64) & ~(size_t)7;
        size_t bytes = count * elem;
        unsigned char *p = calloc(count, elem);
        if (!p)
            fail("calloc failed", bytes);
        size_t stride = bytes <= 4096 ? 1 : 61;
        for (size_t i = 0; i < bytes; i += stride)
            if (p[i])
                fail("calloc memory not zero", bytes);
        if (p[bytes - 1])
            fail("calloc memory not zero", bytes);
        memset(p, 0xA5, bytes);
        h = mix(h, bytes);
        free(p);
    }
    return h;
}

static uint64_t aligned(uint64_t *seed, uint64_t h)
{
    void *ring[RING] = {0};
    size_t sizes[RING] = {0};

    for (int n = 0; n < ALIGNED; n++) {
        int k = n % RING;
        if (ring[k]) {
            check_block(ring[k], sizes[k], (uint64_t)k ^ sizes[k], "realloc(aligned)");
            free(ring[k]);
        }
        size_t align = (size_t)16 << rng_range(seed, 0, 8); /* 16 .. 4096 */
        size_t size = rng_range(seed, 16, 8192);
        void *p;
        if (n & 1) {
            size = (size + align - 1) & ~(align - 1);
            p = aligned_alloc(align, size);
        } else if (posix_memalign(&p, align, size) != 0) {
            p = NULL;
        }
        if (!p)
            fail("aligned allocation failed", size);
        if ((uintptr_t)p & (align - 1))
            fail("misaligned block for alignment", align);
        tag_block(p, size, (uint64_t)k ^ size);
        ring[k] = p;
        sizes[k] = size;
        h = mix(h, size ^ align);
    }
    for (int k = 0; k < RING; k++)
        free(ring[k]);
    return h;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 60;
    uint64_t seed = 0xA0761D6478BD642FULL, h = 0;

    for (int r = 0; r < rounds; r++) {
        h = grow(h);
        h = callocs(&seed, h);
        h = aligned(&seed, h);
    }
    printf("RESULT realloc rounds=%d checksum=%016llx\n", rounds, (unsigned long long)h);
    return 0;
}
