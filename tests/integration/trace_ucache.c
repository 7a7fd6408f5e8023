/* trace_ucache.c - the unwind cache must tell apart two stacks that reach
 * malloc with the same return address and the same stack pointer: leaf()
 * is called from via_a() and via_b(), whose frames have the same shape,
 * so only the return addresses further up differ.
 *
 * `trace_ucache --threads`: 400 threads in turn allocate from one call
 * site; each thread's cache must go when the thread does (the address
 * space may not grow by a cache per thread). */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer")
#define SNAPALLOC_WEAK
#include <snapalloc.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *keep[3000];

__attribute__((noinline)) static void *leaf(void) { return malloc(48); }
__attribute__((noinline)) static void *via_a(void) { return leaf(); }
__attribute__((noinline)) static void *via_b(void) { return leaf(); }

static long vm_size_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0)
            kib = atol(line + 7);
    if (f)
        fclose(f);
    return kib;
}

static void *thread_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        free(leaf());
    return NULL;
}

static int run_threads(void)
{
    long before = 0;
    for (int t = 0; t < 400; t++) {
        if (t == 10)   /* glibc's stack cache and our heaps have settled */
            before = vm_size_kib();
        pthread_t th;
        if (pthread_create(&th, NULL, thread_main, NULL) != 0 || pthread_join(th, NULL) != 0) {
            fprintf(stderr, "trace_ucache: cannot run a thread\n");
            return 1;
        }
    }
    long grew = vm_size_kib() - before;
    printf("address space grew by %ld KiB over 390 threads\n", grew);
    return grew < 16384 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--threads") == 0)
        return run_threads();
    if (argc < 2 || !snapalloc_take_snapshot) {
        fprintf(stderr, "usage: trace_ucache SNAPSHOT (under the preload, traced)\n");
        return 2;
    }
    for (int i = 0; i < 3000; i++)
        keep[i] = i % 3 == 0 ? via_a() : via_b();
    return snapalloc_take_snapshot(argv[1]) == 0 ? 0 : 1;
}
