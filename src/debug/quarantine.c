/* debug/quarantine.c - the debug mode's quarantine: freed blocks that are
 * not given back to the allocator until SNAPALLOC_DEBUG_QUARANTINE bytes
 * of later frees have pushed them out, so that a write after free lands
 * in a block still filled with 0xDD, and a double free finds the block
 * and its free stack.
 *
 * One ring per thread (a FIFO of RING_CAP entries), so that threads do
 * not meet on one lock for every free (larson, 4 threads: a third of
 * debug mode's time went to a global quarantine lock).  The bound is
 * global: a thread pushes its own oldest blocks out while its ring holds
 * more than the limit, or while the whole quarantine does (the sum of the
 * rings, published in steps of PUBLISH bytes), as many bytes as it just
 * put in, taking them first from rings whose threads ended.  Rings
 * outlive their threads: at thread exit the ring, blocks and all, waits
 * for the next new thread (so a block freed just before its thread ended
 * stays quarantined); frees after that thread's exit (other destructors)
 * go to a shared ring.
 *
 * A thread's own ring takes no lock: an atomic exchange per free was a
 * tenth of churn's time, as it waits for the stores of the 0xDD fill
 * just written.  Its entries are written with relaxed atomic stores and
 * its count after the entry, so that find (a double-free report, the
 * checks at exit, from any thread) reads them without a lock: an entry it
 * finds is re-read and must be unchanged (a block that left the ring
 * while it was read is not reported as quarantined).  The shared ring
 * has a spin lock.  Nothing here calls the allocator or the unwinder:
 * evicted blocks are handed back one at a time and checked and freed by
 * the caller (debug/debug.c).
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "common/compiler.h"
#include "common/os.h"
#include "debug/debug_int.h"

/* 2^15 entries of 32 bytes per ring, mapped when the ring is made,
 * touched as used. */
#define RING_CAP (1u << 15)
/* A ring's bytes are added to the global count in steps of this. */
#define PUBLISH (256u << 10)

typedef struct qring {
    int locked;                   /* atomic: the shared ring's lock */
    uint32_t head, count;         /* oldest entry, entries held */
    uint64_t held, published;     /* bytes held; of them, in global_held */
    uint64_t debt;                /* bytes still to push out (over the global bound) */
    sa_debug_qentry *e;           /* RING_CAP entries */
    struct qring *next;           /* all rings (push only) */
    struct qring *next_free;      /* rings waiting for a thread (under list_lock) */
} qring;

static uint64_t limit;            /* the bound, bytes */
static uint64_t global_held;      /* atomic: the rings' published bytes */
static qring *all_rings;          /* atomic push only */
static qring *free_rings;         /* under list_lock */
static uint32_t idle_blocks;      /* atomic: blocks in free_rings (written under list_lock) */
static int list_lock;
static qring *shared_ring;        /* for threads past their exit, and when a ring could not be made */
static pthread_key_t ring_key;
static int ring_key_ok;

/* The thread's ring; ring_state 2 once its ring was given up at exit. */
static SA_TLS qring *my_ring;
static SA_TLS int ring_state;

