/* test_trace_sample.c - sampled tracing's arithmetic and decision
 * (trace/sample.h): the libm-free logarithm and 1 - exp(-x) against libm,
 * the weight of a recorded block, requests above the interval always
 * recorded without touching the count, nothing skipped when not
 * sampling, and the rate of recorded allocations over a long run with a
 * fixed seed (the estimator itself: tests/integration/sample.sh). */
#include <criterion/criterion.h>
#include <math.h>

#include "trace/sample.h"

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
