/* test_trace_timeline.c - the timeline's bounded series
 * (trace/timeline.c): points kept at least a period apart, a snapshot's
 * point replacing the last, the clock set back, and the halving when
 * full: after any number of points at most SA_TIMELINE_POINTS are kept,
 * at least half of them, in time order, the newest always among them and
 * spread over the whole run.
 */
#include <criterion/criterion.h>

#include <stdint.h>

#include "trace/timeline.h"

static sa_timeline t;

Test(timeline, period_drops_close_points)
{
    sa_timeline_init(&t, 100);
    cr_assert_eq(sa_timeline_add(&t, 1000, 1, 10, 0), 1);
    cr_assert_eq(sa_timeline_add(&t, 1099, 2, 20, 0), 0, "closer than the period");
    cr_assert_eq(t.n, 1);
    cr_assert_eq(sa_timeline_add(&t, 1100, 3, 30, 0), 1);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.pt[1].time_ns, 1100);
    cr_assert_eq(t.pt[1].traced, 3);
    cr_assert_eq(t.pt[1].rss, 30);
}

Test(timeline, snapshot_point_replaces_the_last)
{
    sa_timeline_init(&t, 100);
    sa_timeline_add(&t, 1000, 1, 10, 0);
    sa_timeline_add(&t, 2000, 2, 20, 0);
    cr_assert_eq(sa_timeline_add(&t, 2050, 5, 50, 1), 1);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.pt[1].time_ns, 2050);
    cr_assert_eq(t.pt[1].traced, 5);
    cr_assert_eq(sa_timeline_add(&t, 3000, 6, 60, 1), 1, "due: added");
    cr_assert_eq(t.n, 3);
}

Test(timeline, clock_set_back_keeps_order)
{
    sa_timeline_init(&t, 100);
    sa_timeline_add(&t, 5000, 1, 10, 0);
    cr_assert_eq(sa_timeline_add(&t, 4000, 2, 20, 0), 0, "earlier: as the last time, not due");
    cr_assert_eq(sa_timeline_add(&t, 4000, 3, 30, 1), 1);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(t.pt[0].time_ns, 5000);
    cr_assert_eq(t.pt[0].traced, 3);
}

/* A long run: a million points a period apart. */
Test(timeline, bounded_and_spread_after_a_long_run)
{
    sa_timeline_init(&t, 10);
    const int64_t total = 1000000;
    for (int64_t i = 0; i < total; i++) {
        int64_t now = i * 10;
        sa_timeline_add(&t, now, (uint64_t)i, (uint64_t)i * 2, 0);
        cr_assert_leq(t.n, SA_TIMELINE_POINTS);
    }
    cr_assert_geq(t.n, SA_TIMELINE_POINTS / 2, "%u points", t.n);
    /* The series reaches the run's end: the newest point is kept when
     * halving. */
    cr_assert_geq(t.pt[t.n - 1].time_ns, (total - 1) * 10 - (int64_t)t.period_ns);
    for (uint32_t i = 1; i < t.n; i++) {
        cr_assert_lt(t.pt[i - 1].time_ns, t.pt[i].time_ns);
        /* Evenly spread: no gap larger than twice the final period. */
        cr_assert_leq(t.pt[i].time_ns - t.pt[i - 1].time_ns, (int64_t)(2 * t.period_ns));
        cr_assert_eq(t.pt[i].rss, 2 * t.pt[i].traced);
    }
    /* The first point is from the run's first 2 periods' worth. */
    cr_assert_leq(t.pt[0].time_ns, (int64_t)(2 * t.period_ns));
    /* 10 ns doubled until 512 points cover 10 ms: 2^k * 10 * 512 >= 1e7. */
    cr_assert_eq(t.period_ns, 10u << 11, "period %llu", (unsigned long long)t.period_ns);
}

/* Snapshot points alone (all replacing) never grow the series past the
 * bound either. */
Test(timeline, snapshot_storm_is_bounded)
{
    sa_timeline_init(&t, 1000);
    for (int64_t i = 0; i < 100000; i++)
        sa_timeline_add(&t, i, (uint64_t)i, 1, 1);
    cr_assert_leq(t.n, SA_TIMELINE_POINTS);
    cr_assert_eq(t.pt[t.n - 1].traced, 99999);
}
