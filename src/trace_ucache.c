/* trace_ucache.c - the validated per-thread unwind cache (see
 * trace_ucache.h). */
#include "trace_ucache.h"

#include "internal.h"
#include "os.h"

#define UCACHE_ENTRIES 64   /* direct-mapped, per thread (35 KiB) */

typedef struct ucache {
    sa_ucache_entry e[UCACHE_ENTRIES];
} ucache;

static SA_TLS ucache *my_ucache;

static inline sa_ucache_entry *entry_for(ucache *c, uintptr_t ra, uintptr_t sp)
{
    uintptr_t h = (ra ^ (sp >> 4)) * 0x9e3779b97f4a7c15ull;
    return &c->e[h >> (64 - 6)];
}

sa_ucache_entry *sa_ucache_lookup(uintptr_t ra, uintptr_t sp, int limit)
{
    ucache *c = my_ucache;
    if (!c)
        return NULL;
    sa_ucache_entry *e = entry_for(c, ra, sp);
    if (e->n == 0 || e->ra != ra || e->sp != sp || e->limit != limit)
        return NULL;
    for (uint32_t i = 1; i < e->n; i++)
        if (*(const volatile uintptr_t *)e->slot[i] != e->frame[i])
            return NULL;
    return e;
}

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
