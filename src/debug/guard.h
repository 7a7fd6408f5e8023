/* debug/guard.h - sampled guard pages (SNAPALLOC_GUARD), GWP-ASan's design:
 * one allocation in N on average (up to SA_MEDIUM_MAX bytes) gets a slot
 * of its own in a pool of slots separated by inaccessible guard pages,
 * placed against the guard page after it (or, with
 * SNAPALLOC_GUARD_UNDERFLOW=1, before it), and becomes inaccessible when
 * freed.  A read or write past its end, before its start or after its
 * free faults at once; the fault handler (debug/guard.c) reports the
 * block's allocation and free stacks and the faulting access in debug
 * mode's report format, then lets the program die of the signal.
 *
 * The entry points reach the sampling from the paths they take when
 * sa_trace_on is nonzero (guard mode sets its SA_TRACE_ON_GUARD bit);
 * malloc's fast path spends a byte budget armed from the count (trace/
 * budget.h) and reaches it only when that runs out; free() of a guarded block gets to
 * sa_free_other (the pool's granules have a page-map leaf but no entry),
 * which hands it here.
 */
#ifndef SA_GUARD_H
#define SA_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/tag.h"
#include "common/compiler.h"
#include "common/config_parse.h"   /* SA_GUARD_DEFAULT_RATE... */
#include "trace/trace.h"

#define SA_GUARD_FRAMES 24            /* stack depth kept per slot */

/* This thread's allocations left before the next guarded one. */
extern SA_TLS SA_HIDDEN int64_t sa_guard_left;

/* Out of line: the allocation the count chose (draws the next count);
 * the guarded block, or NULL when n does not fit a slot, the pool is
 * full or the tracer is running (then the allocator serves it). */
void *sa_guard_sampled(size_t n, size_t align, int api);

/* The entry points' one hook: a guarded block for this allocation, or
 * NULL (nearly always: one thread-local decrement). */
SA_INLINE void *sa_guard_maybe(size_t n, size_t align, int api)
{
    if (SA_LIKELY(!(__atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED) & SA_TRACE_ON_GUARD)))
        return NULL;
    /* Counted here, so not again when the budget settles the heap's
     * mallocs (trace/budget.h): the heap's count of them is about to
     * take this one. */
    sa_heap *h = sa_tls_heap;
    if (h)
        h->budget_nmalloc++;
    if (SA_LIKELY(--sa_guard_left > 0))
        return NULL;
    return sa_guard_sampled(n, align, api);
}

/* calloc's: n * size bytes (zero: a slot's pages are fresh). */
SA_INLINE void *sa_guard_maybe_calloc(size_t n, size_t size, int api)
{
    size_t total;
    if (SA_LIKELY(!(__atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED) & SA_TRACE_ON_GUARD)) ||
        __builtin_mul_overflow(n, size, &total))
        return NULL;
    return sa_guard_maybe(total, 0, api);
}

/* Whether p is inside the pool (any slot, live or not). */
int sa_guard_owns(const void *p);
/* free() of p in the pool (sa_free_other); 0 if p is not in it. */
int sa_guard_free(void *p);
/* The requested size of live guarded block p, or 0. */
size_t sa_guard_usable(const void *p);
/* The tracer's record of live guarded block p, or NULL. */
sa_tag *sa_guard_tag(const void *p);
/* realloc of guarded block p: a new block (malloc), the old one freed. */
void *sa_guard_realloc(void *p, size_t n);

/* Start-up (preload/lifecycle.c), after the tracer and debug mode: map
 * the pool, install the fault handler, turn sampling on. */
void sa_guard_start(void);
/* Fork (called by debug mode's handlers). */
void sa_guard_prefork(void);
void sa_guard_postfork_parent(void);
void sa_guard_postfork_child(void);

#endif
