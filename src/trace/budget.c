/* trace/budget.c - malloc's byte budget (trace/budget.h): settling what
 * malloc's fast path spent into the sampling and guard counts, and arming
 * it again from them. */
#include "trace/budget.h"

#include "alloc/heap.h"
#include "common/config_parse.h"
#include "debug/guard.h"
#include "trace/sample.h"
#include "trace/trace.h"

/* This thread's mean malloc size over its last settled budget: how many
 * bytes the guard count's allocations are likely to take. */
static SA_TLS uint64_t mean_size;

static int sampling(void)
{
    return sa_tracing() && __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED) != 0;
}

static int guarding(void)
{
    return (__atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED) & SA_TRACE_ON_GUARD) != 0;
}

/* What h's fast path spent since the budget was last armed or settled,
 * into both counts; the budget is then 0.  The counts never reach 0 here
 * (1: the next allocation that asks is the chosen one). */
static void settle(sa_heap *h)
{
    uint64_t left = __atomic_load_n(&h->budget, __ATOMIC_RELAXED);
    uint64_t armed = h->budget_armed;
    /* left > armed only after sa_budget_reset_all raced with this
     * thread: nothing is known to be spent. */
    uint64_t bytes = left <= armed ? armed - left : 0;
    /* Less than 0 when sa_guard_maybe counted an allocation the heap did
     * not make (a large block, a guarded one). */
    int64_t since = (int64_t)(h->nmalloc - h->budget_nmalloc);
    uint64_t mallocs = since > 0 ? (uint64_t)since : 0;
    __atomic_store_n(&h->budget, 0, __ATOMIC_RELAXED);
    h->budget_armed = 0;
    h->budget_nmalloc = h->nmalloc;
    if (mallocs)
        mean_size = bytes / mallocs;
    if (sampling())
        sa_sample_left = (uint64_t)sa_sample_left > bytes ? sa_sample_left - (int64_t)bytes : 1;
    if (guarding())
        sa_guard_left = (uint64_t)sa_guard_left > mallocs ? sa_guard_left - (int64_t)mallocs : 1;
}

void sa_budget_spent(size_t n)
{
    sa_heap *h = sa_tls_heap;
    if (!h)
        return;   /* no heap, so no budget: malloc did not subtract */
    h->budget += n;
    settle(h);
}

void sa_budget_arm(void)
{
    sa_heap *h = sa_tls_heap;
    if (!h)
        return;
    uint64_t b = SA_BUDGET_IDLE;
    if (sampling()) {
        /* At most the interval too: a request above it is always
         * recorded, so it must never fit the budget. */
        uint64_t t = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED);
        uint64_t s = sa_sample_left > 1 ? (uint64_t)sa_sample_left - 1 : 0;
        s = s < t ? s : t;
        b = s < b ? s : b;
    }
    if (guarding()) {
        /* g mallocs may pass before the chosen one.  Half of them, at the
         * mean size, end the budget well before it whatever the sizes do
         * (a budget that ran out exactly at the estimate would choose the
         * block that crossed it: a block size that recurs in step with
         * the estimate would be chosen far more often than others); the
         * last few go through the slow path one by one, so the chosen
         * block is the one the count reaches, as on the other entry
         * points. */
        uint64_t g = sa_guard_left > 1 ? (uint64_t)sa_guard_left - 1 : 0;
        uint64_t mean = mean_size < 16 ? 16 : mean_size;
        uint64_t gb = g <= SA_BUDGET_GUARD_NEAR ? 0 : g / 2 > b / mean ? b : g / 2 * mean;
        b = gb < b ? gb : b;
    }
    h->budget_armed = b;
    h->budget_nmalloc = h->nmalloc;
    __atomic_store_n(&h->budget, b, __ATOMIC_RELAXED);
}

int sa_budget_sample_decide(size_t size, uint64_t interval)
{
    sa_heap *h = sa_tls_heap;
    if (h)
        settle(h);
    int recorded = sa_sample_decide(size, interval);
    sa_budget_arm();
    return recorded;
}

static void reset_one(sa_heap *h, void *ctx)
{
    (void)ctx;
    __atomic_store_n(&h->budget, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->budget_armed, 0, __ATOMIC_RELAXED);
}

void sa_budget_reset_all(void)
{
    sa_heap_foreach(reset_one, NULL);
}

void sa_budget_postfork_child(void)
{
    sa_heap *h = sa_tls_heap;
    if (h) {
        h->budget = h->budget_armed = 0;
        h->budget_nmalloc = h->nmalloc;
    }
}
