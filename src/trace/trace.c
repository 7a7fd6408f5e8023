/* trace/trace.c - the tracer's recording path: recording live blocks by
 * stack in their tags, and the traced-memory counters.  (Capture:
 * capture.c; snapshots: dump.c; the public API: api.c; shared state:
 * tracer.h.)
 *
 * Per traced malloc (sa_trace_alloc, called by preload/override.c after the
 * allocator returned and released its locks):
 *
 *     guard set?  -> return (the allocation comes from the tracer itself)
 *     capture the stack (trace_unwind*.c)       ~ all of the cost
 *     intern it (trace/stack.c)                 lock-free when known
 *     record {stack id, size} in the block's 8-byte slot (allocator metadata)
 *     (the leak check stops here: lazy_counters below)
 *     traced current += size, peak = max        a plain add while single-
 *                                               threaded, batched per thread
 *                                               when several trace, rare CAS
 *     current >= trigger_at?  -> slow path (peak snapshot, timeline point,
 *                                          helper restart)
 *
 * and per traced free: read and clear the block's record, traced current
 * -= its size (below the fall mark? a timeline point or the high-water
 * mark file, the slow path).  The stacks' live sizes and counts are not
 * touched: a snapshot recounts them from the records (recount_stacks), which are
 * exact by construction.  Counting per stack on every call cost a lookup
 * in a per-thread counter cache in each malloc and free: 9% of traced
 * churn's instructions, and 10-25% of its time over interleaved runs (a
 * longer path also keeps the CPU from overlapping the program's own cache
 * misses across calls).
 *
 * The reentrancy guard is a thread-local flag set for the whole call:
 * everything the tracer calls that may allocate (libunwind's caches,
 * pthread_getattr_np, dl_iterate_phdr, pthread_create, the record storage)
 * then gets plain, untraced memory.  The tracer's locks (the stack table's
 * insertion lock, the snapshot lock, the control lock) are never held
 * while calling anything that allocates, so a traced malloc can never wait
 * on a lock its own thread holds.
 *
 * Generations: snapalloc_clear_traces() and snapalloc_stop() start a new
 * stack-table generation; records still carrying an old id are ignored on
 * free, so nothing walks the heap.  The 8-bit generation wraps after 255
 * clears: a block traced 255 clears ago and still alive could then be
 * subtracted from an unrelated stack (the counters are signed and the
 * snapshot clamps at 0).
 */
#include "trace/trace.h"

#include <errno.h>
#include <sys/single_threaded.h>
#include <string.h>
#include <time.h>

#include "alloc/alloc_inline.h"
#include "alloc/alloc.h"
#include "common/config.h"
#include "common/lock.h"
#include "common/os.h"
#include "snapalloc.h"
#include "format/snapshot.h"
#include "trace/config.h"
#include "trace/sample.h"
#include "trace/stack.h"
#include "trace/timeline.h"
#include "trace/tracer.h"
#include "trace/ucache.h"
#include "trace/unwind.h"

int sa_trace_on;
int sa_trace_free_on;
int sa_trace_malloc_all;

static SA_TLS int guard;

int sa_trace_limit;
sa_traced_counters sa_traced;

/* Lazy counting, for the leak check (set once, before tracing starts).
 * A check needs the records (what is live, from where) but not even the
 * traced current while the program runs: it counts leaks at exit, and
 * its baseline and exit snapshots recount everything from the records
 * (sa_trace_recount, a walk of every record that asks each block whether
 * it is free).  So a traced malloc only writes its record, and free()
 * does not call the tracer at all (sa_trace_free_on stays 0): the freed
 * block's record goes stale, and the block's free key (alloc/arena.h)
 * says it is dead.  Reading or even clearing the record in free() was a
 * cache miss per free for a block allocated long ago, and the longer path
 * kept the CPU from overlapping the program's own misses (churn under the
 * check: 2.2x -> 1.6x the plain run with a blind clear, 1.45x with none).
 * Not with peak snapshots, which need the live total at every malloc;
 * snapalloc_get_traced_memory() recounts, so its peak is the highest
 * total it (or a snapshot) has seen. */
