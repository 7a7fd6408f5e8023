/* test_trace_sample.c - sampled tracing's arithmetic and decision
 * (trace/sample.h): the libm-free logarithm and 1 - exp(-x) against libm,
 * the weight of a recorded block, requests above the interval always
 * recorded without touching the count, nothing skipped when not
 * sampling, and the rate of recorded allocations over a long run with a
 * fixed seed (the estimator itself: tests/integration/sample.sh), and
 * malloc's byte budget spent as malloc spends it. */
#include <criterion/criterion.h>
#include <math.h>

#include "alloc/alloc.h"
#include "alloc/heap.h"
#include "trace/budget.h"
#include "trace/sample.h"
#include "trace/trace.h"

Test(sample, log_matches_libm)
{
    for (int i = 1; i <= 100000; i++) {
        double u = i / 100000.0;
        cr_assert(fabs(sa_sample_log(u) - log(u)) < 1e-12, "log(%g)", u);
    }
    cr_assert(fabs(sa_sample_log(1.0 / 9007199254740992.0) - log(1.0 / 9007199254740992.0)) < 1e-10);
}

Test(sample, neg_expm1_matches_libm)
{
    static const double xs[] = {1e-9, 1e-6, 1e-3, 0.01, 0.2, 0.4999, 0.5, 0.7, 1, 3, 10, 100, 800};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        double want = -expm1(-xs[i]);
        cr_assert(fabs(sa_sample_neg_expm1(xs[i]) - want) <= 1e-13 * want, "x=%g", xs[i]);
    }
}

Test(sample, weights)
{
    uint64_t bytes, blocks;
    sa_sample_weigh(64, 65536, &bytes, &blocks);
    double p = -expm1(-64.0 / 65536);
    cr_assert_eq(bytes, (uint64_t)(64 / p + 0.5));
    cr_assert_eq(blocks, (uint64_t)(SA_SAMPLE_ONE / p + 0.5));
    sa_sample_weigh(65537, 65536, &bytes, &blocks);   /* above the interval: itself */
    cr_assert_eq(bytes, 65537);
    cr_assert_eq(blocks, SA_SAMPLE_ONE);
    sa_sample_weigh(0, 65536, &bytes, &blocks);
    cr_assert_eq(bytes, 0);
    cr_assert_eq(blocks, SA_SAMPLE_ONE);
}

Test(sample, decisions)
{
    sa_trace_sample = 0;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(sa_sample_skip(16), 0, "not sampling: every allocation recorded");
    sa_sample_set_seed(7);
    sa_trace_sample = 4096;
    (void)sa_sample_skip(1);   /* seeds this thread */
    int64_t left = sa_sample_left;
    cr_assert_eq(sa_sample_skip(4097), 0, "above the interval: recorded");
    cr_assert_eq(sa_sample_left, left, "above the interval: the count untouched");
    /* 10^6 allocations of 64 bytes at 4 KiB: n p = 15504 recorded on
     * average, standard deviation 123; 6 of them either way. */
    long recorded = 0;
    for (int i = 0; i < 1000000; i++)
        recorded += !sa_sample_skip(64);
    double mean = 1e6 * -expm1(-64.0 / 4096);
    cr_assert(fabs(recorded - mean) < 6 * sqrt(mean), "%ld recorded, expected about %.0f", recorded,
              mean);
    sa_trace_sample = 0;
}

/* malloc's byte budget (trace/budget.h), spent as malloc's fast path
 * spends it (sa_heap_malloc_budgeted: a subtraction, and on a borrow
 * malloc_spent's settle, decide, arm): the same rate of recorded
 * allocations as the count alone, per size; a request above the interval
 * never fits the budget; and the budget asks little more often than the
 * count records (a fresh count over the interval asks once per interval
 * on its way down). */
Test(sample, budget_as_malloc_spends_it)
{
    void *keep = sa_heap_malloc(16);   /* this thread's heap */
    cr_assert_not_null(keep);
    sa_heap *h = sa_tls_heap;
    cr_assert_not_null(h);
    sa_sample_set_seed(9);
    sa_trace_sample = 4096;
    sa_trace_on = SA_TRACE_ON_TRACER;
    sa_budget_reset_all();
    cr_assert_eq(h->budget, 0, "a mode change zeroes every budget");
    static const size_t sizes[] = {64, 1000};
    long recorded[2] = {0, 0}, asked = 0;
    for (int i = 0; i < 1000000; i++) {
        size_t n = sizes[i & 1];
        if (!sa_budget_take(&h->budget, n))
            continue;
        asked++;
        sa_budget_spent(n);
        recorded[i & 1] += !sa_sample_skip(n);
        sa_budget_arm();
        cr_assert_leq(h->budget, 4096, "the budget is above the interval");
    }
    long total = 0;
    for (int k = 0; k < 2; k++) {
        double p = -expm1(-(double)sizes[k] / 4096), mean = 5e5 * p, sd = sqrt(5e5 * p * (1 - p));
        cr_assert(fabs(recorded[k] - mean) < 6 * sd, "%zu bytes: %ld recorded, expected about %.0f",
                  sizes[k], recorded[k], mean);
        total += recorded[k];
    }
    cr_assert(asked < 2 * total, "%ld asks for %ld recorded", asked, total);
    for (int i = 0; i < 100; i++) {
        cr_assert(sa_budget_take(&h->budget, 4097), "a request over the interval fit the budget");
        sa_budget_spent(4097);
        cr_assert_eq(sa_sample_skip(4097), 0);
        sa_budget_arm();
    }
    /* Nothing counts: the idle budget. */
    sa_trace_on = 0;
    sa_trace_sample = 0;
    sa_budget_arm();
    cr_assert_eq(h->budget, SA_BUDGET_IDLE);
    sa_free(keep);
}
