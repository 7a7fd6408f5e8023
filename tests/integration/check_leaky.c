/* check_leaky.c - a program with a known direct leak (or none) for the end
 * to end tests of `snapalloc check` and of SNAPALLOC_CHECK=1 under a test
 * runner.
 *
 * Usage: check_leaky leak|clean [STATUS]
 *   leak:  100 bytes at SITE:leak whose only pointer dies with its frame
 *          (the stack below is then overwritten), plus 50 bytes still
 *          reachable from a global;
 *   clean: only the reachable 50 bytes.
 * Exits with STATUS (default 0).
 */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer", "no-optimize-sibling-calls")
#include <stdlib.h>
#include <string.h>

/* Extern and volatile: at -O2 (the build's CFLAGS) a write-only static
 * would be dropped, and its block would really be lost. */
void *volatile check_keep;

static __attribute__((noinline)) void lose(void)
{
    char *p = malloc(100); /* SITE:leak */
    memset(p, 1, 100);
}

static __attribute__((noinline)) void clobber(void)
{
    volatile char buf[8192];
    memset((char *)buf, 0, sizeof buf);
}

int main(int argc, char **argv)
{
    check_keep = malloc(50);
    if (argc > 1 && strcmp(argv[1], "leak") == 0)
        lose();
    clobber();
    return argc > 2 ? atoi(argv[2]) : 0;
}
