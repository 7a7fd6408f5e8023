/* tracegen.c - live allocations from many distinct call stacks, for the tracer benchmarks.
 *
 * Owns the programs behind three sections of bench/RESULTS.md: the time to
 * write a snapshot, the tracer's memory per live allocation, and the speed
 * of `snapalloc diff` on large snapshots.  It runs with libsnapalloc only
 * preloaded, so the API is declared weak and every call is tested first;
 * without the preload (under heaptrack) it still makes the same allocations.
 *
 * Stack k (0 <= k < NSTACKS) is a distinct call path: main -> make() ->
 * 16 pad() frames shared by all -> a chain of DEPTH walk0/walk1 frames
 * spelling the bits of k / 100 -> one of 100 leaf functions (k % 100) ->
 * malloc.  DEPTH is the fewest bits that cover NSTACKS / 100 paths: 7 for
 * 10 000 stacks, 10 for 100 000.  Innermost first that is 1 + DEPTH + 16 +
 * make + mode + main + libc start-up, about the 32 frames SNAPALLOC_TRACE=32
 * keeps; a cut drops only outer frames common to all, so the stacks stay
 * distinct.
 * Built with -fno-optimize-sibling-calls (no frame may vanish into a tail
 * call) and -fno-ipa-icf (the leaves and walkers must stay separate code),
 * which run.py passes.
 *
 *   tracegen snapwrite DIR NSTACKS NALLOCS REPS
 *       NALLOCS live blocks of 16..128 B, allocation j from stack j % NSTACKS;
 *       then REPS calls of snapalloc_take_snapshot(DIR/snapwrite.R.snap),
 *       each timed with CLOCK_MONOTONIC: prints "snapshot rep=R seconds=S bytes=B".
 *   tracegen tracemem NSTACKS NALLOCS
 *       snapalloc_get_tracemalloc_memory() and the traced memory before and
 *       after NALLOCS live blocks of 16..512 B from NSTACKS stacks.
 *   tracegen diffsnap PATH NSTACKS SEED
 *       1..4 blocks (count chosen by SEED and the stack) from every stack,
 *       left live; a snapshot to PATH when the library is preloaded.
 *
 * Every mode prints a RESULT line that depends only on its arguments.
 */
#define _GNU_SOURCE
#define SNAPALLOC_WEAK
#include <snapalloc.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"

#define NLEAVES 100

typedef void *(*leaf_fn)(size_t);

/* Each leaf counts its calls in its own slot, so no two leaves have the
 * same code; the store after malloc keeps the call from being a tail call. */
static volatile unsigned long leaf_calls[NLEAVES];

#define LEAF(n)                                                  \
    static __attribute__((noinline)) void *leaf##n(size_t size)  \
    {                                                            \
        void *p = malloc(size); /* the call site of the stack */ \
        if (!p)                                                  \
            abort();                                             \
        leaf_calls[n]++;                                         \
        return p;                                                \
    }
#define LEAF10(t) LEAF(t##0) LEAF(t##1) LEAF(t##2) LEAF(t##3) LEAF(t##4) \
                  LEAF(t##5) LEAF(t##6) LEAF(t##7) LEAF(t##8) LEAF(t##9)
/* Leaves 0..9 are leaf0..leaf9 (LEAF(n) with an empty tens digit). */
LEAF(0) LEAF(1) LEAF(2) LEAF(3) LEAF(4) LEAF(5) LEAF(6) LEAF(7) LEAF(8) LEAF(9)
LEAF10(1) LEAF10(2) LEAF10(3) LEAF10(4) LEAF10(5) LEAF10(6) LEAF10(7) LEAF10(8) LEAF10(9)

#define REF10(t) leaf##t##0, leaf##t##1, leaf##t##2, leaf##t##3, leaf##t##4, \
                 leaf##t##5, leaf##t##6, leaf##t##7, leaf##t##8, leaf##t##9
static const leaf_fn leaves[NLEAVES] = {
    leaf0, leaf1, leaf2, leaf3, leaf4, leaf5, leaf6, leaf7, leaf8, leaf9,
    REF10(1), REF10(2), REF10(3), REF10(4), REF10(5), REF10(6), REF10(7), REF10(8), REF10(9),
};

static volatile unsigned long walk_calls[2];

static void *walk0(unsigned bits, int depth, leaf_fn leaf, size_t size);
static void *walk1(unsigned bits, int depth, leaf_fn leaf, size_t size);

/* One level of the path: the next bit picks walk0 or walk1. */
static inline void *step(unsigned bits, int depth, leaf_fn leaf, size_t size)
{
    if (depth == 0)
        return leaf(size);
    return (bits & 1 ? walk1 : walk0)(bits >> 1, depth - 1, leaf, size);
}

static __attribute__((noinline)) void *walk0(unsigned bits, int depth, leaf_fn leaf, size_t size)
{
    void *p = step(bits, depth, leaf, size);
    walk_calls[0]++;
    return p;
}

static __attribute__((noinline)) void *walk1(unsigned bits, int depth, leaf_fn leaf, size_t size)
{
    void *p = step(bits, depth, leaf, size);
    walk_calls[1]++;
    return p;
}

static int depth_for(long nstacks)
{
    long paths = (nstacks + NLEAVES - 1) / NLEAVES;
    int d = 0;
    while ((1L << d) < paths)
        d++;
    return d;
}

/* PAD frames common to every stack, between make() and the distinct part:
 * real call sites sit 5..15 frames below main in a framework's layers, so
 * stacks share a long base and fill the 32 frames SNAPALLOC_TRACE=32 keeps
 * (the size estimate in doc/snapshot-format.md assumes the same). */
#define PAD 16
static volatile unsigned long pad_calls;

static __attribute__((noinline)) void *pad(int n, long k, int depth, size_t size)
{
    void *p;
    if (n == 0)
        p = walk0((unsigned)(k / NLEAVES), depth, leaves[k % NLEAVES], size);
    else
        p = pad(n - 1, k, depth, size);
    pad_calls++; /* not a tail call */
    return p;
}

/* Allocate `size` bytes from stack k. */
static __attribute__((noinline)) void *make(long k, int depth, size_t size)
{
    return pad(PAD - 1, k, depth, size);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: tracegen snapwrite DIR NSTACKS NALLOCS REPS\n"
                    "       tracegen tracemem NSTACKS NALLOCS\n"
                    "       tracegen diffsnap PATH NSTACKS SEED\n");
    exit(2);
}

