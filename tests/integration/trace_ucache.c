/* trace_ucache.c - the unwind cache must tell apart two stacks that reach
 * malloc with the same return address and the same stack pointer: leaf()
 * is called from via_a() and via_b(), whose frames have the same shape,
 * so only the return addresses further up differ. */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer")
#define SNAPALLOC_WEAK
#include <snapalloc.h>

#include <stdio.h>
#include <stdlib.h>

static void *keep[3000];

__attribute__((noinline)) static void *leaf(void) { return malloc(48); }
__attribute__((noinline)) static void *via_a(void) { return leaf(); }
__attribute__((noinline)) static void *via_b(void) { return leaf(); }

int main(int argc, char **argv)
{
    if (argc < 2 || !snapalloc_take_snapshot) {
        fprintf(stderr, "usage: trace_ucache SNAPSHOT (under the preload, traced)\n");
        return 2;
    }
    for (int i = 0; i < 3000; i++)
        keep[i] = i % 3 == 0 ? via_a() : via_b();
    return snapalloc_take_snapshot(argv[1]) == 0 ? 0 : 1;
}