int sa_trace_lazy;

/* Slow-path threshold: the next peak snapshot or timeline point, the
 * lower (or 0 to force the slow path).  SIZE_MAX when nothing is armed. */
static size_t trigger_at = SIZE_MAX;
size_t sa_trace_peak_next = SIZE_MAX;
static int slow_requested;

/* The timeline: a point when the traced current moves by a 16th (256 KiB
 * at least) from the last one's: up, seen by the malloc that crosses
 * timeline_high (the slow path, through trigger_at: nothing added to
 * the malloc path); down, by the free that crosses timeline_low (through
 * sa_traced.fall_mark: one compare on the traced free path, on the
 * counters' line, shared with the high-water mark's).  Every snapshot
 * adds one too.  So the points cost a clock read and a read of
 * /proc/self/statm each, at most one per period, and the series follows
 * every move of a 16th.  A thread of our
 * own could sample by time, but a second thread would turn every traced
 * malloc of a single-threaded program from a plain add into a locked
 * one (current_add). */
#define TIMELINE_STEP_MIN ((size_t)256 << 10)
static size_t timeline_high = SIZE_MAX;
static size_t timeline_low;
static sa_timeline timeline = {.n = 0, .period_ns = SA_TIMELINE_PERIOD_NS};
static int timeline_busy;   /* the series' lock: taken by trylock only */

/* The high-water mark (SNAPALLOC_PEAK=auto): one file holding the live
 * blocks of a moment whose traced total is within 1% of the run's peak.
 * Writing it at every 1% of growth would recount every record each time:
 * 100 x ln(peak / 1 MiB) recounts for a program that only grows (traced
 * churn took 1.1x to 2.4x as long in three interleaved runs; 10% is
 * allowed).  So it is written when
 * memory starts to fall from a peak instead, once per peak:
 *
 *   - a malloc that takes the current to peak_next (0.5% above the last
 *     crossing, through trigger_at) marks a peak pending at that level C
 *     and arms peak_fall at 0.995 C: no write;
 *   - the free that would take the current below peak_fall writes the
 *     file from the state just before it (its block put back for the
 *     write), whose total is >= 0.995 C, while the true peak was < 1.005 C:
 *     within 1%, whatever the size of the block freed;
 *   - the next peak is pending only above 1/0.99 of the total written;
 *   - a peak still pending at exit is written then (the state at exit is
 *     >= 0.995 C too: no free crossed the mark).
 *
 * A program that only grows writes the file once, at exit; one that
 * churns on a plateau writes it when the plateau rises by 1%.  Only while
 * one thread traces is the peak exact; with several, each one's 64 KiB of
 * pending changes blur it (current_add).  pending/written are changed
 * under peak_lock (a trylock: a racing thread skips). */
static size_t peak_pending;   /* the crossing level C, 0: none */
static size_t peak_written;   /* the total in the file, 0: none */
static size_t peak_fall;      /* 0.995 C while pending, else 0 */
static int peak_lock;

/* ---- The guard ---------------------------------------------------------- */

int sa_trace_guard_enter(void)
{
    int prev = guard;
    guard = 1;
    return prev;
}

void sa_trace_guard_leave(int prev)
{
    guard = prev;
}

/* ---- The traced-memory counters ----------------------------------------- */

/* traced current += delta, for a stack of generation gen.  Returns the
 * new total when it moved, NOT_MOVED when the change is only pending in
 * the calling thread's cache.
 *
 * While the process has one thread (glibc's __libc_single_threaded, which
 * never turns back to 1 in 2.36) a plain add does: a locked add would
 * stall the pipeline, and this runs on every traced malloc and free.
 * While one thread traces, a locked add, uncontended.  When several do,
 * one line that every core adds to cost larson (4 threads) 60% of its
 * traced malloc and 80% of its traced free: each thread then keeps its
 * change in its cache until it passes CURRENT_BATCH either way, readers
 * of the current add the pending changes in, and the peak is seen to
 * within CURRENT_BATCH per thread. */
