/* leak/check.c - the check's sequence in time: its start (the warmup
 * thread and the baseline hook), snapalloc_mark_baseline's file, and the
 * exit-time check -- the exit snapshot, the scan (leak/scan_roots.c), the
 * class files (leak/files.c) and, standalone, the analyzer's verdict
 * (leak/analyzer.c).
 *
 * Exit order: the check runs first in libsnapalloc's exit sequence
 * (preload/lifecycle.c), from its destructor, which the
 * loader calls after the program's atexit handlers, its static destructors
 * and those of libraries that depend on nothing of ours; libraries
 * finalised after us (libstdc++, libc) may still hold blocks they free
 * later: those are reachable from their globals, not leaks.  (LeakSanitizer
 * runs from an atexit handler, with the same kind of ordering caveat.)
 */
#include "leak/check.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/os.h"
#include "common/thread.h"
#include "format/snapshot.h"
#include "trace/config.h"
#include "trace/trace.h"

sa_exit_state sa_exit_point;

/* Write the tracer's snapshot of the live blocks to DIR/PID.suffix; a
 * failure is reported (but not -EINVAL: tracing is off). */
static void dump_to(const char *dir, const char *suffix, int trigger)
{
    char path[SA_PATH_MAX];
    if (sa_leak_path(path, dir, suffix) != 0)
        return;
    int rc = sa_trace_dump(path, trigger, 1, NULL);
    if (rc < 0 && rc != -EINVAL)
        sa_trigger_report(path, rc);
}

/* ---- Baseline ---------------------------------------------------------- */

void sa_leak_baseline(void)
{
    if (!sa_leak_cfg.enabled)
        return;
    int g = sa_trace_guard_enter();
    int saved = errno;
    const char *dir = sa_leak_check_dir();
    if (dir)
        dump_to(dir, "baseline.snap", SA_SNAP_TRIGGER_BASELINE);
    errno = saved;
    sa_trace_guard_leave(g);
}

/* ---- At exit ------------------------------------------------------------ */

int sa_leak_exit_check(void)
{
    return sa_leak_cfg.enabled ? sa_leak_at_exit() : 0;
}

int sa_leak_at_exit(void)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
        return 0;
    int g = sa_trace_guard_enter();
    int saved = errno;
    int status = 0;
    const char *dir = sa_leak_check_dir();
    if (!dir) {
        fflush(NULL);   /* the gate fails closed: the program was not checked */
        _exit(SA_LEAK_NOT_CHECKED);
    }
    dump_to(dir, "exit.snap", SA_SNAP_TRIGGER_EXIT);
    sa_leak_result res;
    if (sa_leak_scan(&res) != 0) {
        static const char msg[] = "snapalloc: leak check: out of memory; no check\n";
        sa_os_write_all(sa_os_stderr(), msg, sizeof msg - 1);
        goto out;
    }
    int wrc = sa_leak_write(dir, &res);
    if (!sa_leak_cfg.dir_given) {
        status = sa_leak_verdict(dir, &res, wrc);
        sa_leak_remove_dir(dir);
    }
    sa_leak_result_free(&res);
out:
    errno = saved;
    sa_trace_guard_leave(g);
    return status;
}

/* ---- Warmup and start-up ------------------------------------------------ */

static void *warmup_main(void *arg)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t ns = sa_leak_cfg.warmup_ns;
    uint64_t sum = (uint64_t)t.tv_nsec + ns % 1000000000ull;
    t.tv_sec += (time_t)(ns / 1000000000ull + sum / 1000000000ull);
    t.tv_nsec = (long)(sum % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
    sa_leak_baseline();
    return arg;
}

/* The warmup baseline is written by a thread of its own, started here: a
 * detached sleeper that takes no signal but the stop signal of the check
 * (which can stop it like any other thread). */
static void warmup_start(void)
{
    int g = sa_trace_guard_enter();
    int ok = sa_thread_start_detached(warmup_main, 64 * 1024) == 0;
    sa_trace_guard_leave(g);
    if (!ok) {
        static const char msg[] = "snapalloc: cannot start the warmup thread; "
                                  "SNAPALLOC_CHECK_WARMUP is ignored\n";
        sa_os_write_all(sa_os_stderr(), msg, sizeof msg - 1);
    }
}

void sa_leak_start(void)
{
    if (!sa_leak_cfg.enabled)
        return;
    sa_trace_baseline_hook = sa_leak_baseline;   /* PID.baseline.snap */
    if (sa_leak_cfg.warmup_ns)
        warmup_start();
}
