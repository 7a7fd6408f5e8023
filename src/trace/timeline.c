/* trace/timeline.c - the bounded series of memory over time
 * (trace/timeline.h): adding a point, halving the resolution when full.
 * Pure: no clock, no locks (the caller's).
 */
#include "trace/timeline.h"

void sa_timeline_init(sa_timeline *t, uint64_t period_ns)
{
    t->n = 0;
    t->period_ns = period_ns ? period_ns : 1;
}

int sa_timeline_due(const sa_timeline *t, int64_t now)
{
    return t->n == 0 || now - t->pt[t->n - 1].time_ns >= (int64_t)t->period_ns;
}

/* Keep every other point, the newest among them, and double the period:
 * the points left are at least the new period apart (give or take the
 * snapshots' points). */
static void halve(sa_timeline *t)
{
    uint32_t k = 0;
    for (uint32_t i = t->n & 1 ? 0 : 1; i < t->n; i += 2)
        t->pt[k++] = t->pt[i];
    t->n = k;
    if (t->period_ns <= UINT64_MAX / 2)
        t->period_ns *= 2;
}

int sa_timeline_add(sa_timeline *t, int64_t now, uint64_t traced, uint64_t rss, int replace)
{
    if (t->n && now < t->pt[t->n - 1].time_ns)
        now = t->pt[t->n - 1].time_ns;   /* the clock was set back */
    if (!sa_timeline_due(t, now)) {
        if (!replace)
            return 0;
        t->n--;
    }
    if (t->n == SA_TIMELINE_POINTS)
        halve(t);
    t->pt[t->n++] = (sa_snap_point){.time_ns = now, .traced = traced, .rss = rss};
    return 1;
}