#define CURRENT_BATCH ((int64_t)64 << 10)
#define NOT_MOVED SIZE_MAX

static inline size_t current_add(size_t delta, uint32_t gen)
{
    if (__libc_single_threaded) {
        size_t cur = __atomic_load_n(&sa_traced.current, __ATOMIC_RELAXED) + delta;
        __atomic_store_n(&sa_traced.current, cur, __ATOMIC_RELAXED);
        return cur;
    }
    sa_stack_tc *c = sa_stack_my_tc;
    int64_t p = (int64_t)delta;
    if (c && c->current && c->current_gen == gen)
        p += c->current;
    if (!c || __atomic_load_n(&sa_stack_tc_live, __ATOMIC_RELAXED) < 2
        || p <= -CURRENT_BATCH || p >= CURRENT_BATCH) {
        if (c && c->current)
            __atomic_store_n(&c->current, 0, __ATOMIC_RELAXED);
        return __atomic_add_fetch(&sa_traced.current, (size_t)p, __ATOMIC_RELAXED);
    }
    if (c->current_gen != gen)
        __atomic_store_n(&c->current_gen, (uint8_t)gen, __ATOMIC_RELEASE);   /* an old one's: gone */
    __atomic_store_n(&c->current, p, __ATOMIC_RELAXED);
    return NOT_MOVED;
}

void sa_trace_current_fold(sa_stack_tc *c)
{
    int64_t p = __atomic_load_n(&c->current, __ATOMIC_RELAXED);
    if (p && c->current_gen == sa_stack_generation())
        __atomic_add_fetch(&sa_traced.current, (size_t)p, __ATOMIC_RELAXED);
    __atomic_store_n(&c->current, 0, __ATOMIC_RELAXED);
}

/* The traced current, with the threads' pending changes. */
size_t sa_trace_current_now(void)
{
    size_t cur = __atomic_load_n(&sa_traced.current, __ATOMIC_RELAXED);
    return cur + (size_t)sa_stack_pending_current((uint8_t)sa_stack_generation());
}

