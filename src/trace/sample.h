/* trace/sample.h - sampled tracing (private to src/trace): which
 * allocations the tracer records when SNAPALLOC_SAMPLE (or
 * snapalloc_start_sampled) sets a mean interval T, and what a recorded
 * block then stands for.
 *
 * Each thread counts down the bytes it allocates from a number drawn from
 * an exponential distribution of mean T (a Poisson process over the
 * bytes, as tcmalloc, jemalloc and Go sample); the allocation that takes
 * the count to zero or below is recorded and a new count is drawn from
 * its end.  By memorylessness every allocation of s <= T bytes is then
 * recorded with probability p(s) = 1 - exp(-s/T), independently of the
 * others, and one recorded block stands for s / p(s) bytes and 1 / p(s)
 * blocks: an unbiased estimate.  A request of more than T bytes is always
 * recorded (p = 1) and leaves the count alone.
 *
 * An unrecorded block has no record, and free() does not call the
 * tracer for it: the tracer marks the page of each block it records for
 * the slow free (alloc/pagemap.h), and only frees in marked pages and of
 * large blocks reach it (alloc/alloc_inline.h's sa_free_forget).
 * malloc's fast path spends from a byte budget armed below the count
 * (trace/budget.h) and reaches the count only when it runs out; the
 * other entry points' traced path below spends from the same budget.
 * Everything else (seeding, drawing) is in sample.c, out of line.
 */
#ifndef SA_TRACE_SAMPLE_H
#define SA_TRACE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/heap.h"
#include "common/compiler.h"

/* The upper bound of the mean interval (SNAPALLOC_SAMPLE, the API): the
 * snapshot file stores it in a u32 (doc/snapshot-format.md). */
#define SA_SAMPLE_MAX ((uint64_t)1 << 30)

/* The mean interval T in bytes; 0: every allocation is recorded.  Set
 * only by snapalloc_start/_sampled (under the control lock) before the
 * generation whose tags it weighs. */
extern SA_HIDDEN uint64_t sa_trace_sample;
/* This thread's bytes left before the next recorded allocation. */
extern SA_TLS SA_HIDDEN int64_t sa_sample_left;

/* Out of line: whether an allocation of size bytes is recorded: always
 * above the interval (the count left alone); else the count runs on, or
 * crosses zero (recorded, a new count drawn).  A new thread or interval
 * draws a fresh count first. */
int sa_sample_decide(size_t size, uint64_t interval);

/* sa_sample_skip's slow path (trace/budget.h): settles malloc's byte
 * budget into the count, decides, arms the budget again. */
int sa_budget_sample_decide(size_t size, uint64_t interval);

/* Whether to skip (not record) an allocation of size bytes: it fits the
 * thread's byte budget (trace/budget.h), which is below the count, and
 * is taken from it; else sa_budget_sample_decide says. */
SA_INLINE int sa_sample_skip(size_t size)
{
    uint64_t interval = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED);
    if (SA_LIKELY(interval == 0))
        return 0;
    sa_heap *h = sa_tls_heap;
    if (SA_LIKELY(h != NULL) && SA_LIKELY(size <= h->budget)) {
        h->budget -= size;
        return 1;
    }
    return !sa_budget_sample_decide(size, interval);
}

/* 1 - exp(-x) for x >= 0, accurate for small x too (no libm). */
double sa_sample_neg_expm1(double x);
/* The natural logarithm of u in (0, 1] (no libm). */
double sa_sample_log(double u);

/* What one recorded block of b bytes stands for at interval t (t != 0):
 * the estimated bytes, and blocks in units of 1/SA_SAMPLE_ONE (1/p is
 * 16.5 for a 4 KiB block at 64 KiB: rounding each block's count to an
 * integer would bias the total by 3%). */
#define SA_SAMPLE_ONE ((uint64_t)1 << 16)
void sa_sample_weigh(uint64_t b, uint64_t t, uint64_t *bytes, uint64_t *blocks);

/* The configured seed (SNAPALLOC_SAMPLE_SEED, tests only; 0: from the
 * clock), and a fork child re-seeding its one thread. */
void sa_sample_set_seed(uint64_t seed);
void sa_sample_postfork_child(void);

#endif
