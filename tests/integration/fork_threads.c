/* fork_threads.c - fork() while other threads are inside the allocator, for
 * fork.sh.
 *
 * Four threads allocate and free in a loop (so at any moment some allocator
 * lock or per-thread state is likely busy) while the main thread forks 50
 * times.  Each child, which has only the forking thread, allocates and frees
 * small, medium (4-60 KiB) and large (1 MiB) blocks, checks their contents,
 * every fifth child also runs a thread of its own, then it writes one result
 * byte to a pipe and _exit(0)s.  A lock left held across fork() deadlocks the
 * child: fork.sh runs us under timeout(1) so that fails instead of hanging.
 * One more child execs /bin/true, which must work as well.
 *
 * Output (deterministic): how many children reported success.  Exit status
 * 0 only if every child exited 0 with a good result byte.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4
#define NFORKS 50
#define NLIVE 64

static atomic_int stop;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Fill a block with a pattern derived from tag; check it later. */
static void fill(unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag + i * 7);
}

static int check(const unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(tag + i * 7))
            return 0;
    return 1;
}

/* The background threads: keep NLIVE blocks of mixed sizes alive and keep
 * replacing them, until told to stop. */
static void *churn(void *arg)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (uintptr_t)(1 + (uintptr_t)arg);
    unsigned char *live[NLIVE] = {0};
    size_t size[NLIVE] = {0};
    unsigned tag[NLIVE] = {0};
    int bad = 0;

    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int i = (int)(xorshift(&seed) % NLIVE);
        if (live[i]) {
            if (!check(live[i], size[i], tag[i]))
                bad = 1;
            free(live[i]);
        }
        uint64_t r = xorshift(&seed);
        size[i] = r % 100 == 0 ? 4096 + r % (60 * 1024) : 1 + r % 512;
        tag[i] = (unsigned)(r >> 32);
        live[i] = malloc(size[i]);
        if (!live[i]) {
            bad = 1;
            break;
        }
        fill(live[i], size[i], tag[i]);
    }
    for (int i = 0; i < NLIVE; i++) {
        if (live[i] && !check(live[i], size[i], tag[i]))
            bad = 1;
        free(live[i]);
    }
    return (void *)(uintptr_t)bad;
}

/* What a child does with the allocator: 1 if everything checked out. */
static int child_work(unsigned salt)
{
    static const size_t sizes[] = {
        1, 8, 16, 24, 48, 100, 256, 511, 512,       /* small */
        4096, 5000, 16384, 30000, 61440,            /* medium, 4-60 KiB */
        1 << 20, (1 << 20) + 1                      /* large */
    };
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *p[N];
    int ok = 1;

    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) {
            p[i] = malloc(sizes[i]);
            if (!p[i])
                return 0;
            fill(p[i], sizes[i], salt + (unsigned)i);
        }
        for (int i = 0; i < N; i++) {
            if (!check(p[i], sizes[i], salt + (unsigned)i))
                ok = 0;
            if (i % 2) {
                /* realloc moves between size classes */
                unsigned char *q = realloc(p[i], sizes[i] * 2 + 1);
                if (!q)
                    return 0;
                if (!check(q, sizes[i], salt + (unsigned)i))
                    ok = 0;
                p[i] = q;
            }
        }
        for (int i = N - 1; i >= 0; i--)
            free(p[i]);
        unsigned char *z = calloc(1000, 17);
        if (!z)
            return 0;
        for (int i = 0; i < 17000; i++)
            if (z[i])
                ok = 0;
        free(z);
    }
    return ok;
}

static void *child_thread(void *arg)
{
    return (void *)(uintptr_t)child_work((unsigned)(uintptr_t)arg);
}

int main(void)
{
    pthread_t th[NTHREADS];
    int fds[2];
    int succeeded = 0, failed = 0;

    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)i) != 0) {
            perror("pthread_create");
            return 1;
        }
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }

    for (int k = 0; k < NFORKS; k++) {
        /* Let the threads get going (and back into malloc) between forks. */
        usleep(2000);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            int ok = child_work((unsigned)k);
            if (ok && k % 5 == 0) {
                pthread_t t;
                void *res;
                if (pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)(k + 100)) != 0
                    || pthread_join(t, &res) != 0)
                    ok = 0;
                else
                    ok = res != NULL;
            }
            char byte = ok ? 'K' : 'X';
            ssize_t w = write(fds[1], &byte, 1);
            _exit(w == 1 ? 0 : 3);
        }
        int status;
        char byte = 0;
        if (read(fds[0], &byte, 1) != 1)
            byte = 0;
        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 1;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && byte == 'K') {
            succeeded++;
        } else {
            failed++;
            if (WIFSIGNALED(status))
                fprintf(stderr, "child %d: killed by signal %d\n", k, WTERMSIG(status));
            else
                fprintf(stderr, "child %d: exit status %d, result byte 0x%02x\n", k,
                        WEXITSTATUS(status), (unsigned char)byte);
        }
    }

    /* A child that execs: the new image starts clean (and, when preloaded,
     * loads the library afresh).  Its environment keeps only LD_PRELOAD, so
     * that /bin/true does not print statistics of its own into our stderr. */
    static char preload[4096];
    char *envp[2] = {NULL, NULL};
    const char *lp = getenv("LD_PRELOAD");
    if (lp && snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lp) < (int)sizeof preload)
        envp[0] = preload;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        void *p = malloc(100);
        free(p);
        execle("/bin/true", "true", (char *)NULL, envp);
        _exit(127);
    }
    int status;
    int exec_ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!exec_ok)
        fprintf(stderr, "exec child: status 0x%x\n", status);

    atomic_store(&stop, 1);
    int threads_ok = 1;
    for (int i = 0; i < NTHREADS; i++) {
        void *res;
        pthread_join(th[i], &res);
        if (res != NULL)
            threads_ok = 0;
    }
    if (!threads_ok)
        fprintf(stderr, "a background thread found a corrupted block\n");

    printf("children ok: %d of %d\n", succeeded, NFORKS);
    printf("exec child: %s\n", exec_ok ? "ok" : "FAILED");
    printf("threads: %s\n", threads_ok ? "ok" : "FAILED");
    return failed == 0 && exec_ok && threads_ok ? 0 : 1;
}
