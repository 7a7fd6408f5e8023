/* trace_prog.c - the program the tracer's integration tests trace
 * (trace_*.sh).  Each mode allocates from known sites and leaves a file
 * DIR/sites with the module-relative offsets the test matches frames
 * against:
 *
 *   site NAME FUNC RET
 *
 * FUNC is where the allocating function starts (frame 0 of its stacks lies
 * in [FUNC, FUNC+256)), RET its return address (frame 1).  Built with
 * -O0 -fno-omit-frame-pointer -fno-inline so both are exact.  Uses only
 * write(2) for output: stdio would add allocations of its own.
 */
#define SNAPALLOC_WEAK
/* The tests match exact call sites: keep every call where it is written
 * even when the build's CFLAGS (which come last) ask for -O2. */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer")

#include "snapalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static uintptr_t base;
static int sites_fd = -1;

static int first_module(struct dl_phdr_info *info, size_t size, void *data)
{
    base = info->dlpi_addr;   /* the main program comes first */
    return 1;
}

static void say(const char *s)
{
    if (write(1, s, strlen(s)) < 0)
        _exit(9);
}

static void note_site(const char *name, void *func, void *ret)
{
    static char seen[8][16];
    for (int i = 0; i < 8; i++) {
        if (strcmp(seen[i], name) == 0)
            return;
        if (!seen[i][0]) {
            snprintf(seen[i], sizeof seen[i], "%s", name);
            break;
        }
    }
    char line[128];
    int n = snprintf(line, sizeof line, "site %s %lu %lu\n", name,
                     (unsigned long)((uintptr_t)func - base), (unsigned long)((uintptr_t)ret - base));
    if (write(sites_fd, line, (size_t)n) != n)
        _exit(9);
}

