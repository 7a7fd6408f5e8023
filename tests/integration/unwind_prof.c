/* unwind_prof.c - a program that links libunwind itself and samples its
 * own stack with it from a SIGPROF handler (as in-process profilers do)
 * while it allocates from 90 call sites in random chains.  The tracer
 * shares this libunwind, so it must leave its signal masking as it is
 * (trace_libunwind_quiet.c): a sample taken while the tracer steps
 * libunwind must not wait on a lock its own thread holds.
 * Prints the allocation count and whether its own unwinds worked. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static volatile long samples, good_samples;

static void on_prof(int sig)
{
    (void)sig;
    void *f[64];
    samples++;
    if (unw_backtrace(f, 64) >= 2)
        good_samples++;
}

#define SITE(k)                                                              \
    __attribute__((noinline)) static void *site##k(int d, void *(*next)(int)) \
    {                                                                        \
        void *p = d > 0 ? next(d - 1) : malloc(16 + k);                     \
        __asm__ volatile("" ::: "memory");                                   \
        return p;                                                            \
    }
#define S10(a) SITE(a##0) SITE(a##1) SITE(a##2) SITE(a##3) SITE(a##4) \
               SITE(a##5) SITE(a##6) SITE(a##7) SITE(a##8) SITE(a##9)
S10(1) S10(2) S10(3) S10(4) S10(5) S10(6) S10(7) S10(8) S10(9)

typedef void *(*site_fn)(int, void *(*)(int));
#define R(a) site##a##0, site##a##1, site##a##2, site##a##3, site##a##4, \
             site##a##5, site##a##6, site##a##7, site##a##8, site##a##9
static site_fn sites[] = {R(1), R(2), R(3), R(4), R(5), R(6), R(7), R(8), R(9)};
#define NSITES (sizeof sites / sizeof *sites)

static unsigned seed = 1;

static void *chain(int d)
{
    seed = seed * 1103515245u + 12345u;
    return sites[(seed >> 16) % NSITES](d, chain);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prof;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval on = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &on, NULL);
    long made = 0;
    for (int i = 0; i < 200000; i++) {
        void *p = chain(i % 8);
        made += p != NULL;
        free(p);
    }
    setitimer(ITIMER_PROF, &off, NULL);
    void *f[64];
    printf("allocations: %ld\n", made);
    printf("own unwind: %s\n", unw_backtrace(f, 64) >= 2 ? "ok" : "failed");
    printf("samples unwound: %s\n", good_samples == samples ? "all" : "not all");
    fprintf(stderr, "samples: %ld\n", samples);
    return 0;
}
