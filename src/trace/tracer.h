/* trace/tracer.h - the tracer's state shared by its files (private to
 * src/trace): the recording path (trace.c) owns the counters and the
 * switches it reads on every traced allocation, the capture (capture.c)
 * the unwinder and our own text range, the snapshot writer (dump.c) and
 * the API (api.c) their locks.
 *
 * Invariants:
 *   - sa_trace_limit > 0 only while tracing (sa_trace_on) and after the
 *     unwinder is set up; 0 while starting or stopping (nothing recorded);
 *   - sa_trace_lazy is set once, before tracing starts, and never changes:
 *     with it free() never calls the tracer and tags of freed blocks go
 *     stale (walk.h tells them apart);
 *   - sa_traced.current is the traced current minus the changes pending
 *     in the threads' counter caches (sa_trace_current_now adds them);
 *     sa_traced.peak >= every value sa_traced.current has had;
 *   - lock order: sa_trace_ctl_lock, then sa_trace_snap_lock, then the
 *     stack table's, then the allocator's, then sa_trace_mark_lock; none is held across a call
 *     that may allocate through us except with the guard set.
 */
#ifndef SA_TRACE_TRACER_H
#define SA_TRACE_TRACER_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "common/compiler.h"
#include "common/lock.h"
#include "format/snapshot.h"
#include "trace/sample.h"

/* Frame pointers in the functions on the capture path, whatever the
 * build flags, so the fp walker can cross them (trace/unwind_fp.c). */
#define SA_FRAME __attribute__((optimize("no-omit-frame-pointer")))

/* The traced-memory counters share a cache line on purpose: every traced
 * malloc touches both.  And only they: in a multi-threaded program the
 * line moves between cores, and a variable beside them (sa_trace_limit
 * was, read on every traced malloc: 70% of larson's traced malloc path
 * with 4 threads) would miss on every read. */
typedef struct sa_traced_counters {
    size_t current;
    size_t peak;
    size_t fall_mark;      /* a free that takes current below: the slow path
                              (a timeline point, the high-water mark file) */
    char pad[64 - 3 * sizeof(size_t)];
} __attribute__((aligned(64))) sa_traced_counters;

/* trace.c: the recording path's state and counters. */
extern SA_HIDDEN sa_traced_counters sa_traced;
extern SA_HIDDEN int sa_trace_limit;        /* frames per stack; see above */
extern SA_HIDDEN int sa_trace_lazy;         /* lazy counting (the leak check) */
extern SA_HIDDEN size_t sa_trace_peak_next; /* traced current that fires a peak snapshot */
size_t sa_trace_current_now(void);          /* with the pending changes */
void sa_trace_peak_update(size_t cur);
/* Zero the counters and re-arm the peak trigger (start, clear). */
void sa_trace_counters_reset(void);
/* SNAPALLOC_PEAK=auto: the high-water mark file, from this much traced
 * memory up (trace.c). */
#define SA_TRACE_PEAK_FLOOR ((size_t)1 << 20)
/* Write the high-water mark file now if a peak is pending (at exit). */
void sa_trace_peak_flush(void);

/* The timeline (trace/timeline.h): take a point of traced current cur
 * now (replace: a snapshot's point, kept even when not due), and re-arm
 * the marks whose crossing takes the next one.  No allocation, no
 * waiting; errno preserved.  _copy fills dst (SA_TIMELINE_POINTS) and
 * returns the count; _postfork frees the series' lock and the high-water
 * mark's in a fork child. */
void sa_trace_point(size_t cur, int replace);
uint32_t sa_trace_timeline_copy(sa_snap_point *dst);
void sa_trace_timeline_postfork(void);

/* The bytes a tag of requested size recsize stands for.  Blocks of 4 GiB
 * or more keep UINT32_MAX in their tag; they are counted by usable size
 * on both alloc and free so the counters stay balanced (the reported size
 * is then rounded up to the allocator's granularity, a page). */
SA_INLINE size_t sa_trace_block_size(void *ptr, uint32_t recsize)
{
    return recsize == UINT32_MAX ? sa_usable_size(ptr) : recsize;
}

/* The bytes the counters take for a block of requested size recsize:
 * sa_trace_block_size, or under sampling what the block stands for
 * (sample.h), so that the traced current and peak are estimates too. */
SA_INLINE size_t sa_trace_block_bytes(void *ptr, uint32_t recsize)
{
    size_t b = sa_trace_block_size(ptr, recsize);
    uint64_t t = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED);
    if (SA_LIKELY(t == 0))
        return b;
    uint64_t bytes, blocks;
    sa_sample_weigh(b, t, &bytes, &blocks);
    return (size_t)bytes;
}

/* capture.c: the unwinder in use (SA_UNWIND_*) and libsnapalloc's text,
 * whose frames a captured stack never starts with. */
extern SA_HIDDEN int sa_unwind_backend;
extern SA_HIDDEN uintptr_t sa_unwind_self_lo, sa_unwind_self_hi;

/* dump.c: one snapshot writer at a time; the %n of the last snapshot;
 * every stack's live totals recounted from the tags (under the lock),
 * with the live blocks by size into sa_trace_hist_* (bucket:
 * sa_snap_hist_bucket of the block's counted bytes); the peak file. */
extern SA_HIDDEN sa_lock sa_trace_snap_lock;
/* Sampled tracing's page marks (trace.c); a leaf: nothing is called
 * under it. */
extern SA_HIDDEN sa_lock sa_trace_mark_lock;
extern SA_HIDDEN uint32_t sa_trace_sequence;
extern SA_HIDDEN uint64_t sa_trace_hist_count[SA_SNAP_HIST_BUCKETS];
extern SA_HIDDEN uint64_t sa_trace_hist_size[SA_SNAP_HIST_BUCKETS];
void sa_trace_recount(void);
/* The high-water mark file (the template with %n as "peak"): capture the
 * state now, written at once if the last file is a second old, else
 * later (-EALREADY if a snapshot is being written).  _write_due writes a
 * capture not written yet (wait 0: only if the last file is a second old
 * and no snapshot is being written; 1: now, at exit).  _discard drops the
 * capture (the stack table is reset). */
int sa_trace_dump_peak(char *used);
int sa_trace_peak_write_due(char *used, int wait);
void sa_trace_peak_discard(void);

/* api.c: start/stop/clear. */
extern SA_HIDDEN sa_lock sa_trace_ctl_lock;

#endif