void sa_trace_peak_update(size_t cur)
{
    size_t peak = __atomic_load_n(&sa_traced.peak, __ATOMIC_RELAXED);
    while (cur > peak && !__atomic_compare_exchange_n(&sa_traced.peak, &peak, cur, 1,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void rearm(void)
{
    size_t t = __atomic_load_n(&sa_trace_peak_next, __ATOMIC_ACQUIRE);
    size_t hi = __atomic_load_n(&timeline_high, __ATOMIC_ACQUIRE);
    if (hi < t)
        t = hi;
    if (__atomic_load_n(&slow_requested, __ATOMIC_ACQUIRE))
        t = 0;
    __atomic_store_n(&trigger_at, t, __ATOMIC_RELEASE);
}

/* ---- The timeline ------------------------------------------------------- */

/* The free path's mark: the higher of the timeline's and the peak's. */
static void fall_rearm(void)
{
    size_t lo = __atomic_load_n(&timeline_low, __ATOMIC_RELAXED);
    size_t pf = __atomic_load_n(&peak_fall, __ATOMIC_RELAXED);
    __atomic_store_n(&sa_traced.fall_mark, lo > pf ? lo : pf, __ATOMIC_RELAXED);
}

/* The marks a 16th of cur (TIMELINE_STEP_MIN at least) either side.  Not
 * with lazy counters: the current is not kept while running. */
static void timeline_marks(size_t cur)
{
    if (sa_trace_lazy)
        return;
    size_t step = cur / 16 > TIMELINE_STEP_MIN ? cur / 16 : TIMELINE_STEP_MIN;
    __atomic_store_n(&timeline_low, cur > step ? cur - step : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&timeline_high, cur < SIZE_MAX - step ? cur + step : SIZE_MAX - 1,
                     __ATOMIC_RELEASE);
    fall_rearm();
}

void sa_trace_point(size_t cur, int replace)
{
    int saved = errno;
    timeline_marks(cur);
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    /* Read unlocked: a stale answer costs one point or one statm read. */
    if (replace || sa_timeline_due(&timeline, now)) {
        uint64_t rss = sa_os_rss();
        if (!__atomic_exchange_n(&timeline_busy, 1, __ATOMIC_ACQUIRE)) {
            sa_timeline_add(&timeline, now, cur, rss, replace);
            __atomic_store_n(&timeline_busy, 0, __ATOMIC_RELEASE);
        }
    }
    errno = saved;
}

uint32_t sa_trace_timeline_copy(sa_snap_point *dst)
{
    /* The holder only copies a point: spin. */
    while (__atomic_exchange_n(&timeline_busy, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    uint32_t n = timeline.n;
    memcpy(dst, timeline.pt, n * sizeof *dst);
    __atomic_store_n(&timeline_busy, 0, __ATOMIC_RELEASE);
    return n;
}

void sa_trace_timeline_postfork(void)
{
    __atomic_store_n(&timeline_busy, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&peak_lock, 0, __ATOMIC_RELEASE);
}

/* ---- The high-water mark file ------------------------------------------ */

/* A malloc took the current to cur >= sa_trace_peak_next: a new peak
 * pending at cur (written when memory falls from it). */
static void peak_rise(size_t cur)
{
    if (__atomic_exchange_n(&peak_lock, 1, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&peak_pending, cur, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_fall, cur - cur / 200, __ATOMIC_RELAXED);
    size_t next = cur < SIZE_MAX - cur / 200 - 1 ? cur + cur / 200 + 1 : SIZE_MAX - 1;
    __atomic_store_n(&sa_trace_peak_next, next, __ATOMIC_RELEASE);
    fall_rearm();
    __atomic_store_n(&peak_lock, 0, __ATOMIC_RELEASE);
}

/* A peak file that could not be written: not retried on every new peak
 * (a storm of failing writes), one line. */
static void peak_failed(const char *used, int rc)
{
    __atomic_store_n(&sa_trace_peak_next, SIZE_MAX, __ATOMIC_RELEASE);
    __atomic_store_n(&peak_pending, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_fall, 0, __ATOMIC_RELAXED);
    sa_trigger_report_note(used, rc, "; peak snapshots are off from now on");
    fall_rearm();
}

/* Write a captured peak whose file is due (wait: at exit, whatever the
 * time).  With the guard set or from the exit sequence. */
static void peak_write_due(int wait)
{
    char used[SA_PATH_MAX];
    int rc = sa_trace_peak_write_due(used, wait);
    if (rc < 0 && rc != -EINVAL && rc != -EALREADY)
        peak_failed(used, rc);
}

/* Capture the pending peak's state now, whose traced total is total (its
 * file: dump.c).  Under peak_lock, with no allocator lock held. */
static void peak_write(size_t total)
{
    char used[SA_PATH_MAX];
    used[0] = '\0';
    int rc = sa_trace_dump_peak(used);
    if (rc == -EALREADY)
        return;   /* another snapshot is being written: at the next fall */
    __atomic_store_n(&peak_pending, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_fall, 0, __ATOMIC_RELAXED);
    if (rc < 0 && rc != -EINVAL) {
        peak_failed(used, rc);
        return;
    } else {
        __atomic_store_n(&peak_written, total, __ATOMIC_RELAXED);
        size_t next = total + total / 99 + 1;
        if (next < SA_TRACE_PEAK_FLOOR)
            next = SA_TRACE_PEAK_FLOOR;
        __atomic_store_n(&sa_trace_peak_next, next, __ATOMIC_RELEASE);
    }
    fall_rearm();
}

void sa_trace_peak_flush(void)
{
    if (sa_trace_cfg.peak_step != SA_CONFIG_PEAK_AUTO ||
        __atomic_exchange_n(&peak_lock, 1, __ATOMIC_ACQUIRE))
        return;
    if (peak_pending)
        peak_write(sa_trace_current_now());
    peak_write_due(1);
    __atomic_store_n(&peak_lock, 0, __ATOMIC_RELEASE);
    rearm();
}

/* A traced free of the block rec (stack id, bytes) took the current
 * to cur, below the fall mark.  If below the pending peak's, the file is
 * written from the state before this free: the block put back for it. */
static SA_NOINLINE void trace_fell(sa_tag *rec, uint32_t id, size_t bytes, size_t cur)
{
    int wrote = 0;
    if (__atomic_load_n(&peak_pending, __ATOMIC_ACQUIRE) &&
        cur < __atomic_load_n(&peak_fall, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&peak_lock, 1, __ATOMIC_ACQUIRE)) {
        if (peak_pending) {
            int saved = errno;
            rec->id = id;
            current_add(bytes, SA_STACK_GEN(id));
            peak_write(cur + bytes);
            wrote = 1;
            rec->id = 0;
            current_add(-bytes, SA_STACK_GEN(id));
            errno = saved;
        }
        __atomic_store_n(&peak_lock, 0, __ATOMIC_RELEASE);
    }
    /* The write's own point shows the state before this free: the state
     * after it takes its place. */
    if (wrote || cur < __atomic_load_n(&timeline_low, __ATOMIC_RELAXED))
        sa_trace_point(cur, wrote);
    rearm();
}

void sa_trace_request_slowpath(void)
{
    __atomic_store_n(&slow_requested, 1, __ATOMIC_RELEASE);
    rearm();
}

void sa_trace_counters_reset(void)
{
    __atomic_store_n(&sa_traced.current, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sa_traced.peak, 0, __ATOMIC_RELAXED);
    size_t step = sa_trace_cfg.peak_step;
    size_t first = step == SA_CONFIG_PEAK_AUTO ? SA_TRACE_PEAK_FLOOR : step ? step : SIZE_MAX;
    __atomic_store_n(&sa_trace_peak_next, first, __ATOMIC_RELEASE);
    __atomic_store_n(&peak_pending, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_written, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&peak_fall, 0, __ATOMIC_RELAXED);
    sa_trace_peak_discard();
    timeline_marks(0);
    rearm();
}

/* Rare: a peak snapshot is due, or a fork child must restart the helper.
 * Runs with the guard set, outside allocator locks. */
static SA_NOINLINE void trace_slow(size_t cur)
{
    if (__atomic_exchange_n(&slow_requested, 0, __ATOMIC_ACQ_REL))
        sa_trigger_helper_ensure();
    size_t step = sa_trace_cfg.peak_step;
    size_t at = __atomic_load_n(&sa_trace_peak_next, __ATOMIC_ACQUIRE);
    if (step == SA_CONFIG_PEAK_AUTO) {
        if (cur >= at)
            peak_rise(cur);
        peak_write_due(0);
    } else if (step && cur >= at
        && __atomic_compare_exchange_n(&sa_trace_peak_next, &at, SIZE_MAX, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        char used[SA_PATH_MAX];
        used[0] = '\0';
        int rc = sa_trace_dump(NULL, SA_SNAP_TRIGGER_PEAK, 0, used);
        if (rc == -EALREADY) {
            __atomic_store_n(&sa_trace_peak_next, at, __ATOMIC_RELEASE);   /* try again later */
        } else if (rc < 0 && rc != -EINVAL) {
            /* Not retried on every new peak (a storm of failing writes):
             * the peak trigger stays off, sa_trace_peak_next at SIZE_MAX. */
            sa_trigger_report_note(used, rc, "; peak snapshots are off from now on");
        } else {
            size_t next = cur > SIZE_MAX - step ? SIZE_MAX - 1 : cur + step;
            __atomic_store_n(&sa_trace_peak_next, next, __ATOMIC_RELEASE);
        }
    }
    if (cur >= __atomic_load_n(&timeline_high, __ATOMIC_ACQUIRE))
        sa_trace_point(cur, 0);
    rearm();
}

/* ---- The recording path --------------------------------------------------
 *
 * Every traced allocation takes the same three steps, whichever entry
 * point it came from (sa_trace_alloc_entry from the exported entry
 * points, sa_trace_alloc from elsewhere):
 *
 *   decide   not inside the tracer (the guard: then the block is marked
 *            as the tracer's own), recording (sa_trace_limit > 0), and
 *            under sampling this allocation chosen (sample.h: one TLS
 *            subtraction for the others, which keep no tag)
 *   capture  the stack's interned id: from the validated unwind cache
 *            (trace/ucache.h) when the call site is known, else by
 *            unwinding and interning (capture_slow, with the guard set)
 *   store    the block's tag and the counts (store, then trigger_check)
 *
 * The common case (a known call site, a pool whose tags exist, this
 * thread's counter cache made) runs without the guard, errno saving or
 * the unwinder's arrays: nothing on it allocates or sets errno but
 * trace_slow, which gets both.  The leak check's lazy counting takes the
 * same path and stops after the tag. */

/* The current and peak traced memory after a new block's tag took
 * bytes.  Returns the new current, or NOT_MOVED
 * when the change is pending in this thread's cache or the block raced
 * with clear/stop (then it belongs to no generation: its counts are
 * taken back and its tag cleared). */
static inline size_t count_current(sa_tag *rec, uint32_t id, size_t bytes)
{
    size_t cur = current_add(bytes, SA_STACK_GEN(id));
    if (SA_UNLIKELY(sa_stack_generation() != SA_STACK_GEN(id))) {
        current_add(-bytes, SA_STACK_GEN(id));
        rec->id = 0;
        return NOT_MOVED;
    }
    if (cur != NOT_MOVED)
        sa_trace_peak_update(cur);
    return cur;
}

/* Store: the tag of the block ptr of size requested bytes from stack id,
 * and (unless counting lazily) the counts.  Returns the new traced
 * current or NOT_MOVED (store's counts did not move it, or lazily). */
/* Sampled tracing marks the page of each block it records for the slow
 * free (alloc/pagemap.h): free() then reaches the tracer for that block
 * with no test on its fast path, and for blocks in unmarked pages not at
 * all.  Invariant, under mark_lock: a page that holds a block with a
 * record (a nonzero id other than the tracer's own) is marked.  Records
 * are written, and marks cleared, only under it; clearing a record needs
 * no lock (it can only make a page unmarkable sooner).  Taken only under
 * sampling, by a recorded allocation or the free of a recorded block
 * (one in 512 KiB allocated on average), never around a call. */
sa_lock sa_trace_mark_lock = SA_LOCK_INIT;

static SA_NOINLINE void store_marked(sa_tag *rec, void *ptr, sa_tag r)
{
    sa_lock_acquire(&sa_trace_mark_lock);
    *rec = r;
    sa_pm_leaf *leaf = sa_pagemap_leaf(ptr);
    if (leaf)
        sa_pagemap_page_mark_slow(leaf, ptr);   /* a large block's entry is 0: left alone */
    sa_lock_release(&sa_trace_mark_lock);
}

/* After the free of a recorded block in a marked page, ptr's: clear the
 * mark if no other record is left there. */
static SA_NOINLINE void unmark_after_free(void *ptr)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(ptr);
    if (!leaf)
        return;
    unsigned pe = sa_pagemap_page_get(leaf, ptr);
    if (!pe || !sa_pagemap_page_is_slow(pe))
        return;
    sa_lock_acquire(&sa_trace_mark_lock);
    if (!sa_page_has_tags(ptr, SA_TRACE_OWN))
        sa_pagemap_page_unmark(leaf, ptr);
    sa_lock_release(&sa_trace_mark_lock);
}

/* Write record {id, size} in rec, ptr's tag (marking its page under
 * sampling). */
static inline void write_record(sa_tag *rec, void *ptr, uint32_t size, uint32_t id)
{
    if (SA_UNLIKELY(__atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED))) {
        store_marked(rec, ptr, (sa_tag){.id = id, .size = size});
        return;
    }
    rec->size = size;
    rec->id = id;
}

static inline size_t store(sa_tag *rec, void *ptr, size_t size, uint32_t id)
{
    uint32_t recsize = size >= UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    write_record(rec, ptr, recsize, id);
    if (sa_trace_lazy)
        return NOT_MOVED;
    return count_current(rec, id, sa_trace_block_bytes(ptr, recsize));
}

/* Whether the slow path is due after a store that returned cur: a new
 * peak past the trigger, or a forced slow path (trigger 0: a fork
 * child's helper thread to restart). */
static inline int slow_due(size_t cur, size_t trigger)
{
    return cur != NOT_MOVED ? cur >= trigger : trigger == 0;
}

/* The slow path after a store, with the guard set by the caller. */
static SA_NOINLINE void store_slow(size_t cur)
{
    trace_slow(cur != NOT_MOVED ? cur : sa_trace_current_now());
}

/* Store, the general case: find or make the block's tag and store the
 * interned stack id (0: the stack table is full).  With the guard set
 * (tag storage may allocate). */
static void record_id(void *ptr, size_t size, uint32_t id)
{
    sa_tag *rec = sa_tag_slot_new(ptr);
    if (!rec)
        return;
    if (!id) {
        rec->id = 0;   /* stack table full */
        return;
    }
    size_t cur = store(rec, ptr, size, id);
    if (SA_UNLIKELY(slow_due(cur, __atomic_load_n(&trigger_at, __ATOMIC_RELAXED))))
        store_slow(cur);
}

/* The same for captured frames[0..n), interned first. */
static void record(void *ptr, size_t size, const uintptr_t *frames, int n)
{
    record_id(ptr, size, sa_stack_intern(frames, (uint32_t)n));
}

/* Decide, for an allocation inside the tracer: the tracer's own block
 * (no stale tag may claim it for a stack). */
static void untraced(void *ptr)
{
    sa_tag *rec = sa_tag_slot(ptr, 1);
    if (rec) {
        rec->id = SA_TRACE_OWN;
        rec->size = 0;
    }
}

SA_FRAME SA_NOINLINE void sa_trace_alloc(void *ptr, size_t size)
{
    if (guard) {
        untraced(ptr);
        return;
    }
    if (sa_sample_skip(size))
        return;
    int limit = __atomic_load_n(&sa_trace_limit, __ATOMIC_ACQUIRE);
    if (limit <= 0)
        return;   /* starting or stopping: not recording */
    int saved = errno;
    guard = 1;
    uintptr_t frames[SNAPALLOC_MAX_FRAMES];
    int n = sa_unwind_capture(frames, limit);
    record(ptr, size, frames, n);
    guard = 0;
    errno = saved;
}

static SA_FRAME SA_NOINLINE void capture_slow(void *ptr, size_t size,
                                              const uintptr_t *entry_frame);

/* The hook of the exported entry points (override*.c), which keep a frame
 * pointer: the caller's frame gives the program's return address and
 * stack pointer at the malloc call, the key of the validated unwind cache
 * (trace/ucache.h).  A hit skips both the unwind and the interning. */
SA_FRAME SA_NOINLINE void sa_trace_alloc_sampled(void *ptr, size_t size)
{
    /* Decide (sampling: trace.h's sa_trace_alloc_entry, inline). */
    if (guard) {
        untraced(ptr);
        return;
    }
    int limit = __atomic_load_n(&sa_trace_limit, __ATOMIC_RELAXED);
    size_t trigger = __atomic_load_n(&trigger_at, __ATOMIC_RELAXED);
    /* Capture, from the cache: our frame's saved frame pointer is the
     * entry point's frame. */
    const uintptr_t *entry_frame = *(uintptr_t *const *)__builtin_frame_address(0);
    if (SA_LIKELY(limit > 0 && trigger != 0)) {
        sa_ucache_entry *e = sa_ucache_lookup(entry_frame[1], (uintptr_t)(entry_frame + 2), limit);
        uint32_t id = e ? e->id : 0;
        sa_tag *rec;
        if (SA_LIKELY(id && SA_STACK_GEN(id) == sa_stack_generation())
            && SA_LIKELY((rec = sa_tag_slot_ready(ptr)) != NULL)
            && SA_LIKELY(sa_trace_lazy || sa_stack_my_tc != NULL)) {
            /* Store. */
            size_t cur = store(rec, ptr, size, id);
            if (SA_UNLIKELY(slow_due(cur, trigger))) {
                int saved = errno;
                guard = 1;
                store_slow(cur);
                guard = 0;
                errno = saved;
            }
            return;
        }
    }
    capture_slow(ptr, size, entry_frame);
}

/* Capture through the unwind cache (sa_trace_entry_stack: unwinding and
 * offering the stack to the cache, or an entry the cache has without a
 * current id), then store. */
static SA_FRAME SA_NOINLINE void capture_slow(void *ptr, size_t size,
                                              const uintptr_t *entry_frame)
{
    int limit = __atomic_load_n(&sa_trace_limit, __ATOMIC_ACQUIRE);
    if (limit <= 0)
        return;   /* starting or stopping: not recording */
    int saved = errno;
    guard = 1;
    sa_stack_tc_get();   /* for current_add; may allocate */
    record_id(ptr, size, sa_trace_entry_stack(entry_frame, limit));
    guard = 0;
    errno = saved;
}

/* Forget the record rec of ptr; returns it (stack 0 if it was not
 * counted). */
static inline sa_tag forget_rec(sa_tag *rec, void *ptr)
{
    sa_tag out = {0, 0};
    if (!rec || !rec->id)
        return out;
    out = *rec;
    rec->id = 0;
    if (!sa_stack_current(out.id)) {
        out.id = 0;
        return out;
    }
    if (sa_trace_lazy)
        return out;
    size_t bytes = sa_trace_block_bytes(ptr, out.size);
    size_t cur = current_add(-bytes, SA_STACK_GEN(out.id));
    if (SA_UNLIKELY(cur < __atomic_load_n(&sa_traced.fall_mark, __ATOMIC_RELAXED)))
        trace_fell(rec, out.id, bytes, cur);
    return out;
}

/* The record of a traced block, out of line: free()'s path below keeps
 * no registers for it and stops at one test for a block without a record
 * (every block but the sampled ones under SNAPALLOC_SAMPLE). */
static SA_NOINLINE void forget_traced(sa_tag *tag, void *ptr)
{
    (void)forget_rec(tag, ptr);
}

static inline void forget_tag(sa_tag *tag, void *ptr)
{
    if (tag && tag->id)
        forget_traced(tag, ptr);
}

void sa_trace_forget(sa_tag *tag, void *ptr)
{
    if (!tag || !tag->id)
        return;
    int own = tag->id == SA_TRACE_OWN;
    forget_traced(tag, ptr);
    if (!own)
        unmark_after_free(ptr);
}

/* free() while tracing: free()'s own path, with the block's record found
 * and forgotten on the way (from the page map, as sa_tag_slot_ready
 * finds it: no pool descriptor read). */
SA_NOINLINE void sa_trace_free_block(void *ptr)
{
    sa_free_then(ptr, forget_tag);
}

SA_NOINLINE void sa_trace_free(void *ptr)
{
    /* Under lazy counters a freed block's record may go stale (alloc/walk.h). */
    if (ptr && !sa_trace_lazy)
        forget_rec(sa_tag_slot(ptr, 0), ptr);
}

sa_tag sa_trace_detach(void *ptr)
{
    sa_tag none = {0, 0};
    return ptr ? forget_rec(sa_tag_slot(ptr, 0), ptr) : none;
}

sa_tag sa_trace_detach_slot(sa_tag *slot, void *ptr)
{
    return forget_rec(slot, ptr);
}

void sa_trace_reattach(void *ptr, sa_tag r)
{
    if (!ptr || !r.id)
        return;
    sa_tag *rec = sa_tag_slot(ptr, 0);
    if (!sa_stack_current(r.id) || !rec)
        return;
    write_record(rec, ptr, r.size, r.id);
    if (sa_trace_lazy)
        return;
    size_t bytes = sa_trace_block_bytes(ptr, r.size);
    current_add(bytes, SA_STACK_GEN(r.id));
}
