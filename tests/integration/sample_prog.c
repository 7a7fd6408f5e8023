/* tests/integration/sample_prog.c - allocations by call site known
 * exactly, for sampled tracing (sample.sh): site_small keeps 10 MiB in
 * 64-byte blocks, site_page 10 MiB in 4 KiB blocks, site_big 2 MB in
 * 100 KB blocks, and site_churn allocates 20 MiB in 256-byte blocks that
 * it frees at once (nothing live).
 *
 *   sample_prog            the sites, then exit (the exit snapshot)
 *   sample_prog remote     site_small's blocks are freed by another thread
 *                          (nothing of it live)
 *   sample_prog fork       then forks: parent and child both run
 *                          site_after (10 MiB more in blocks of 56..104 B), the
 *                          child exits (its own exit snapshot), the parent
 *                          waits for it
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static void *keep[400000];
static size_t nkeep;

static __attribute__((noinline)) void site_small(void)
{
    for (size_t i = 0; i < 10 * MIB / 64; i++)
        keep[nkeep++] = malloc(64);
}

static __attribute__((noinline)) void site_page(void)
{
    for (size_t i = 0; i < 10 * MIB / 4096; i++)
        keep[nkeep++] = malloc(4096);
}

static __attribute__((noinline)) void site_big(void)
{
    for (size_t i = 0; i < 20; i++)
        keep[nkeep++] = malloc(100000);
}

static __attribute__((noinline)) void site_churn(void)
{
    for (size_t i = 0; i < 20 * MIB / 256; i++) {
        char *volatile p = malloc(256);
        p[0] = 1;
        free(p);
    }
}

/* Four sizes averaging 80: with one size the estimate is the number of
 * blocks sampled times one weight, and two independent runs drew the same
 * number about once in 45 (a Poisson count of mean 160); with four, all
 * four counts must agree (about once in 2.5 million). */
static __attribute__((noinline)) void site_after(void)
{
    static const size_t sizes[4] = { 56, 72, 88, 104 };
    for (size_t i = 0; i < 10 * MIB / 80; i++)
        keep[nkeep++] = malloc(sizes[i % 4]);
}

static void *free_all(void *arg)
{
    size_t n = *(size_t *)arg;
    for (size_t i = 0; i < n; i++) {
        free(keep[i]);
        keep[i] = NULL;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    site_small();
    size_t small_n = nkeep;
    site_churn();
    site_page();
    site_big();
    if (strcmp(mode, "remote") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, free_all, &small_n) != 0 || pthread_join(t, NULL) != 0)
            return 1;
    } else if (strcmp(mode, "fork") == 0) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        site_after();
        if (pid == 0)
            exit(0);
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    return 0;
}
