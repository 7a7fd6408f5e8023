/* trace_ucache.c - the validated per-thread unwind cache (see
 * trace_ucache.h). */
#include "trace_ucache.h"

#include "internal.h"
#include "os.h"

typedef sa_ucache ucache;

SA_TLS ucache *sa_ucache_mine;
#define my_ucache sa_ucache_mine
#define entry_for sa_ucache_entry_for

SA_NOINLINE sa_ucache_entry *sa_ucache_offer(uintptr_t ra, uintptr_t sp, int limit,
                                             const uintptr_t *frames, const uintptr_t *slots,
                                             int n)
{
    if (limit <= 0 || limit > SA_UCACHE_FRAMES || n <= 0 || n > limit)
        return NULL;
    ucache *c = my_ucache;
    if (!c) {
        size_t bytes = (sizeof(ucache) + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
        if (!(c = sa_os_map(bytes, SA_OS_PAGE)))
            return NULL;
        my_ucache = c;
    }
    for (int i = 1; i < n; i++)
        if (!slots[i])
            return NULL;   /* through a signal frame: not cacheable */
    sa_ucache_entry *e = entry_for(c, ra, sp);
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
