/* trace/api.c - the tracer's public API (include/snapalloc.h: start,
 * stop, clear, traced memory, object tracebacks, snapshots, the
 * baseline), its start from the configuration, and its fork handlers.
 * start/stop/clear are serialised by sa_trace_ctl_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/alloc_inline.h"
#include "alloc/walk.h"
#include "common/lock.h"
#include "common/os.h"
#include "debug/debug_mode.h"
#include "format/snapshot.h"
#include "format/writer.h"
#include "snapalloc.h"
#include "trace/budget.h"
#include "trace/config.h"
#include "trace/libunwind.h"
#include "trace/sample.h"
#include "trace/stack.h"
#include "trace/trace.h"
#include "trace/tracer.h"
#include "trace/unwind.h"

/* The public API is exported from libsnapalloc.so (the core is built with
 * -fvisibility=hidden). */
#define SA_API __attribute__((visibility("default")))

sa_lock sa_trace_ctl_lock = SA_LOCK_INIT;
static struct { uint64_t size, count; int marked; } baseline;

/* ---- Start-up and fork -------------------------------------------------- */

void (*sa_trace_baseline_hook)(void);

void sa_trace_start(void)
{
    sa_trace_lazy = sa_trace_cfg.lazy_counters;
    sa_sample_set_seed((uint64_t)sa_trace_cfg.sample_seed);
    sa_trigger_setup();
    if (sa_trace_cfg.depth > 0 && snapalloc_start(sa_trace_cfg.depth) != 0) {
        static const char msg[] = "snapalloc: SNAPALLOC_TRACE: cannot initialise the "
                                  "stack unwinder";
        const char *why = sa_trace_cfg.unwind == SA_UNWIND_LIBUNWIND ? sa_libunwind_error() : NULL;
        sa_os_write_all(2, msg, sizeof msg - 1);
        if (why) {
            sa_os_write_all(2, ": ", 2);
            sa_os_write_all(2, why, strlen(why));
        }
        static const char off[] = "; tracing stays off\n";
        sa_os_write_all(2, off, sizeof off - 1);
    }
    sa_trigger_start_helper();
}

/* sa_trace_ctl_lock is not taken here: start/stop may allocate under it (the
 * unwinder's set-up, with the guard set), and a thread waiting for the
 * allocator's locks while holding it would deadlock the fork.  The child
 * re-initialises it instead. */
void sa_trace_prefork(void)
{
    sa_lock_acquire(&sa_trace_snap_lock);
    sa_stack_prefork();
    sa_lock_acquire(&sa_trace_mark_lock);
}

void sa_trace_postfork_parent(void)
{
    sa_lock_release(&sa_trace_mark_lock);
    sa_stack_postfork_parent();
    sa_lock_release(&sa_trace_snap_lock);
}

void sa_trace_postfork_child(void)
{
    sa_lock_reinit(&sa_trace_mark_lock);
    sa_stack_postfork_child();
    sa_lock_reinit(&sa_trace_snap_lock);
    sa_lock_reinit(&sa_trace_ctl_lock);
    sa_trace_sequence = 0;
    sa_sample_postfork_child();
    sa_budget_postfork_child();
    sa_trigger_postfork_child();
}

/* ---- Public API --------------------------------------------------------- */

/* The entry points' switches for the tracer's mode, once its counters are
 * ready: free() calls the tracer for every block under full tracing with
 * live counters (trace.h), and never under sampling, where the recorded
 * blocks' pages are marked instead (sample.h).  malloc takes its traced
 * path every time under full tracing and debug mode, and under sampling
 * only when its byte budget runs out (trace/budget.h): every thread's
 * budget is zeroed, so each asks again at its next malloc and re-arms
 * for the new mode. */