#define SITE(name, size)                                                        \
    __attribute__((noinline)) static void *site_##name(void)                    \
    {                                                                           \
        void *p = malloc(size);                                                 \
        note_site(#name, (void *)site_##name, __builtin_return_address(0));    \
        return p;                                                               \
    }
SITE(small, 64)
SITE(page, 4096)
SITE(big, 1 << 20)
SITE(thread, 32)
SITE(parent, 100)
SITE(child, 200)
SITE(quarter, 256 << 10)

static void wait_for(const char *path)
{
    for (int i = 0; i < 20000; i++) {   /* 20 s */
        if (access(path, F_OK) == 0)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    say("timed out waiting for ");
    say(path);
    say("\n");
    exit(4);
}

static size_t traced_now(size_t *peak)
{
    size_t cur = 0, pk = 0;
    snapalloc_get_traced_memory(&cur, &pk);
    if (peak)
        *peak = pk;
    return cur;
}

static int mode_exact(void)
{
    int tracing = snapalloc_is_tracing && snapalloc_is_tracing();
    size_t before = tracing ? traced_now(NULL) : 0;
    for (int i = 0; i < 100; i++)
        site_small();
    for (int i = 0; i < 10; i++)
        site_page();
    void *big = site_big();
    if (tracing) {
        /* Traced memory moves by exactly the bytes asked for (counted at
         * every malloc, or recounted from the records under the check). */
        size_t peak, grew = traced_now(&peak) - before;
        void *extra = malloc(1000);
        size_t with_extra = traced_now(NULL) - before;
        free(extra);
        size_t after_free = traced_now(NULL) - before;
        if (grew != 6400 + 40960 + 1048576 || with_extra != grew + 1000 || after_free != grew ||
            peak < before + grew) {
            char line[160];
            snprintf(line, sizeof line, "traced memory: grew %zu, %zu with 1000 more, %zu after "
                     "its free, peak %zu\n", grew, with_extra, after_free, peak);
            say(line);
            return 3;
        }
        say("traced memory ok\n");
    }
    /* The API, when preloaded and tracing: frame 0 lies in site_big. */
    if (tracing) {
        void *frames[8];
        int n = snapalloc_get_object_traceback(big, frames, 8);
        if (n < 2 || (uintptr_t)frames[0] < (uintptr_t)site_big
            || (uintptr_t)frames[0] >= (uintptr_t)site_big + 256) {
            say("bad traceback of the 1 MiB block\n");
            return 3;
        }
        /* A freed block has none, though under the check its record
         * stays behind (free() leaves it; the block's free key rules). */
        void *gone = malloc(48);
        void *gone_medium = malloc(1500);
        free(gone);
        free(gone_medium);
        if (snapalloc_get_object_traceback(gone, frames, 8) != 0
            || snapalloc_get_object_traceback(gone_medium, frames, 8) != 0) {
            say("a freed block has a traceback\n");
            return 3;
        }
        say("traceback ok\n");
    }
    return 0;
}

static pthread_barrier_t created, allocated, counted;

static void *thread_main(void *arg)
{
    pthread_barrier_wait(&created);
    for (int i = 0; i < 1000; i++)
        site_thread();
    pthread_barrier_wait(&allocated);
    pthread_barrier_wait(&counted);
    return arg;
}

static int threads_grew(size_t before, const char *when)
{
    /* 4 x 1000 x 32 B, whether the threads' counts went into the total
     * or are still pending in their caches. */
    size_t grew = traced_now(NULL) - before;
    if (grew == 128000)
        return 0;
    char line[128];
    snprintf(line, sizeof line, "threads: traced memory grew by %zu %s, not 128000\n", grew, when);
    say(line);
    return 3;
}

static int mode_threads(void)
{
    int tracing = snapalloc_is_tracing && snapalloc_is_tracing();
    pthread_t t[4];
    pthread_barrier_init(&created, NULL, 5);
    pthread_barrier_init(&allocated, NULL, 5);
    pthread_barrier_init(&counted, NULL, 5);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_main, NULL);
    /* pthread_create allocates too (the threads' TLS vectors, which glibc
     * keeps with the stacks it caches after the threads are gone): count
     * from here. */
    size_t started = tracing ? traced_now(NULL) : 0;
    pthread_barrier_wait(&created);
    pthread_barrier_wait(&allocated);
    int rc = tracing ? threads_grew(started, "while they live") : 0;
    pthread_barrier_wait(&counted);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    if (rc == 0 && tracing)
        rc = threads_grew(started, "after they exited");
    return rc;
}

static int mode_signals(int rounds, int storm)
{
    char path[4096];
    for (int i = 1; i <= rounds; i++) {
        site_small();
        raise(SIGUSR1);
        snprintf(path, sizeof path, "%s/s.%d.snap", dir, i);
        wait_for(path);
    }
    /* A storm: signals coalesce, the program must neither crash nor hang. */
    for (int i = 0; i < storm; i++) {
        void *p = malloc((size_t)(i % 500) + 1);
        raise(SIGUSR1);
        free(p);
    }
    return 0;
}

static int mode_fork(void)
{
    for (int i = 0; i < 10; i++)
        site_parent();
    pid_t pid = fork();
    if (pid < 0)
        return 5;
    char line[64];
    if (pid == 0) {
        for (int i = 0; i < 5; i++)
            site_child();   /* the first traced malloc restarts the helper */
        raise(SIGUSR1);
        char path[4096];
        snprintf(path, sizeof path, "%s/f.%d.1.snap", dir, (int)getpid());
        wait_for(path);
        exit(0);
    }
    snprintf(line, sizeof line, "child %d\nparent %d\n", (int)pid, (int)getpid());
    say(line);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 6;
    return 0;
}

static int mode_peak(void)
{
    for (int i = 0; i < 10; i++)
        site_quarter();
    return 0;
}

static int mode_interval(void)
{
    site_small();
    char path[4096];
    snprintf(path, sizeof path, "%s/i.1.snap", dir);
    wait_for(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        say("usage: trace_prog exact|threads|signals|fork|peak|interval DIR\n");
        return 2;
    }
    dir = argv[2];
    dl_iterate_phdr(first_module, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/sites", dir);
    sites_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (sites_fd < 0)
        return 2;
    const char *m = argv[1];
    if (strcmp(m, "exact") == 0)
        return mode_exact();
    if (strcmp(m, "threads") == 0)
        return mode_threads();
    if (strcmp(m, "signals") == 0)
        return mode_signals(argc > 3 ? atoi(argv[3]) : 20, argc > 4 ? atoi(argv[4]) : 1000);
    if (strcmp(m, "fork") == 0)
        return mode_fork();
    if (strcmp(m, "peak") == 0)
        return mode_peak();
    if (strcmp(m, "interval") == 0)
        return mode_interval();
    say("trace_prog: unknown mode\n");
    return 2;
}
