/* trace_ucache.c - the validated per-thread unwind cache (see
 * trace_ucache.h). */
#include "trace_ucache.h"

#include "internal.h"
#include "os.h"

SA_TLS sa_ucache *sa_ucache_mine;

SA_NOINLINE sa_ucache_entry *sa_ucache_offer(uintptr_t ra, uintptr_t sp, int limit,
                                             const uintptr_t *frames, const uintptr_t *slots,
                                             int n)
{
    if (limit <= 0 || limit > SA_UCACHE_FRAMES || n <= 0 || n > limit)
        return NULL;
    sa_ucache *c = sa_ucache_mine;
    if (!c) {
        size_t bytes = (sizeof(sa_ucache) + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
        if (!(c = sa_os_map(bytes, SA_OS_PAGE)))
            return NULL;
        sa_ucache_mine = c;
    }
    sa_ucache_entry *e = sa_ucache_entry_for(c, ra, sp);
    if (e->ra != ra || e->sp != sp || e->limit != limit) {
        /* First sighting of this key: remember it only.  A call site is
         * cached when it comes back, so one-off stacks (an interpreter's
         * deep, varied recursion) do not evict the loops' entries. */
        e->n = 0;
        e->ra = ra;
        e->sp = sp;
        e->limit = limit;
        return NULL;
    }
    e->n = 0;   /* invalid while being rewritten */
    for (int i = 0; i < n; i++) {
        e->frame[i] = frames[i];
        e->slot[i] = slots[i];
    }
    e->id = 0;
    e->n = (uint32_t)n;
    return e;
}
