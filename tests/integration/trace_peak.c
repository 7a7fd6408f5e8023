/* trace_peak.c - a program with a known high-water mark and known steps,
 * for trace_peak.sh (built at -O0 and -O2 by the test).
 *
 *   peak:  50 x 24000 B (grow_small), 100 x 40000 B (grow_mid), then
 *          1 x 2 MiB (grow_big): the peak; then the mid and big blocks are
 *          freed and 10 x 1000 B allocated (after_peak): it ends lower.
 *   fine:  the peak reached by 3600 blocks of 2000 B (grow_fine), then all
 *          but 100 freed: no block marks the peak by itself.
 *   steps: 1 MiB blocks (step) allocated one by one to 4 MiB, freed to
 *          2 MiB and one allocated again, 60 ms between the moves.
 *
 * No stdio: its buffer would be one more block in the histogram.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *keep[4000];

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void *touch(void *p, size_t n)
{
    if (!p)
        _exit(3);
    memset(p, 1, n);
    return p;
}

static void grow_small(void **v)
{
    for (int i = 0; i < 50; i++)
        v[i] = touch(malloc(24000), 24000);
}

static void grow_mid(void **v)
{
    for (int i = 0; i < 100; i++)
        v[i] = touch(malloc(40000), 40000);
}

static void *grow_big(void)
{
    return touch(malloc(2097152), 2097152);
}

static void after_peak(void **v)
{
    for (int i = 0; i < 10; i++)
        v[i] = touch(malloc(1000), 1000);
}

static void grow_fine(void **v)
{
    for (int i = 0; i < 3600; i++)
        v[i] = touch(malloc(2000), 2000);
}

static void *step(void)
{
    return touch(malloc(1048576), 1048576);
}

static int mode_peak(void)
{
    grow_small(keep);
    grow_mid(keep + 50);
    void *big = grow_big();
    for (int i = 50; i < 150; i++)
        free(keep[i]);
    free(big);
    after_peak(keep + 50);
    return 0;
}

static int mode_fine(void)
{
    grow_fine(keep);
    for (int i = 100; i < 3600; i++)
        free(keep[i]);
    return 0;
}

static int mode_steps(void)
{
    for (int i = 0; i < 4; i++) {
        keep[i] = step();
        pause_ms(60);
    }
    for (int i = 3; i >= 2; i--) {
        free(keep[i]);
        pause_ms(60);
    }
    keep[2] = step();
    pause_ms(60);
    return 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (strcmp(m, "peak") == 0)
        return mode_peak();
    if (strcmp(m, "fine") == 0)
        return mode_fine();
    if (strcmp(m, "steps") == 0)
        return mode_steps();
    static const char usage[] = "usage: trace_peak peak|fine|steps\n";
    write(2, usage, sizeof usage - 1);
    return 2;
}
