/* trace/ucache.c - the validated per-thread unwind cache (see
 * trace/ucache.h). */
#include "trace/ucache.h"

#include <pthread.h>

#include "alloc/alloc.h"
#include "common/os.h"

SA_TLS sa_ucache *sa_ucache_mine;

/* A thread's table is unmapped when it exits (its slots point into that
 * thread's stack: no other thread may inherit it). */
static pthread_key_t ucache_key;
static pthread_once_t ucache_key_once = PTHREAD_ONCE_INIT;
static int ucache_key_ok;

static size_t ucache_bytes(void)
{
    return (sizeof(sa_ucache) + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
}

static void ucache_thread_exit(void *arg)
{
    if (sa_ucache_mine == arg)
        sa_ucache_mine = NULL;
    sa_os_unmap(arg, ucache_bytes());
}

static void ucache_key_create(void)
{
    ucache_key_ok = pthread_key_create(&ucache_key, ucache_thread_exit) == 0;
}

SA_NOINLINE sa_ucache_entry *sa_ucache_offer(uintptr_t ra, uintptr_t sp, int limit,
                                             const uintptr_t *frames, const uintptr_t *slots,
                                             int n)
{
    if (limit <= 0 || limit > SA_UCACHE_FRAMES || n <= 0 || n > limit)
        return NULL;
    sa_ucache *c = sa_ucache_mine;
    if (!c) {
        pthread_once(&ucache_key_once, ucache_key_create);
        if (!ucache_key_ok || !(c = sa_os_map(ucache_bytes(), SA_OS_PAGE)))
            return NULL;
        /* May calloc (keys past glibc's first 32): we hold no lock and the
         * tracer's guard is set, so that allocation is simply untraced. */
        if (pthread_setspecific(ucache_key, c) != 0) {
            sa_os_unmap(c, ucache_bytes());
            return NULL;
        }
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
