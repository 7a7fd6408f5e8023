/* test_trace_libunwind_quiet.c - the tracer's walks step libunwind without
 * its signal-mask system calls; every other caller of libunwind keeps
 * them, and a libunwind the program loaded itself is left alone.
 *
 * This program defines sigprocmask (exported: -export-dynamic), so the
 * libunwind the tracer loads binds its calls to the counter below, as it
 * would bind them to libc's. */
#include <criterion/criterion.h>

#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "trace/libunwind.h"
#include "trace/unwind.h"

static long mask_calls;

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    mask_calls++;
    int e = pthread_sigmask(how, set, old);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

#define MAXF 48

struct walk {
    uintptr_t frames[MAXF], slots[MAXF], ref[MAXF + 16];
    int n, nref, learnt;
};

/* The stand-in for malloc's entry point, as in test_trace_unwind_cfa.c. */
__attribute__((noinline, optimize("no-omit-frame-pointer")))
static void probe(struct walk *w)
{
    const uintptr_t *fp = __builtin_frame_address(0);
    w->n = sa_unwind_cfa_walk(fp[1], (uintptr_t)(fp + 2), fp[0], w->frames, w->slots, MAXF,
                              &w->learnt, NULL);
}

__attribute__((noinline, optimize("no-omit-frame-pointer")))
static void backtrace_probe(struct walk *w)
{
    w->nref = sa_unwind_libunwind_raw(w->ref, MAXF + 16);
}

/* Each depth is a call site the walker has not seen before its first
 * walk through it; at the bottom, probe_fn unwinds. */
__attribute__((noinline, optimize("omit-frame-pointer")))
static int nest(struct walk *w, int depth, void (*probe_fn)(struct walk *))
{
    volatile char pad[40];
    pad[0] = (char)depth;
    if (depth == 0)
        probe_fn(w);
    else
        nest(w, depth - 1, probe_fn);
    __asm__ volatile("" ::: "memory");
    return pad[0];
}

static sigset_t current_mask(void)
{
    sigset_t s;
    sigemptyset(&s);
    pthread_sigmask(SIG_BLOCK, NULL, &s);
    return s;
}

Test(trace_libunwind_quiet, a_walk_through_new_call_sites_makes_no_mask_call)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
    cr_assert_eq(sa_unw_quiet_installed, 1);
    sigset_t before = current_mask();
    struct walk w = {0};
    mask_calls = 0;
    nest(&w, 12, probe);
    cr_assert_gt(w.n, 13, "walked %d frames", w.n);
    cr_assert_geq(w.learnt, 5, "learnt %d frames", w.learnt);
    cr_assert_eq(mask_calls, 0, "%ld sigprocmask calls for %d libunwind steps", mask_calls,
                 w.learnt);
    sigset_t after = current_mask();
    for (int sig = 1; sig < NSIG; sig++)
        cr_assert_eq(sigismember(&before, sig), sigismember(&after, sig),
                     "the thread's mask of signal %d changed", sig);
    cr_assert_eq(sa_unw_quiet, 0);
}

Test(trace_libunwind_quiet, the_backtrace_fallback_makes_no_mask_call)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
    struct walk w = {0};
    mask_calls = 0;
    nest(&w, 9, backtrace_probe);
    cr_assert_gt(w.nref, 10, "%d frames", w.nref);
    cr_assert_eq(mask_calls, 0, "%ld sigprocmask calls", mask_calls);
}

/* The program's own calls into the same libunwind (not inside a walk of
 * the tracer) still block signals around libunwind's lock. */
Test(trace_libunwind_quiet, libunwind_called_outside_a_walk_still_masks_signals)
{
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
    cr_assert_eq(sa_unw_quiet_installed, 1);
    unw_context_t uc;
    unw_cursor_t cur;
    mask_calls = 0;
    cr_assert_eq(sa_unw.getcontext(&uc), 0);
    cr_assert_eq(sa_unw.init_local(&cur, &uc), 0);
    int steps = 0;
    while (sa_unw.step(&cur) > 0)
        steps++;
    cr_assert_geq(steps, 2);
    cr_assert_geq(mask_calls, 2L * steps, "%ld sigprocmask calls for %d steps", mask_calls,
                  steps);
}

/* A program that has libunwind already may unwind from its own signal
 * handlers: its libunwind keeps masking signals for the tracer too. */
Test(trace_libunwind_quiet, a_libunwind_the_program_loaded_is_left_alone)
{
    void *mine = dlopen(SA_LIBUNWIND_SONAME, RTLD_NOW | RTLD_GLOBAL);
    cr_assert_not_null(mine, "%s", dlerror());
    cr_assert_eq(sa_unwind_init(SA_UNWIND_LIBUNWIND), 0);
    cr_assert_eq(sa_unw_quiet_installed, 0);
    struct walk w = {0};
    mask_calls = 0;
    nest(&w, 12, probe);
    cr_assert_gt(w.n, 13, "walked %d frames", w.n);
    cr_assert_geq(w.learnt, 5);
    cr_assert_geq(mask_calls, 2L * w.learnt, "%ld sigprocmask calls for %d steps", mask_calls,
                  w.learnt);
}