static void switches_publish(int on)
{
    uint64_t t = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED);
    int debug = __atomic_load_n(&sa_debug_on, __ATOMIC_RELAXED);
    if (on)
        __atomic_store_n(&sa_free_forget, sa_trace_forget, __ATOMIC_RELEASE);
    __atomic_store_n(&sa_trace_malloc_all, debug || (on && t == 0), __ATOMIC_RELEASE);
    __atomic_store_n(&sa_trace_free_on, on && (debug || (!sa_trace_lazy && t == 0)),
                     __ATOMIC_RELEASE);
    sa_budget_reset_all();
}

/* A new sampling interval while tracing: the tags of the current
 * generation were weighed at the old one, so they are forgotten (as
 * jemalloc's prof.reset), with nothing recorded meanwhile. */
static void sample_change(uint64_t interval, int limit)
{
    __atomic_store_n(&sa_trace_limit, 0, __ATOMIC_RELEASE);
    sa_lock_acquire(&sa_trace_snap_lock);   /* not in a recount's midst */
    __atomic_store_n(&sa_trace_sample, interval, __ATOMIC_RELEASE);
    sa_stack_reset();
    sa_trace_counters_reset();
    switches_publish(1);
    sa_lock_release(&sa_trace_snap_lock);
    __atomic_store_n(&sa_trace_limit, limit, __ATOMIC_RELEASE);
}

SA_API int snapalloc_start(int nframe)
{
    return snapalloc_start_sampled(nframe, (size_t)sa_trace_cfg.sample);
}

SA_API int snapalloc_start_sampled(int nframe, size_t interval)
{
    if (nframe < 0 || nframe > SNAPALLOC_MAX_FRAMES || interval > SA_SAMPLE_MAX)
        return -EINVAL;
    if (nframe == 0)
        nframe = SA_TRACE_DEFAULT_FRAMES;
    if (sa_trace_cfg.exact)
        interval = 0;   /* the leak check traces every block */
    int saved = errno;
    sa_lock_acquire(&sa_trace_ctl_lock);
    int was_on = sa_tracing();
    if (!was_on) {
        /* Arm the hook, recording nothing yet (limit 0): what the
         * unwinder's set-up allocates under the guard (dlopen of
         * libunwind) is then marked as the tracer's own, not left as
         * blocks of unknown origin in the program's leak report. */
        __atomic_store_n(&sa_trace_limit, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&sa_trace_sample, (uint64_t)interval, __ATOMIC_RELEASE);
        __atomic_fetch_or(&sa_trace_on, SA_TRACE_ON_TRACER, __ATOMIC_RELEASE);
        __atomic_store_n(&sa_trace_malloc_all, 1, __ATOMIC_RELEASE);
    }
    int rc = sa_unwind_init(sa_trace_cfg.unwind);
    if (rc == 0) {
        /* zlib for the snapshot writer (format/compress.c), loaded here
         * where its dlopen may allocate: as the tracer's own blocks. */
        int g = sa_trace_guard_enter();
        sa_wz_load();
        sa_trace_guard_leave(g);
    }
    if (rc == 0) {
        if (!was_on) {
            sa_trace_counters_reset();
            switches_publish(1);
        } else if (__atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED) != interval) {
            sample_change(interval, nframe);
        }
        __atomic_store_n(&sa_trace_limit, nframe, __ATOMIC_RELEASE);
    } else if (!was_on) {
        __atomic_fetch_and(&sa_trace_on, ~SA_TRACE_ON_TRACER, __ATOMIC_RELEASE);
        switches_publish(0);
    }
    sa_lock_release(&sa_trace_ctl_lock);
    errno = saved;
    return rc;
}

/* Forget every trace: a new generation.  Waits for a snapshot being
 * written (it iterates the table). */
static void traces_reset(void)
{
    sa_lock_acquire(&sa_trace_snap_lock);
    sa_stack_reset();
    sa_trace_counters_reset();
    sa_lock_release(&sa_trace_snap_lock);
}

SA_API void snapalloc_stop(void)
{
    sa_lock_acquire(&sa_trace_ctl_lock);
    if (sa_tracing()) {
        __atomic_fetch_and(&sa_trace_on, ~SA_TRACE_ON_TRACER, __ATOMIC_RELEASE);
        switches_publish(0);
        traces_reset();
        __atomic_store_n(&sa_trace_limit, 0, __ATOMIC_RELAXED);
    }
    sa_lock_release(&sa_trace_ctl_lock);
}

