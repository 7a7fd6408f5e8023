/* churn.c - single-thread small-object churn.
 *
 * Keeps a working set of SLOTS live objects of random sizes 16..512 bytes and
 * replaces a random slot per operation: the pattern of an interpreter or a
 * server building and dropping small structures.  Each block is tagged at
 * both ends when allocated and checked when freed.
 *
 *   churn [MILLION_OPS]      (default 12)
 */
#include "common.h"

#define SLOTS 100000

struct slot {
    void *p;
    uint32_t size;
};

int main(int argc, char **argv)
{
    long ops = (argc > 1 ? atol(argv[1]) : 12) * 1000000L;
    uint64_t seed = 0x9E3779B97F4A7C15ULL, h = 0;
    static struct slot s[SLOTS];

    for (uint32_t i = 0; i < SLOTS; i++) {
        s[i].size = (uint32_t)rng_range(&seed, 16, 512);
        s[i].p = xmalloc(s[i].size);
        tag_block(s[i].p, s[i].size, (uint64_t)i ^ ((uint64_t)s[i].size << 32));
    }
    for (long n = 0; n < ops; n++) {
        uint64_t r = rng_next(&seed);
        uint32_t i = (uint32_t)(r % SLOTS);
        uint32_t size = 16 + (uint32_t)((r >> 32) % 497);
        check_block(s[i].p, s[i].size, (uint64_t)i ^ ((uint64_t)s[i].size << 32), "churn");
        free(s[i].p);
        s[i].p = xmalloc(size);
        s[i].size = size;
        tag_block(s[i].p, size, (uint64_t)i ^ ((uint64_t)size << 32));
        h = mix(h, size);
    }
    for (uint32_t i = 0; i < SLOTS; i++) {
        h = mix(h, s[i].size);
        free(s[i].p);
    }
    printf("RESULT churn ops=%ld checksum=%016llx\n", ops, (unsigned long long)h);
    return 0;
}
