/* preload/lifecycle.c - libsnapalloc.so's one start-up and one exit
 * sequence: the only constructor and the only destructor of the library.
 * Each part registers nothing of its own; this file calls them in order.
 *
 * Start-up (the constructor, after the libraries we depend on are
 * initialised; the allocator itself may have started earlier, on the
 * first malloc, alloc/init.c):
 *
 *   1. the allocator (sa_init: a no-op if a malloc came first), and the
 *      real exit (dlsym) for the exit wrappers;
 *   2. the configuration: the tracer's variables, debug mode's (which
 *      turns tracing on), then the leak check's, which adjust the tracer's
 *      (SNAPALLOC_CHECK implies tracing), then SNAPALLOC_STATS;
 *   3. the tracer's fork handlers, registered after the allocator's so
 *      that fork takes the tracer's locks first (pthread_atfork runs
 *      prepare handlers in reverse order of registration) and releases
 *      them last: the library's one lock order, tracer then allocator;
 *   4. tracing, its triggers and their helper thread (sa_trace_start);
 *   5. debug mode (sa_debug_start: from here on the entry points make
 *      debug blocks), then guard pages (sa_guard_start: the pool, the
 *      fault handler, sampling on), their fork handlers registered last
 *      so that the quarantine's and the pool's locks are taken first;
 *   6. the leak check's warmup thread and baseline hook (sa_leak_start).
 *
 * Exit: the destructor, which the loader runs after the program's atexit
 * handlers and static destructors, so that all of these see what the
 * program's own clean-up left alive; or the _exit/_Exit wrappers
 * (override_exit.c), which run no destructor and call the same sequence
 * (as valgrind checks at _exit):
 *
 *   0. debug mode's check of every live and quarantined block;
 *   1. the leak check (SNAPALLOC_CHECK): its own exit snapshot, the scan,
 *      the files, the analyzer's verdict;
 *   2. the tracer's exit snapshot (SNAPALLOC_SNAPSHOT_AT_EXIT);
 *   3. the statistics (SNAPALLOC_STATS), at a normal exit only: a child
 *      that forks and _exits (or fails to exec) would print them again;
 *   4. a failed check ends the process with its status, after the
 *      program's buffered output is flushed.
 *
 * A vfork child (or a clone sharing our memory) shares the parent's heap
 * and files and must leave them alone: it still has the parent's sa_pid.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "common/config.h"
#include "common/fmt.h"
#include "common/os.h"
#include "debug/debug_mode.h"
#include "debug/guard.h"
#include "leak/leak.h"
#include "preload/lifecycle.h"
#include "trace/config.h"
#include "trace/trace.h"

/* The process's pid, as of start-up or its last fork. */
static int sa_pid;
static void (*real_exit)(int);
static int stats_at_exit;

static void trace_postfork_child(void)
{
    sa_pid = (int)syscall(SYS_getpid);
    sa_trace_postfork_child();
}

/* SNAPALLOC_STATS: "1" prints the statistics on stderr at exit (the
 * table's entry, common/config.c). */
static void read_stats_setting(void)
{
    sa_config_read_group(SA_CONFIG_STATS, &stats_at_exit, 2);
    if (stats_at_exit)
        sa_os_keep_stderr();
}

__attribute__((constructor)) static void sa_start(void)
{
    sa_init();
    sa_pid = (int)syscall(SYS_getpid);
    real_exit = (void (*)(int))dlsym(RTLD_NEXT, "exit");
    sa_trace_config_read(&sa_trace_cfg, 2);
    sa_debug_config_read(2, &sa_trace_cfg.depth, &sa_trace_cfg.at_exit);
    sa_leak_config_read(&sa_leak_cfg, &sa_trace_cfg, 2);
    read_stats_setting();
    pthread_atfork(sa_trace_prefork, sa_trace_postfork_parent, trace_postfork_child);
    sa_trace_start();
    sa_debug_start();
    sa_guard_start();
    pthread_atfork(sa_debug_prefork, sa_debug_postfork_parent, sa_debug_postfork_child);
    sa_leak_start();
}

/* Steps 1-3 of the exit sequence; returns the failed check's status or
 * 0.  Once per process (a destructor after _exit cannot happen, but an
 * exit() from an atexit handler of a program that called exit() can). */
static int exit_sequence(int normal)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
        return 0;
    if ((int)syscall(SYS_getpid) != sa_pid)
        return 0;   /* a vfork child */
    sa_debug_exit_check();
    int status = sa_leak_exit_check();
    sa_trace_exit_snapshot();
    if (normal && stats_at_exit)
        sa_stats_print(sa_os_stderr());
    return status > 0 ? status : 0;
}

__attribute__((destructor)) static void sa_finish(void)
{
    int status = exit_sequence(1);
    if (status) {
        /* The program's buffered output would be lost by an exit that
         * flushes nothing. */
        fflush(NULL);
        syscall(SYS_exit_group, status);
    }
}

void sa_exit_full(int status)
{
    if (!real_exit)
        real_exit = (void (*)(int))dlsym(RTLD_NEXT, "exit");
    if (real_exit)
        real_exit(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

void sa_exit_quick(int status)
{
    if (__atomic_load_n(&sa_initialized, __ATOMIC_ACQUIRE) && sa_pid) {
        int check_status = exit_sequence(0);
        if (check_status)
            status = check_status;
    }
    for (;;)
        syscall(SYS_exit_group, status);
}
