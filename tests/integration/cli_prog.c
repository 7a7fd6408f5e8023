/* cli_prog.c - a program with known allocations for the tests of
 * `snapalloc run` under the real tracer (cli_trace.sh), and with known
 * exits for the exit-status tests (cli_run.sh).
 *
 * Usage: cli_prog [SCALE [ACTION]]
 *   allocates and keeps live: alloc_small SCALE x 100 x 64 B, alloc_pages
 *   10 x 4096 B, alloc_big 1 x 1 MiB, alloc_dup 5 strdup'ed 15-char
 *   strings (16 B), alloc_wrapped 7 x 256 B through xmalloc; then takes a
 *   snapshot through the API when preloaded (weak symbol) and performs
 *   ACTION: exit N (status N), kill SIG (raise SIG), fork (a child also
 *   allocates and exits, writing its own exit snapshot).
 * Built -g -O0 -fno-inline -fno-omit-frame-pointer; the tests find the
 * lines by their SITE markers.
 */
/* The SITE lines must stay exact whatever CFLAGS the build adds (-O2
 * would turn calls into tail jumps and drop frames). */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer", "no-optimize-sibling-calls")

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAPALLOC_WEAK
#include "snapalloc.h"

static void *keep[4096];
static int nkeep;

static __attribute__((noinline)) void *xmalloc(size_t n)
{
    void *p = malloc(n); /* SITE:xmalloc */
    if (!p)
        abort();
    return p;
}

static __attribute__((noinline)) void alloc_small(int scale)
{
    for (int i = 0; i < 100 * scale; i++)
        keep[nkeep++] = malloc(64); /* SITE:small */
}

static __attribute__((noinline)) void alloc_pages(void)
{
    for (int i = 0; i < 10; i++)
        keep[nkeep++] = malloc(4096); /* SITE:pages */
}

static __attribute__((noinline)) void alloc_big(void)
{
    keep[nkeep++] = malloc(1 << 20); /* SITE:big */
}

static __attribute__((noinline)) void alloc_dup(void)
{
    for (int i = 0; i < 5; i++)
        keep[nkeep++] = strdup("fifteen chars!!"); /* SITE:dup */
}

static __attribute__((noinline)) void alloc_wrapped(void)
{
    for (int i = 0; i < 7; i++)
        keep[nkeep++] = xmalloc(256); /* SITE:wrapped */
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 0 || scale > 30)
        scale = 1;
    alloc_small(scale);
    alloc_pages();
    alloc_big();
    alloc_dup();
    alloc_wrapped();
    if (snapalloc_take_snapshot)
        snapalloc_take_snapshot(NULL);
    if (argc > 3 && strcmp(argv[2], "exit") == 0)
        return atoi(argv[3]);
    if (argc > 3 && strcmp(argv[2], "kill") == 0) {
        fflush(stdout);
        raise(atoi(argv[3]));
        return 99;
    }
    if (argc > 2 && strcmp(argv[2], "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            alloc_pages();
            exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
    }
    return 0;
}