static void spin_lock(int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void spin_unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static qring *ring_new(void)
{
    qring *r = sa_os_map(sizeof *r, SA_OS_PAGE);
    if (!r)
        return NULL;
    r->e = sa_os_map((size_t)RING_CAP * sizeof *r->e, SA_OS_PAGE);
    if (!r->e) {
        sa_os_unmap(r, sizeof *r);
        return NULL;
    }
    qring *head = __atomic_load_n(&all_rings, __ATOMIC_RELAXED);
    do {
        r->next = head;
    } while (!__atomic_compare_exchange_n(&all_rings, &head, r, 1, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
    return r;
}

/* Thread exit: the ring waits, with its blocks, for the next thread. */
static void ring_thread_exit(void *arg)
{
    qring *r = arg;
    /* Its bytes exactly: nobody else will publish them until it is
     * taken over. */
    __atomic_fetch_add(&global_held, r->held - r->published, __ATOMIC_RELAXED);
    r->published = r->held;
    my_ring = NULL;
    ring_state = 2;
    spin_lock(&list_lock);
    r->next_free = free_rings;
    free_rings = r;
    __atomic_store_n(&idle_blocks, idle_blocks + r->count, __ATOMIC_RELAXED);
    spin_unlock(&list_lock);
}

void sa_debug_quarantine_init(uint64_t bytes)
{
    limit = bytes;
    ring_key_ok = pthread_key_create(&ring_key, ring_thread_exit) == 0;
    shared_ring = ring_new();
}

/* A ring of our own (a waiting one, or a new one), else the shared ring
 * (NULL only if even that could not be mapped).  Takes no lock while it
 * may allocate: pthread_setspecific may calloc, through ourselves. */
static qring *ring_get(void)
{
    qring *r = my_ring;
    if (SA_LIKELY(r != NULL))
        return r;
    if (ring_state == 2 || !ring_key_ok)
        return shared_ring;
    spin_lock(&list_lock);
    if ((r = free_rings) != NULL) {
        free_rings = r->next_free;
        __atomic_store_n(&idle_blocks, idle_blocks - r->count, __ATOMIC_RELAXED);
    }
    spin_unlock(&list_lock);
    if (!r)
        r = ring_new();
    if (!r)
        return shared_ring;
    if (pthread_setspecific(ring_key, r) != 0) {
        ring_thread_exit(r);   /* it would never be given back */
        ring_state = 0;
        return shared_ring;
    }
    my_ring = r;
    ring_state = 1;
    return r;
}

/* By r's owner (the shared ring: under its lock): its byte count
 * changed; publish it in steps. */
static void publish(qring *r)
{
    int64_t d = (int64_t)(r->held - r->published);
    if (d > (int64_t)PUBLISH || d < -(int64_t)PUBLISH) {
        __atomic_fetch_add(&global_held, (uint64_t)d, __ATOMIC_RELAXED);
        r->published = r->held;
    }
}

static int over(const qring *r)
{
    if (r->count == 0)
        return 0;
    if (r->held > limit || r->debt > 0)
        return 1;
    return 0;
}

/* The fields find reads from other threads: relaxed atomics (plain
 * moves on x86-64 and arm64). */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

SA_INLINE void pop(qring *r, sa_debug_qentry *out)
{
    *out = r->e[r->head];
    STORE(r->e[r->head].user, NULL);
    STORE(r->head, (r->head + 1) % RING_CAP);
    STORE(r->count, r->count - 1);
    r->held -= out->bytes;
    r->debt = r->debt > out->bytes && r->count ? r->debt - out->bytes : 0;
    publish(r);
}

/* The next blocks to leave are read (their guards and fill) when they
 * do, long after they were last touched: start loading them now, so that
 * their lines arrive while the program runs.  Each free pushes about one
 * block out, so one block a free is loaded, whole (up to 512 bytes), the
 * one PREFETCH_AHEAD places on: the ones before it were loaded by the
 * frees before (loading their first lines again every free was a fifth of
 * the push's instructions). */
#define PREFETCH_AHEAD 3
static void prefetch_next(const qring *r)
{
    if (r->count <= PREFETCH_AHEAD)
        return;
    const sa_debug_qentry *n = &r->e[(r->head + PREFETCH_AHEAD) % RING_CAP];
    const char *p = (const char *)n->base;
    size_t len = n->bytes < 512 ? n->bytes : 512;
    for (size_t i = 0; i < len; i += 64)
        __builtin_prefetch(p + i);
}

static void add(qring *r, const sa_debug_qentry *e)
{
    sa_debug_qentry *slot = &r->e[(r->head + r->count) % RING_CAP];
    /* The slot's old user was cleared when it left (pop): a reader that
     * saw that user must not take these fields for its (seqlock order). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    STORE(slot->base, e->base);
    STORE(slot->bytes, e->bytes);
    STORE(slot->alloc_id, e->alloc_id);
    STORE(slot->free_id, e->free_id);
    __atomic_store_n(&slot->user, e->user, __ATOMIC_RELEASE);
    __atomic_store_n(&r->count, r->count + 1, __ATOMIC_RELEASE);
    r->held += e->bytes;
    publish(r);
    uint64_t others = __atomic_load_n(&global_held, __ATOMIC_RELAXED) - r->published;
    if (others + r->held > limit)
        r->debt += e->bytes;   /* the whole quarantine is full: give back as much */
    else
        r->debt = 0;
}

/* Over the global bound: a block from a ring no thread owns (its thread
 * ended, and no new thread took the ring over yet) goes before our own,
 * or a program whose workers ended would keep their blocks and none of
 * its own.  Such a ring is ours under list_lock. */
static int pop_idle(qring *r, sa_debug_qentry *out)
{
    if (!__atomic_load_n(&idle_blocks, __ATOMIC_RELAXED))
        return 0;   /* the common case: no lock */
    int got = 0;
    spin_lock(&list_lock);
    for (qring *q = free_rings; q && !got; q = q->next_free)
        if (q->count)
            pop(q, out), got = 1;
    if (got)
        __atomic_store_n(&idle_blocks, idle_blocks - 1, __ATOMIC_RELAXED);
    spin_unlock(&list_lock);
    if (got)
        r->debt = r->debt > out->bytes ? r->debt - out->bytes : 0;
    return got;
}

unsigned sa_debug_quarantine_push(const sa_debug_qentry *e, sa_debug_qentry *out)
{
    qring *r = ring_get();
    if (!r) {
        /* no ring (out of memory): the block leaves at once */
        if (e)
            out[0] = *e;
        return e != NULL;
    }
    unsigned got = 0;
    int shared = r == shared_ring;
    if (shared)
        spin_lock(&r->locked);
    if (e) {
        if (r->count >= RING_CAP)
            pop(r, &out[got++]);
        add(r, e);
    }
    while (got < SA_DEBUG_EVICT_MAX) {
        if (r->held <= limit && r->debt > 0 && !shared && pop_idle(r, &out[got])) {
            got++;
            continue;
        }
        if (!over(r))
            break;
        pop(r, &out[got++]);
    }
    if (got < SA_DEBUG_EVICT_MAX)
        prefetch_next(r);
    if (shared)
        spin_unlock(&r->locked);
    return got;
}

/* Without the owner's cooperation (see the top): each slot's user first,
 * then the entry, then the user again. */
static int ring_find(qring *r, const void *user, sa_debug_qentry *out)
{
    int found = 0, shared = r == shared_ring;
    if (shared)
        spin_lock(&r->locked);
    uint32_t head = LOAD(r->head), count = __atomic_load_n(&r->count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < count && i < RING_CAP && !found; i++) {
        sa_debug_qentry *e = &r->e[(head + i) % RING_CAP];
        if (__atomic_load_n(&e->user, __ATOMIC_ACQUIRE) != user)
            continue;
        out->user = (void *)user;
        out->base = LOAD(e->base);
        out->bytes = LOAD(e->bytes);
        out->alloc_id = LOAD(e->alloc_id);
        out->free_id = LOAD(e->free_id);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        found = LOAD(e->user) == user;
    }
    if (shared)
        spin_unlock(&r->locked);
    return found;
}

int sa_debug_quarantine_find(const void *user, sa_debug_qentry *out)
{
    for (qring *r = __atomic_load_n(&all_rings, __ATOMIC_ACQUIRE); r; r = r->next)
        if (ring_find(r, user, out))
            return 1;
    return 0;
}

/* Fork: the list lock, then the shared ring's. */
void sa_debug_quarantine_prefork(void)
{
    spin_lock(&list_lock);
    if (shared_ring)
        spin_lock(&shared_ring->locked);
}

void sa_debug_quarantine_postfork_parent(void)
{
    if (shared_ring)
        spin_unlock(&shared_ring->locked);
    spin_unlock(&list_lock);
}

/* In the child only the forking thread lives: the other threads' rings
 * (their blocks still quarantined) wait for the child's next threads. */
/* In the child, the rings waiting on free_rings are as they were (the
 * fork held list_lock), and so are its own and the shared one.  The rings
 * of the parent's other threads are not: their owners push and pop with
 * no lock, and the fork may have copied one in the middle of a pop (its
 * head entry's user cleared, head or count not yet moved).  Popping one
 * gave a NULL or a stale block to evict (a crash in fork_threads under
 * debug mode, once in a dozen runs).  So they are left alone, their
 * blocks kept from reuse in the child, and their bytes taken out of the
 * bound, so the child's own blocks keep the whole quarantine. */
void sa_debug_quarantine_postfork_child(void)
{
    for (qring *r = __atomic_load_n(&all_rings, __ATOMIC_ACQUIRE); r; r = r->next) {
        r->locked = 0;
        int waiting = r == my_ring || r == shared_ring;
        for (qring *q = free_rings; q && !waiting; q = q->next_free)
            waiting = q == r;
        if (!waiting)
            global_held -= r->published < global_held ? r->published : global_held;
    }
    list_lock = 0;
}
