/* trace/entry_stack.c - the interned stack of the program's call to an
 * entry point, through the unwind cache (trace/ucache.h): a traced
 * malloc's when the cache's fast lookup missed (trace/trace.c,
 * capture_slow), and debug mode's for every free (debug/debug.c), where
 * a full unwind on every free cost 10x the plain run on churn.  0 only
 * when the stack table is full. */
#include "trace/trace.h"

#include "trace/stack.h"
#include "trace/tracer.h"
#include "trace/ucache.h"
#include "trace/unwind.h"
#include "snapalloc.h"

uint32_t sa_trace_entry_stack(const uintptr_t *entry_frame, int limit)
{
    uintptr_t ra = entry_frame[1], sp = (uintptr_t)(entry_frame + 2);
    if (!(ra >= sa_unwind_self_lo && ra < sa_unwind_self_hi)) {
        sa_ucache_entry *e = sa_ucache_lookup(ra, sp, limit);
        if (!e) {
            uintptr_t frames[SNAPALLOC_MAX_FRAMES], slots[SNAPALLOC_MAX_FRAMES];
            int learnt, n;
            sa_ucache *c = sa_ucache_mine;
            if (__atomic_load_n(&sa_unwind_backend, __ATOMIC_RELAXED) == SA_UNWIND_LIBUNWIND)
                n = sa_unwind_cfa_walk(ra, sp, entry_frame[0], frames, slots, limit, &learnt,
                                       c ? &c->last : NULL);
            else
                n = sa_unwind_fp_walk(entry_frame, frames, slots, limit);
            if (n > 0 && !(e = sa_ucache_offer(ra, sp, limit, frames, slots, n)))
                return sa_stack_intern(frames, (uint32_t)n);
        }
        if (e) {
            if (!e->id || SA_STACK_GEN(e->id) != sa_stack_generation())
                e->id = sa_stack_intern(e->frame, e->n);
            return e->id;
        }
    }
    /* Not cached: our own frame (an unoptimized build's entry point
     * calls its traced path), or a stack the cache does not take. */
    uintptr_t frames[SNAPALLOC_MAX_FRAMES];
    int n = sa_unwind_capture(frames, limit);
    return sa_stack_intern(frames, n > 0 ? (uint32_t)n : 0);
}