static int snapwrite(const char *dir, long nstacks, long nallocs, int reps)
{
    int depth = depth_for(nstacks);
    uint64_t seed = 0x51A9, h = 0;
    void **live = xmalloc((size_t)nallocs * sizeof *live);
    for (long j = 0; j < nallocs; j++) {
        size_t size = rng_range(&seed, 16, 128);
        live[j] = make(j % nstacks, depth, size);
        h = mix(h, size);
    }
    if (!snapalloc_take_snapshot) {
        fprintf(stderr, "tracegen: libsnapalloc is not preloaded\n");
        return 1;
    }
    for (int r = 1; r <= reps; r++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/snapwrite.%d.snap", dir, r);
        double t0 = now();
        int rc = snapalloc_take_snapshot(path);
        double t1 = now();
        struct stat st;
        if (rc != 0 || stat(path, &st) != 0) {
            fprintf(stderr, "tracegen: snapshot %s failed: %s\n", path, strerror(rc ? -rc : errno));
            return 1;
        }
        printf("snapshot rep=%d seconds=%.6f bytes=%lld\n", r, t1 - t0, (long long)st.st_size);
    }
    for (long j = 0; j < nallocs; j++)
        free(live[j]);
    free(live);
    printf("RESULT tracegen snapwrite stacks=%ld allocs=%ld depth=%d checksum=%016llx\n", nstacks,
           nallocs, depth, (unsigned long long)h);
    return 0;
}

static int tracemem(long nstacks, long nallocs)
{
    int depth = depth_for(nstacks);
    uint64_t seed = 0x7EAC, h = 0;
    size_t mem0 = 0, mem1 = 0, cur0 = 0, cur1 = 0;
    void **live = xmalloc((size_t)nallocs * sizeof *live);
    /* Intern every stack first with one block each, freed again: the
     * difference below is then the per-block part alone. */
    for (long k = 0; k < nstacks; k++)
        free(make(k, depth, 16));
    if (snapalloc_get_tracemalloc_memory)
        mem0 = snapalloc_get_tracemalloc_memory();
    if (snapalloc_get_traced_memory)
        snapalloc_get_traced_memory(&cur0, NULL);
    for (long j = 0; j < nallocs; j++) {
        size_t size = rng_range(&seed, 16, 512);
        live[j] = make(j % nstacks, depth, size);
        h = mix(h, size);
    }
    if (snapalloc_get_tracemalloc_memory)
        mem1 = snapalloc_get_tracemalloc_memory();
    if (snapalloc_get_traced_memory)
        snapalloc_get_traced_memory(&cur1, NULL);
    printf("tracemem tracer_before=%zu tracer_after=%zu traced_before=%zu traced_after=%zu "
           "tracing=%d\n", mem0, mem1, cur0, cur1,
           snapalloc_is_tracing ? snapalloc_is_tracing() : 0);
    for (long j = 0; j < nallocs; j++)
        free(live[j]);
    free(live);
    printf("RESULT tracegen tracemem stacks=%ld allocs=%ld checksum=%016llx\n", nstacks, nallocs,
           (unsigned long long)h);
    return 0;
}

static int diffsnap(const char *path, long nstacks, uint64_t seed)
{
    int depth = depth_for(nstacks);
    uint64_t h = 0;
    long blocks = 0;
    for (long k = 0; k < nstacks; k++) {
        uint64_t s = seed ^ ((uint64_t)k * 0x9E3779B97F4A7C15ULL) ^ 0xD1FF;
        rng_next(&s);
        int count = 1 + (int)(rng_next(&s) % 4);
        size_t size = 16 * (1 + (size_t)(k % 8));
        for (int i = 0; i < count; i++)
            make(k, depth, size); /* left live: heaptrack sees it as leaked */
        blocks += count;
        h = mix(h, (uint64_t)count * size);
    }
    if (snapalloc_take_snapshot && strcmp(path, "-") != 0) {
        int rc = snapalloc_take_snapshot(path);
        if (rc != 0) {
            fprintf(stderr, "tracegen: snapshot %s failed: %s\n", path, strerror(-rc));
            return 1;
        }
    }
    printf("RESULT tracegen diffsnap stacks=%ld blocks=%ld checksum=%016llx\n", nstacks, blocks,
           (unsigned long long)h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (!strcmp(argv[1], "snapwrite") && argc == 6)
        return snapwrite(argv[2], atol(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (!strcmp(argv[1], "tracemem") && argc == 4)
        return tracemem(atol(argv[2]), atol(argv[3]));
    if (!strcmp(argv[1], "diffsnap") && argc == 5)
        return diffsnap(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 0));
    usage();
    return 2;
}
