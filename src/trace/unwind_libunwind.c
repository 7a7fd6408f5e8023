/* trace/unwind_libunwind.c - the default stack walker: libunwind's
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
 *
 * This file also owns the loading of libunwind itself (trace/libunwind.h).
 */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>

#include "alloc/alloc.h"
#include "trace/libunwind.h"
#include "trace/unwind.h"

sa_libunwind sa_unw;
int sa_unw_quiet_installed;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc = -1;
static const char *load_error = "not loaded";

#define SA_STR_(x) #x
#define SA_STR(x) SA_STR_(x)   /* the name a libunwind macro expands to */

static void load(void)
{
    /* RTLD_LOCAL: its _Unwind_* and backtrace() stay out of the program's
     * symbol scope.  dlopen allocates: the caller holds no allocator lock
     * and sets the tracer's guard, so those blocks are plain and untraced. */
    void *had = dlopen(SA_LIBUNWIND_SONAME, RTLD_NOW | RTLD_NOLOAD);
    if (had)
        dlclose(had);   /* the program's own: keep its signal masks */
    void *h = dlopen(SA_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        load_error = "cannot load " SA_LIBUNWIND_SONAME
                     " (install the Debian package libunwind8, or use SNAPALLOC_UNWIND=fp)";
        return;
    }
    sa_libunwind u;
#define SA_SYM(field, name)                                              \
    if (!(*(void **)&u.field = dlsym(h, name))) {                        \
        load_error = SA_LIBUNWIND_SONAME " lacks " name;                 \
        return;                                                          \
    }
    SA_SYM(getcontext, SA_STR(unw_tdep_getcontext));
    SA_SYM(init_local, SA_STR(unw_init_local));
    SA_SYM(step, SA_STR(unw_step));
    SA_SYM(get_reg, SA_STR(unw_get_reg));
    SA_SYM(get_save_loc, SA_STR(unw_get_save_loc));
    SA_SYM(is_signal_frame, SA_STR(unw_is_signal_frame));
    SA_SYM(set_caching_policy, SA_STR(unw_set_caching_policy));
    SA_SYM(backtrace, "unw_backtrace");
    SA_SYM(local_addr_space, SA_STR(unw_local_addr_space));
#undef SA_SYM
    sa_unw = u;
    sa_libunwind_nopipe_install(h);
    if (!had)
        sa_unw_quiet_installed = sa_libunwind_quiet_install(h) == 0;
    load_error = NULL;
    __atomic_store_n(&load_rc, 0, __ATOMIC_RELEASE);
}

int sa_libunwind_load(void)
{
    pthread_once(&load_once, load);
    return __atomic_load_n(&load_rc, __ATOMIC_ACQUIRE);
}

const char *sa_libunwind_error(void)
{
    return load_error;
}

int sa_unwind_libunwind_setup(void)
{
    static int done;
    if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
        return 0;
    if (sa_libunwind_load() != 0)
        return -1;
    if (sa_unw.set_caching_policy(*sa_unw.local_addr_space, UNW_CACHE_PER_THREAD) != 0)
        return -1;
    uintptr_t warm[8];
    sa_unwind_libunwind_raw(warm, 8);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return 0;
}

SA_NOINLINE int sa_unwind_libunwind_raw(uintptr_t *frames, int max)
{
    sa_unw_quiet++;
    int n = sa_unw.backtrace((void **)frames, max);
    sa_unw_quiet--;
    return n < 0 ? 0 : n;
}