SA_API int snapalloc_is_tracing(void)
{
    return (__atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE) & SA_TRACE_ON_TRACER) != 0;
}

SA_API int snapalloc_get_traceback_limit(void)
{
    return snapalloc_is_tracing() ? __atomic_load_n(&sa_trace_limit, __ATOMIC_RELAXED) : 0;
}

SA_API void snapalloc_get_traced_memory(size_t *current, size_t *peak)
{
    int on = snapalloc_is_tracing();
    if (on && sa_trace_lazy) {
        int g = sa_trace_guard_enter();
        sa_lock_acquire(&sa_trace_snap_lock);
        sa_trace_recount();
        sa_lock_release(&sa_trace_snap_lock);
        sa_trace_guard_leave(g);
    }
    size_t c = on ? sa_trace_current_now() : 0;
    size_t p = on ? __atomic_load_n(&sa_traced.peak, __ATOMIC_RELAXED) : 0;
    if ((ptrdiff_t)c < 0)   /* a free raced a clear */
        c = 0;
    if (current)
        *current = c;
    if (peak)
        *peak = p > c ? p : c;
}

SA_API void snapalloc_reset_peak(void)
{
    __atomic_store_n(&sa_traced.peak, sa_trace_current_now(), __ATOMIC_RELAXED);
}

SA_API void snapalloc_clear_traces(void)
{
    sa_lock_acquire(&sa_trace_ctl_lock);
    if (sa_tracing())
        traces_reset();
    sa_lock_release(&sa_trace_ctl_lock);
}

SA_API size_t snapalloc_get_tracemalloc_memory(void)
{
    return sa_stack_mapped_bytes() + __atomic_load_n(&sa_tag_mem, __ATOMIC_RELAXED);
}

SA_API int snapalloc_get_object_traceback(const void *ptr, void **frames, int max)
{
    if (!ptr || !frames || max <= 0 || !snapalloc_is_tracing())
        return 0;
    sa_tag *rec = sa_tag_slot(ptr, 0);
    if (!rec || (sa_trace_lazy && sa_block_is_free(ptr)))   /* a stale record */
        return 0;
    sa_stack *s = sa_stack_get(rec->id);
    if (!s)
        return 0;
    int n = s->nframes < max ? s->nframes : max;
    for (int i = 0; i < n; i++)
        frames[i] = (void *)s->frames[i];
    return n;
}

SA_API int snapalloc_take_snapshot(const char *path)
{
    return sa_trace_dump(path, SA_SNAP_TRIGGER_API, 1, NULL);
}

SA_API void snapalloc_mark_baseline(void)
{
    uint64_t size = 0, count = 0;
    uint32_t cursor = 0;
    sa_snap_wstack st;
    int g = sa_trace_guard_enter();
    sa_lock_acquire(&sa_trace_snap_lock);
    if (snapalloc_is_tracing())
        sa_trace_recount();
    while (sa_stack_next(&cursor, &st)) {
        size += st.size;
        count += st.count;
    }
    sa_lock_release(&sa_trace_snap_lock);
    sa_trace_guard_leave(g);
    sa_lock_acquire(&sa_trace_ctl_lock);
    baseline.size = size;
    baseline.count = count;
    baseline.marked = 1;
    sa_lock_release(&sa_trace_ctl_lock);
    void (*hook)(void) = sa_trace_baseline_hook;
    if (hook)
        hook();   /* SNAPALLOC_CHECK: PID.baseline.snap */
}

int sa_trace_baseline(uint64_t *size, uint64_t *count)
{
    sa_lock_acquire(&sa_trace_ctl_lock);
    int marked = baseline.marked;
    if (size)
        *size = baseline.size;
    if (count)
        *count = baseline.count;
    sa_lock_release(&sa_trace_ctl_lock);
    return marked;
}
