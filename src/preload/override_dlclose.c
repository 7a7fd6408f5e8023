/* preload/override_dlclose.c - libsnapalloc's dlclose: remembers the loaded objects
 * before the real dlclose may unmap some of them, so that stacks captured
 * inside an unloaded object still name it (with file:line) in later
 * snapshots (format/write.c keeps the history).
 *
 * Only while tracing: without it no stack refers to the object.  The real
 * dlclose is found once with dlsym(RTLD_NEXT); that may allocate, which is
 * fine here (no lock of ours is held).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>

#include "common/compiler.h"
#include "format/snapshot.h"
#include "trace/trace.h"

#define SA_EXPORT __attribute__((visibility("default")))

typedef int (*sa_dlclose_fn)(void *);

static sa_dlclose_fn real_dlclose(void)
{
    static sa_dlclose_fn real;
    sa_dlclose_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (sa_dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
        __atomic_store_n(&real, f, __ATOMIC_RELEASE);
    }
    return f;
}

SA_EXPORT int dlclose(void *handle)
{
    if (__atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE) & SA_TRACE_ON_TRACER)
        sa_snapshot_note_modules();
    sa_dlclose_fn f = real_dlclose();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(handle);
}
