/* alloc/init.c - start-up, settings from the environment, fork handlers.
 *
 * Initialisation happens on the first malloc (which may come from the
 * dynamic loader or another library's constructor, long before main) or
 * from our constructor, whichever is first.  It calls nothing that
 * allocates before the allocator works: the size classes and the heap
 * secret are set first, and a malloc made by what follows (the pthread key,
 * the fork handlers) is served normally.  The tracer, which does allocate
 * (libunwind), starts from our constructor, once our dependencies are
 * initialised.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/arena.h"
#include "common/fmt.h"
#include "alloc/heap.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "leak/leak.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "alloc/sizeclass.h"

int sa_initialized;
int sa_pid;
sa_exit_state sa_exit_point;
static void (*real_exit)(int);
static sa_lock init_lock = SA_LOCK_INIT;
static SA_TLS int in_init;
static int stats_at_exit;

/* Lock order (every lock of the library): tracer, heap registry, shared
 * heap, abandoned heaps, large cache, arenas, metadata. */
static void prefork(void)
{
    sa_trace_prefork();
    sa_heap_prefork();
    sa_large_prefork();
    sa_arena_prefork();
    sa_meta_prefork();
}

static void postfork_parent(void)
{
    sa_meta_postfork_parent();
    sa_arena_postfork_parent();
    sa_large_postfork_parent();
    sa_heap_postfork_parent();
    sa_trace_postfork_parent();
}

static void postfork_child(void)
{
    sa_pid = (int)syscall(SYS_getpid);
    sa_meta_postfork_child();
    sa_arena_postfork_child();
    sa_large_postfork_child();
    sa_heap_postfork_child();
    sa_trace_postfork_child();
}

/* The leak check (leak/leak.c) stops the world holding every lock, so that no
 * stopped thread is inside a locked section. */
void sa_lock_all(void)
{
    prefork();
}

void sa_unlock_all(void)
{
    postfork_parent();
}

/* SNAPALLOC_STATS: "1" prints the statistics on stderr at exit. */
static void read_stats_setting(void)
{
    const char *v = secure_getenv("SNAPALLOC_STATS");
    if (!v || !*v || strcmp(v, "0") == 0)
        return;
    if (strcmp(v, "1") == 0) {
        stats_at_exit = 1;
        sa_os_keep_stderr();
        return;
    }
    sa_warn_setting(2, "SNAPALLOC_STATS", v, "expected 0 or 1; statistics stay off");
}

/* SNAPALLOC_THP: "1" backs the arenas with transparent huge pages where
 * the kernel allows (alloc/arena.h). */
static void read_thp_setting(void)
{
    const char *v = secure_getenv("SNAPALLOC_THP");
    if (!v || !*v || strcmp(v, "0") == 0)
        return;
    if (strcmp(v, "1") == 0) {
        sa_arena_thp = 1;
        return;
    }
    sa_warn_setting(2, "SNAPALLOC_THP", v, "expected 0 or 1; huge pages stay off");
}

void sa_init_slow(void)
{
    if (in_init)
        return;   /* a malloc from inside the steps below */
    in_init = 1;
    sa_lock_acquire(&init_lock);
    if (!sa_initialized) {
        sa_sizeclass_init();
        read_thp_setting();   /* before any arena is mapped */
        sa_secret = (uintptr_t)sa_os_random();
        sa_pid = (int)syscall(SYS_getpid);
        __atomic_store_n(&sa_initialized, 1, __ATOMIC_RELEASE);
        sa_heap_init();
        pthread_atfork(prefork, postfork_parent, postfork_child);
        read_stats_setting();
    }
    sa_lock_release(&init_lock);
    in_init = 0;
}

__attribute__((constructor)) static void sa_constructor(void)
{
    sa_init();
    real_exit = (void (*)(int))dlsym(RTLD_NEXT, "exit");
    sa_trace_init_from_env();
}

__attribute__((destructor)) static void sa_destructor(void)
{
    if (stats_at_exit)
        sa_stats_print(sa_os_stderr());
}

/* ---- Exit ------------------------------------------------------------------
 *
 * A normal exit (exit(), or a return from main) runs the program's atexit
 * handlers and destructors, then ours: the tracer's exit snapshot
 * (trace/config.c), the leak check (leak/leak.c) and the statistics (above),
 * each a destructor of its own, so that all of them see what the
 * program's own clean-up left alive.  _exit and _Exit run no destructor:
 * sa_exit_quick runs the first two itself, as valgrind checks at _exit;
 * not the statistics, which a child that forks and _exits (or fails to
 * exec) would print once more. */

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
    /* A vfork child (or a clone sharing our memory) has its parent's
     * sa_pid: it must leave the parent's heap and files alone. */
    if (sa_initialized && (int)syscall(SYS_getpid) == sa_pid) {
        sa_trace_exit_snapshot();
        int leak_status = sa_leak_exit_check();
        if (leak_status > 0)
            status = leak_status;
    }
    for (;;)
        syscall(SYS_exit_group, status);
}
