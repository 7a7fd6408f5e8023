/* test_leak_world.c - stopping the world: four threads spinning with
 * their blocks' addresses only in a register and in a stack slot are all
 * stopped, their registers and stacks scanned (the blocks are reachable),
 * and they run on afterwards.  Also the handler's absence afterwards and
 * threads that block the stop signal. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"
#include "leak/leak.h"

#define NTHREADS 4
#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)

typedef struct targ {
    uintptr_t hidden_stack, hidden_reg;   /* addresses ^ MASK */
    uint64_t spins;                       /* atomic */
    int ready;                            /* atomic */
} targ;

static int stop_spinning;
static targ args[NTHREADS];

/* The block's address, masked, so no plain copy is left behind. */
static SA_NOINLINE uintptr_t masked_block(size_t n)
{
    void *p = sa_malloc(n);
    memset(p, 0, n);
    return (uintptr_t)p ^ MASK;
}

static void *spin(void *arg)
{
    targ *a = arg;
    a->hidden_stack = masked_block(96);
    a->hidden_reg = masked_block(160);
    /* One address in a stack slot, the other in r12 only. */
    volatile uintptr_t on_stack = a->hidden_stack ^ MASK;
#if defined(__x86_64__)
    register uintptr_t in_reg __asm__("r12") = a->hidden_reg ^ MASK;
#else
    volatile uintptr_t in_reg = a->hidden_reg ^ MASK;
#endif
    __atomic_store_n(&a->ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&stop_spinning, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("" : "+r"(in_reg));
        __atomic_add_fetch(&a->spins, 1, __ATOMIC_RELAXED);
    }
    sa_free((void *)on_stack);
    sa_free((void *)in_reg);
    return NULL;
}

static void scrub(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof pad);
}

Test(leak_world, spinning_threads_are_stopped_scanned_and_resumed)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, spin, &args[i]), 0);
    for (int i = 0; i < NTHREADS; i++)
        while (!__atomic_load_n(&args[i].ready, __ATOMIC_ACQUIRE))
            ;
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_geq(r.threads_stopped, NTHREADS);
    cr_expect_eq(r.blocks[SA_LEAK_REACHABLE], 2 * NTHREADS,
                 "reachable blocks: %llu", (unsigned long long)r.blocks[SA_LEAK_REACHABLE]);
    cr_expect_eq(r.blocks[SA_LEAK_DEFINITE], 0, "definite blocks: %llu",
                 (unsigned long long)r.blocks[SA_LEAK_DEFINITE]);
    cr_expect_eq(r.blocks[SA_LEAK_POSSIBLE] + r.blocks[SA_LEAK_INDIRECT], 0);
    sa_leak_result_free(&r);

    /* Resumed: every thread spins on. */
    uint64_t before[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        before[i] = __atomic_load_n(&args[i].spins, __ATOMIC_RELAXED);
    for (int i = 0; i < NTHREADS; i++)
        while (__atomic_load_n(&args[i].spins, __ATOMIC_RELAXED) == before[i])
            ;
    __atomic_store_n(&stop_spinning, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_join(t[i], NULL), 0);

    /* The handler is gone again: the signal's action is the default. */
    struct sigaction now;
    sigaction(SIGRTMIN + SA_LEAK_SIGNAL_OFFSET, NULL, &now);
    cr_expect_eq((void *)now.sa_handler, (void *)SIG_DFL);
}

/* Without the stop, the same blocks held by threads that have exited
 * (their stacks are not scanned) are lost. */
static void *leak_and_exit(void *arg)
{
    targ *a = arg;
    a->hidden_stack = masked_block(96);
    volatile uintptr_t on_stack = a->hidden_stack ^ MASK;
    (void)on_stack;
    return NULL;
}

Test(leak_world, exited_threads_are_not_roots)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, leak_and_exit, &args[i]), 0);
        cr_assert_eq(pthread_join(t[i], NULL), 0);
    }
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.blocks[SA_LEAK_DEFINITE], NTHREADS);
    cr_expect_eq(r.blocks[SA_LEAK_REACHABLE], 0);
    sa_leak_result_free(&r);
}

/* A thread blocking the stop signal (here spinning, so it sleeps in no
 * system call) is stopped all the same, by ptrace, and the scan completes. */
static void *blocked(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    __atomic_store_n(&((targ *)arg)->ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&stop_spinning, __ATOMIC_ACQUIRE))
        ;
    return NULL;
}

Test(leak_world, threads_blocking_the_signal_are_stopped)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, blocked, &args[0]), 0);
    while (!__atomic_load_n(&args[0].ready, __ATOMIC_ACQUIRE))
        ;
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.threads_skipped, 0);
    sa_leak_result_free(&r);
    __atomic_store_n(&stop_spinning, 1, __ATOMIC_RELEASE);
    cr_assert_eq(pthread_join(t, NULL), 0);
}
