/* bufgrow.c - growing buffers, large calloc'd arrays and aligned blocks
 * (the issue-22 row snapalloc lost worst: kernel time in page faults).
 *
 * Per round:
 *  - vectors grown by doubling realloc from 16 B to 64 KiB, filled as they
 *    grow, and exact-length strings (malloc(len + 1), copied, freed) up to
 *    4 KiB;
 *  - 24 arrays calloc'ed at 64 KiB..8 MiB (log-uniform), checked zero where
 *    sampled, a part of each written (1/8..all of it), then freed in random
 *    order, so the next round callocs sizes that freed blocks may serve;
 *  - posix_memalign/aligned_alloc at 16..4096 in a window of 512 live
 *    blocks, tags checked.
 *
 *   bufgrow [ROUNDS [PHASES]]   (default 40 rounds, BENCH_QUICK=1: 6;
 *                               PHASES of "vca", default all three)
 */
#include "common.h"

#include <stdint.h>

#define ARRAYS 24
#define WINDOW 512

static void fail(const char *what, size_t n)
{
    fprintf(stderr, "bufgrow: %s (%zu)\n", what, n);
    exit(1);
}

static uint64_t vectors(uint64_t h, uint64_t *rng)
{
    for (int v = 0; v < 64; v++) {
        size_t cap = 16, len = 0, limit = rng_range(rng, 1024, 65536);
        unsigned char *p = xmalloc(cap);
        while (cap < limit) {
            cap *= 2;
            p = realloc(p, cap);
            if (!p)
                fail("realloc failed", cap);
            if (len && p[len - 1] != (unsigned char)(len - 1))
                fail("realloc lost contents", len);
            for (; len < cap * 3 / 4; len++)
                p[len] = (unsigned char)len;
        }
        h = mix(h, p[len / 2]);
        free(p);
    }
    static char src[4097];
    if (!src[0])
        memset(src, 'x', sizeof src - 1);
    for (int s = 0; s < 2000; s++) {
        size_t len = rng_range(rng, 1, rng_range(rng, 1, 4096));
        char *p = xmalloc(len + 1);
        memcpy(p, src, len);
        p[len] = 0;
        h = mix(h, len + (unsigned char)p[len - 1]);
        free(p);
    }
    return h;
}

/* Sizes log-uniform in 64 KiB..8 MiB. */
static size_t array_size(uint64_t *rng)
{
    unsigned shift = (unsigned)rng_range(rng, 16, 22);
    return ((size_t)1 << shift) + rng_range(rng, 0, ((size_t)1 << shift) - 1);
}

static uint64_t arrays(uint64_t h, uint64_t *rng)
{
    uint64_t *a[ARRAYS];
    size_t n[ARRAYS];
    for (int i = 0; i < ARRAYS; i++) {
        n[i] = array_size(rng) / 8;
        a[i] = calloc(n[i], 8);
        if (!a[i])
            fail("calloc failed", n[i] * 8);
        /* The part written is read first (zeros checked, as a program
         * adding to counters would), the rest sampled every 64 KiB: a
         * reused dirty block that was not cleared is caught. */
        if (a[i][n[i] - 1])
            fail("calloc not zeroed at the end", n[i] * 8);
        size_t written = n[i] / rng_range(rng, 1, 8);
        for (size_t k = 0; k < written; k++) {
            if (a[i][k])
                fail("calloc not zeroed", n[i] * 8);
            a[i][k] += k ^ (uint64_t)i;
        }
        for (size_t k = written; k < n[i]; k += 8192)
            if (a[i][k])
                fail("calloc not zeroed", n[i] * 8);
        a[i][n[i] - 1] = (uint64_t)i + 1;
        h = mix(h, n[i] + written);
    }
    for (int left = ARRAYS; left > 0; left--) {
        int i = (int)rng_range(rng, 0, (size_t)left - 1);
        free(a[i]);
        a[i] = a[left - 1];
        n[i] = n[left - 1];
    }
    return h;
}

static uint64_t aligned(uint64_t h, uint64_t *rng)
{
    void *ring[WINDOW] = {0};
    size_t sz[WINDOW] = {0};
    for (int k = 0; k < 20000; k++) {
        int slot = k % WINDOW;
        if (ring[slot]) {
            check_block(ring[slot], sz[slot], (uint64_t)(uintptr_t)ring[slot] ^ sz[slot], "bufgrow");
            free(ring[slot]);
        }
        size_t align = (size_t)16 << rng_range(rng, 0, 8);
        size_t size = rng_range(rng, 16, 4096);
        void *p;
        if (k & 1) {
            size = (size + align - 1) & ~(align - 1);
            p = aligned_alloc(align, size);
        } else if (posix_memalign(&p, align, size) != 0) {
            p = NULL;
        }
        if (!p || ((uintptr_t)p & (align - 1)))
            fail("aligned allocation failed", align);
        tag_block(p, size, (uint64_t)(uintptr_t)p ^ size);
        ring[slot] = p;
        sz[slot] = size;
        h = mix(h, size + align);
    }
    for (int i = 0; i < WINDOW; i++)
        free(ring[i]);
    return h;
}

int main(int argc, char **argv)
{
    const char *quick = getenv("BENCH_QUICK");
    int rounds = argc > 1 ? atoi(argv[1]) : (quick && *quick == '1' ? 6 : 40);
    uint64_t rng = 0x9e3779b97f4a7c15ULL, h = 0xcbf29ce484222325ULL;
    const char *phases = argc > 2 ? argv[2] : "vca";
    for (int r = 0; r < rounds; r++) {
        if (strchr(phases, 'v'))
            h = vectors(h, &rng);
        if (strchr(phases, 'c'))
            h = arrays(h, &rng);
        if (strchr(phases, 'a'))
            h = aligned(h, &rng);
    }
    printf("RESULT bufgrow %d %016llx\n", rounds, (unsigned long long)h);
    return 0;
}
