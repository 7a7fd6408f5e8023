/* api_prog.c - a program linked with -lsnapalloc (flags from pkg-config)
 * that uses the C API as snapalloc(3) documents it: exact traced sizes,
 * the traceback of a block, a snapshot file, the statistics; then
 * sampled tracing (snapalloc_start_sampled), whose blocks larger than the
 * interval are always traced: exact figures again, and a second
 * snapshot. */
#include <errno.h>
#include <snapalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *keep[3];

static __attribute__((noinline)) void *make(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 1, n);
    return p;
}

/* Full tracing, then a switch to sampling at 4 KiB, which forgets the
 * traces so far; then three blocks of 10000 bytes, each always traced. */
static int sampled(const char *path)
{
    if (snapalloc_start_sampled(8, (size_t)2 << 30) != -EINVAL || snapalloc_start(8) != 0)
        return 5;
    void *early = make(100);
    if (snapalloc_start_sampled(8, 4096) != 0)
        return 6;
    size_t cleared = 1, cur = 0;
    snapalloc_get_traced_memory(&cleared, NULL);
    for (int i = 0; i < 3; i++)
        keep[i] = make(10000);
    snapalloc_get_traced_memory(&cur, NULL);
    int rc = snapalloc_take_snapshot(path);
    printf("sampled: cleared=%zu current=%zu snapshot=%d\n", cleared, cur, rc);
    for (int i = 0; i < 3; i++)
        free(keep[i]);
    free(early);
    snapalloc_stop();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    if (snapalloc_is_tracing() != 0 || snapalloc_start(8) != 0 || !snapalloc_is_tracing() ||
        snapalloc_get_traceback_limit() != 8)
        return 3;
    if (snapalloc_start(SNAPALLOC_MAX_FRAMES + 1) == 0)
        return 4;
    keep[0] = make(100);
    keep[1] = make(1000);
    keep[2] = make(100000);
    size_t cur = 0, peak = 0;
    snapalloc_get_traced_memory(&cur, &peak);
    void *frames[8];
    int n = snapalloc_get_object_traceback(keep[1], frames, 8);
    int rc = snapalloc_take_snapshot(argv[1]);
    free(keep[2]);
    size_t cur2 = 0, peak2 = 0;
    snapalloc_get_traced_memory(&cur2, &peak2);
    printf("current=%zu peak=%zu frames>0=%d snapshot=%d after_free=%zu peak=%zu\n", cur, peak,
           n > 0, rc, cur2, peak2);
    fflush(stdout);
    snapalloc_stop();
    printf("tracing=%d stats=%d\n", snapalloc_is_tracing(), snapalloc_print_stats(-1) < 0);
    return sampled(argv[2]);
}
