/* common/lock.h - the allocator's lock.  A plain pthread mutex: it never
 * allocates, sleeps instead of spinning when the holder is preempted (we
 * run on machines with few cores), and is covered by the fork handlers
 * (every sa_lock in the library must be listed there: the allocator's in
 * alloc/init.c, the tracer's in trace/api.c, registered in that order by
 * preload/lifecycle.c).
 */
#ifndef SA_LOCK_H
#define SA_LOCK_H

#include <pthread.h>

typedef pthread_mutex_t sa_lock;
#define SA_LOCK_INIT PTHREAD_MUTEX_INITIALIZER

static inline void sa_lock_acquire(sa_lock *l) { pthread_mutex_lock(l); }
static inline void sa_lock_release(sa_lock *l) { pthread_mutex_unlock(l); }
/* In a fork child: the lock was held by the forking thread (prefork). */
static inline void sa_lock_reinit(sa_lock *l)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    *l = fresh;
}

#endif
