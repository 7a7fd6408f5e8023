/* common.h - the deterministic PRNG and result checks shared by the C workloads.
 *
 * Every workload draws its sizes and slot choices from a fixed seed, so the
 * sequence of malloc/free calls, and therefore the printed RESULT line, is
 * the same under every allocator.  The harness compares that line with the
 * glibc run's: an allocator that hands out overlapping or corrupted memory
 * fails the comparison (or the tag checks below) instead of looking fast.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64*: fast, and good enough to scatter sizes and slot indices. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A value in [lo, hi]. */
static inline size_t rng_range(uint64_t *s, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(s) % (hi - lo + 1));
}

/* Stamp a block of `size` (>= 16) bytes with `tag` in its first and last
 * 8 bytes; a block another allocation overlaps loses one of them. */
static inline void tag_block(void *p, size_t size, uint64_t tag)
{
    uint64_t t2 = ~tag;
    memcpy(p, &tag, 8);
    memcpy((char *)p + size - 8, &t2, 8);
}

static inline void check_block(const void *p, size_t size, uint64_t tag, const char *who)
{
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, (const char *)p + size - 8, 8);
    if (a != tag || b != ~tag) {
        fprintf(stderr, "%s: block %p of %zu bytes corrupted (tag %llx)\n", who, p, size,
                (unsigned long long)tag);
        exit(1);
    }
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "malloc(%zu) failed\n", n);
        exit(1);
    }
    return p;
}

/* Fold a value into a running checksum (FNV-1a style on 64-bit words). */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ULL;
}

#endif
