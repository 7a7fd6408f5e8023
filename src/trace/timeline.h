/* trace/timeline.h - the run's memory over time: a bounded series of
 * (time, traced current, RSS) points that every snapshot carries
 * (format/snapshot.h's timeline section).
 *
 * Bounded memory whatever the run's length: SA_TIMELINE_POINTS points at
 * most, taken at least period_ns apart; when the array is full every
 * other point is dropped (the newest kept) and the period doubles, so a
 * run of any length keeps between half and all of the points, evenly
 * spread over it.  The logic (sa_timeline_*) is pure, for the unit tests;
 * the tracer's one instance and its lock are trace.c's (sa_trace_point).
 */
#ifndef SA_TRACE_TIMELINE_H
#define SA_TRACE_TIMELINE_H

#include <stdint.h>

#include "format/snapshot.h"

#define SA_TIMELINE_POINTS 512
#define SA_TIMELINE_PERIOD_NS 10000000ull   /* 10 ms at the start */

typedef struct sa_timeline {
    uint32_t n;
    uint64_t period_ns;   /* the least spacing of points (but a snapshot's) */
    sa_snap_point pt[SA_TIMELINE_POINTS];
} sa_timeline;

void sa_timeline_init(sa_timeline *t, uint64_t period_ns);
/* Whether a point at now would be kept (its period since the last). */
int sa_timeline_due(const sa_timeline *t, int64_t now);
/* Add a point.  A point not due is dropped, unless replace: then it takes
 * the last point's place (a snapshot's point: the series ends with the
 * state the snapshot shows).  Time never goes back in the series (an
 * earlier now is taken as the last point's time).  Returns 1 if the
 * point was stored. */
int sa_timeline_add(sa_timeline *t, int64_t now, uint64_t traced, uint64_t rss, int replace);

#endif
