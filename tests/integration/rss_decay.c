/* rss_decay.c - a program that shrank for good gets its memory back while
 * it keeps running, for rss_decay.sh.
 *
 * It mallocs 1,000,000 small blocks (32-224 bytes, about 130 MB), frees
 * them all, then keeps doing small malloc/free work: batches of 100
 * blocks of 32 bytes, malloc'd then freed, steady traffic that a thread
 * cache and one pool serve, returning no pool.  The
 * resident set (/proc/self/statm) is read before, at the peak and every
 * batch after; the program stops as soon as at most a quarter of what the
 * blocks added is still resident, or after SECONDS seconds.
 *
 * Output: "returned" if the memory came back, "kept" with the numbers
 * (exit status 1) if not; exit status 2 on bad arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBLOCKS 1000000
/* The steady work: batches of 100 blocks of 32 bytes, more than the
 * thread cache holds (64) and fewer than the class's pool (128): the
 * cache overflows into a pool that never empties, so no pool is ever
 * returned. */
#define BATCH 100
#define BATCH_SIZE 32

static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    double limit = argc == 2 ? strtod(argv[1], &end) : 0;
    if (argc != 2 || *end || limit <= 0) {
        fprintf(stderr, "usage: rss_decay SECONDS\n");
        return 2;
    }
    static void *blocks[NBLOCKS];
    uint32_t s = 12345;
    long before = resident_kib();
    for (long i = 0; i < NBLOCKS; i++) {
        size_t n = 32 + rnd(&s) % 193;
        if (!(blocks[i] = malloc(n)))
            return fprintf(stderr, "rss_decay: malloc failed\n"), 1;
        memset(blocks[i], 0x5a, n);
    }
    long peak = resident_kib();
    for (long i = 0; i < NBLOCKS; i++)
        free(blocks[i]);
    long now = resident_kib();
    double start = seconds();
    while (now - before > (peak - before) / 4 && seconds() - start < limit) {
        for (int i = 0; i < BATCH; i++) {
            if (!(blocks[i] = malloc(BATCH_SIZE)))
                return fprintf(stderr, "rss_decay: malloc failed\n"), 1;
            memset(blocks[i], 0x3c, BATCH_SIZE);
        }
        for (int i = 0; i < BATCH; i++)
            free(blocks[i]);
        now = resident_kib();
    }
    if (before < 0 || peak - before < 100000) {
        fprintf(stderr, "rss_decay: the blocks added %ld KiB only\n", peak - before);
        return 1;
    }
    if (now - before > (peak - before) / 4) {
        printf("kept\n");
        fprintf(stderr, "rss_decay: %ld KiB resident before, %ld at the peak, %ld after %.1f s\n",
                before, peak, now, limit);
        return 1;
    }
    printf("returned\n");
    if (getenv("RSS_DECAY_VERBOSE"))
        fprintf(stderr, "rss_decay: %ld KiB before, %ld peak, %ld after %.2f s\n", before, peak, now, seconds() - start);
    return 0;
}
