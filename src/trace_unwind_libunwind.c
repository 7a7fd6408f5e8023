/* trace_unwind_libunwind.c - the default stack walker: libunwind's
 * unw_backtrace().
 *
 * unw_backtrace is the fast path of libunwind (its x86-64 "trace cache"
 * of frame shapes keyed by address), several times cheaper than stepping a
 * cursor, and takes no lock of its own (jemalloc PR #75).  The per-thread
 * caching policy keeps unwind info in TLS instead of a global cache that
 * takes a lock and calls sigprocmask on every lookup.
 *
 * First use in a process (and in each thread) sets up those caches with
 * pthread_once/pthread_key_create/mmap: sa_unwind_libunwind_setup warms the
 * calling thread up once before tracing is switched on; later threads pay
 * their first-use cost under the tracer's reentrancy guard.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "internal.h"
#include "trace_unwind.h"

int sa_unwind_libunwind_setup(void)
{
    static int done;
    if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
        return 0;
    if (unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD) != 0)
        return -1;
    uintptr_t warm[8];
    sa_unwind_libunwind_raw(warm, 8);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return 0;
}

SA_NOINLINE int sa_unwind_libunwind_raw(uintptr_t *frames, int max)
{
    int n = unw_backtrace((void **)frames, max);
    return n < 0 ? 0 : n;
}
