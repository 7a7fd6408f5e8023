/* trace/trace.c - the tracer: recording live blocks by stack, the traced-memory
 * counters, snapshots, and the public tracing API (snapalloc_start ...).
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
 *     current >= trigger_at?  -> slow path (peak snapshot, helper restart)
 *
 * and per traced free: read and clear the block's record, traced current
 * -= its size.  The stacks' live sizes and counts are not touched: a
 * snapshot recounts them from the records (recount_stacks), which are
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
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc_inline.h"
#include "alloc/alloc.h"
#include "common/lock.h"
#include "common/os.h"
#include "snapalloc.h"
#include "format/snapshot.h"
#include "trace/config.h"
#include "trace/libunwind.h"
#include "trace/stack.h"
#include "trace/ucache.h"
#include "trace/unwind.h"
#include "alloc/walk.h"

/* Frame pointers in the functions on the capture path, whatever the
 * build flags, so the fp walker can cross them (trace/unwind_fp.c). */
#define SA_FRAME __attribute__((optimize("no-omit-frame-pointer")))

/* The public API is exported from libsnapalloc.so (the core is built with
 * -fvisibility=hidden). */
#define SA_API __attribute__((visibility("default")))

int sa_trace_on;
int sa_trace_free_on;

static SA_TLS int guard;

static int trace_limit;          /* frames per stack while tracing, at most
                                    SNAPALLOC_MAX_FRAMES (snapalloc_start) */
static int unwind_backend;

/* The traced-memory counters share a cache line on purpose: every traced
 * malloc touches both.  And only they: in a multi-threaded program the
 * line moves between cores, and a variable beside them (trace_limit was,
 * read on every traced malloc: 70% of larson's traced malloc path with 4
 * threads) would miss on every read. */
static struct {
    size_t current;
    size_t peak;
    char pad[64 - 2 * sizeof(size_t)];
} traced __attribute__((aligned(64)));

/* Lazy counting, for the leak check (set once, before tracing starts).
 * A check needs the records (what is live, from where) but not even the
 * traced current while the program runs: it counts leaks at exit, and
 * its baseline and exit snapshots recount everything from the records
 * (recount_stacks, a walk of every record that asks each block whether it
 * is free).  So a traced malloc only writes its record, and free() does
 * not call the tracer at all (sa_trace_free_on stays 0): the freed
 * block's record goes stale, and the block's free key (alloc/arena.h) says it
 * is dead.  Reading or
 * even clearing the record in free() was a cache miss per free for a
 * block allocated long ago, and the longer path kept the CPU from
 * overlapping the program's own misses (churn under the check: 2.2x ->
 * 1.6x the plain run with a blind clear, 1.45x with none).  Not with peak
 * snapshots, which need the live total at every malloc;
 * snapalloc_get_traced_memory() recounts, so its peak is the highest
 * total it (or a snapshot) has seen. */
static int lazy_counters;

/* Slow-path threshold: the next peak snapshot (or 0 to force the slow
 * path).  SIZE_MAX when nothing is armed. */
static size_t trigger_at = SIZE_MAX;
static size_t peak_next = SIZE_MAX;   /* traced current that fires a peak snapshot */
static int slow_requested;

static sa_lock ctl_lock = SA_LOCK_INIT;    /* start/stop/clear */
static sa_lock snap_lock = SA_LOCK_INIT;   /* one snapshot writer at a time */
static uint32_t sequence;                  /* %n of the last snapshot */

static struct { uint64_t size, count; int marked; } baseline;

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

/* ---- Stack capture ------------------------------------------------------ */

static uintptr_t self_lo, self_hi;   /* libsnapalloc's text */
static int self_known;

void sa_unwind_set_self_range(uintptr_t lo, uintptr_t hi)
{
    self_lo = lo;
    self_hi = hi;
    self_known = 1;
}

void sa_unwind_get_self_range(uintptr_t *lo, uintptr_t *hi)
{
    *lo = self_lo;
    *hi = self_hi;
}

/* The executable segments of the object containing the tracer.  When that
 * object is the main program (the core linked statically into a test),
 * there is no "own" range to strip: only the capture's own frames go. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    uintptr_t me = (uintptr_t)&sa_trace_alloc;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (me >= start && me < end)
            mine = 1;
        if ((ph->p_flags & PF_X) && start < lo)
            lo = start;
        if ((ph->p_flags & PF_X) && end > hi)
            hi = end;
    }
    if (!mine)
        return 0;
    if (info->dlpi_name && info->dlpi_name[0] && lo < hi)
        sa_unwind_set_self_range(lo, hi);
    else
        sa_unwind_set_self_range(0, 0);
    return 1;
}

int sa_unwind_init(int backend)
{
    int g = sa_trace_guard_enter();
    if (!self_known)
        dl_iterate_phdr(find_self, NULL);
    int rc = 0;
    if (backend == SA_UNWIND_LIBUNWIND) {
        rc = sa_unwind_libunwind_setup() == 0 && sa_unwind_cfa_setup() == 0 ? 0 : -ENOSYS;
    } else {
        uintptr_t warm[4];
        sa_unwind_fp_raw(warm, 4);   /* this thread's stack bounds */
    }
    if (rc == 0)
        __atomic_store_n(&unwind_backend, backend, __ATOMIC_RELEASE);
    sa_trace_guard_leave(g);
    return rc;
}

SA_FRAME SA_NOINLINE int sa_unwind_capture(uintptr_t *frames, int max)
{
    uintptr_t raw[SNAPALLOC_MAX_FRAMES + SA_UNWIND_SLACK];
    if (max > SNAPALLOC_MAX_FRAMES)
        max = SNAPALLOC_MAX_FRAMES;
    if (max <= 0)
        return 0;
    int want = max + SA_UNWIND_SLACK;
    int n = __atomic_load_n(&unwind_backend, __ATOMIC_RELAXED) == SA_UNWIND_FP
                ? sa_unwind_fp_raw(raw, want) : sa_unwind_libunwind_raw(raw, want);
    /* Drop the walker's and our own frames: everything before the return
     * address into our caller.  If the walker missed it (a frame without
     * frame pointer), keep all and let the range test below do the work. */
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    int i = 0;
    while (i < n && i < SA_UNWIND_SLACK && raw[i] != ra)
        i++;
    if (i == n || i == SA_UNWIND_SLACK)
        i = 0;
    /* Then libsnapalloc's frames between the program and here (malloc,
     * sa_trace_alloc): the first frame kept is the program's call site. */
    while (i < n && raw[i] >= self_lo && raw[i] < self_hi)
        i++;
    int m = n - i < max ? n - i : max;
    memcpy(frames, raw + i, (size_t)m * sizeof *frames);
    return m;
}

/* ---- Recording ---------------------------------------------------------- */

static size_t block_size(void *ptr, uint32_t recsize)
{
    /* Blocks of 4 GiB or more keep UINT32_MAX in their record; they are
     * counted by usable size on both alloc and free so the counters stay
     * balanced (the reported size is then rounded up to the allocator's
     * granularity, a page). */
    return recsize == UINT32_MAX ? sa_usable_size(ptr) : recsize;
}

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
        size_t cur = __atomic_load_n(&traced.current, __ATOMIC_RELAXED) + delta;
        __atomic_store_n(&traced.current, cur, __ATOMIC_RELAXED);
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
        return __atomic_add_fetch(&traced.current, (size_t)p, __ATOMIC_RELAXED);
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
        __atomic_add_fetch(&traced.current, (size_t)p, __ATOMIC_RELAXED);
    __atomic_store_n(&c->current, 0, __ATOMIC_RELAXED);
}

/* The traced current, with the threads' pending changes. */
static size_t current_now(void)
{
    size_t cur = __atomic_load_n(&traced.current, __ATOMIC_RELAXED);
    return cur + (size_t)sa_stack_pending_current((uint8_t)sa_stack_generation());
}

static void peak_update(size_t cur)
{
    size_t peak = __atomic_load_n(&traced.peak, __ATOMIC_RELAXED);
    while (cur > peak && !__atomic_compare_exchange_n(&traced.peak, &peak, cur, 1,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void rearm(void)
{
    size_t t = __atomic_load_n(&slow_requested, __ATOMIC_ACQUIRE) ? 0
             : __atomic_load_n(&peak_next, __ATOMIC_ACQUIRE);
    __atomic_store_n(&trigger_at, t, __ATOMIC_RELEASE);
}

void sa_trace_request_slowpath(void)
{
    __atomic_store_n(&slow_requested, 1, __ATOMIC_RELEASE);
    rearm();
}

/* Rare: a peak snapshot is due, or a fork child must restart the helper.
 * Runs with the guard set, outside allocator locks. */
static SA_NOINLINE void trace_slow(size_t cur)
{
    if (__atomic_exchange_n(&slow_requested, 0, __ATOMIC_ACQ_REL))
        sa_trigger_helper_ensure();
    size_t step = sa_trace_cfg.peak_step;
    size_t at = __atomic_load_n(&peak_next, __ATOMIC_ACQUIRE);
    if (step && cur >= at
        && __atomic_compare_exchange_n(&peak_next, &at, SIZE_MAX, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        char used[SA_PATH_MAX];
        used[0] = '\0';
        int rc = sa_trace_dump(NULL, SA_SNAP_TRIGGER_PEAK, 0, used);
        if (rc == -EALREADY) {
            __atomic_store_n(&peak_next, at, __ATOMIC_RELEASE);   /* try again later */
        } else if (rc < 0 && rc != -EINVAL) {
            /* Not retried on every new peak (a storm of failing writes):
             * the peak trigger stays off, peak_next at SIZE_MAX. */
            sa_trigger_report_note(used, rc, "; peak snapshots are off from now on");
        } else {
            size_t next = cur > SIZE_MAX - step ? SIZE_MAX - 1 : cur + step;
            __atomic_store_n(&peak_next, next, __ATOMIC_RELEASE);
        }
    }
    rearm();
}

/* ---- The recording path --------------------------------------------------
 *
 * Every traced allocation takes the same three steps, whichever entry
 * point it came from (sa_trace_alloc_entry from the exported entry
 * points, sa_trace_alloc from elsewhere):
 *
 *   decide   not inside the tracer (the guard: then the block is marked
 *            as the tracer's own), and recording (trace_limit > 0);
 *            where sampling and per-block flags will go
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
        peak_update(cur);
    return cur;
}

/* Store: the tag of the block ptr of size requested bytes from stack id,
 * and (unless counting lazily) the counts.  Returns the new traced
 * current or NOT_MOVED (store's counts did not move it, or lazily). */
static inline size_t store(sa_tag *rec, void *ptr, size_t size, uint32_t id)
{
    uint32_t recsize = size >= UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    rec->size = recsize;
    rec->id = id;
    if (lazy_counters)
        return NOT_MOVED;
    return count_current(rec, id, block_size(ptr, recsize));
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
    trace_slow(cur != NOT_MOVED ? cur : current_now());
}

/* Capture and store, the general case: intern frames[0..n) unless id is
 * already known, find or make the block's tag, store.  With the guard
 * set (interning and tag storage may allocate). */
static void record(void *ptr, size_t size, const uintptr_t *frames, int n, uint32_t id)
{
    if (!id)
        id = sa_stack_intern(frames, (uint32_t)n);
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
    int limit = __atomic_load_n(&trace_limit, __ATOMIC_ACQUIRE);
    if (limit <= 0)
        return;   /* starting or stopping: not recording */
    int saved = errno;
    guard = 1;
    uintptr_t frames[SNAPALLOC_MAX_FRAMES];
    int n = sa_unwind_capture(frames, limit);
    record(ptr, size, frames, n, 0);
    guard = 0;
    errno = saved;
}

static SA_FRAME SA_NOINLINE void capture_slow(void *ptr, size_t size,
                                              const uintptr_t *entry_frame);

/* The hook of the exported entry points (override*.c), which keep a frame
 * pointer: the caller's frame gives the program's return address and
 * stack pointer at the malloc call, the key of the validated unwind cache
 * (trace/ucache.h).  A hit skips both the unwind and the interning. */
SA_FRAME SA_NOINLINE void sa_trace_alloc_entry(void *ptr, size_t size)
{
    /* Decide. */
    if (guard) {
        untraced(ptr);
        return;
    }
    int limit = __atomic_load_n(&trace_limit, __ATOMIC_RELAXED);
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
            && SA_LIKELY(lazy_counters || sa_stack_my_tc != NULL)) {
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

/* Capture by unwinding (offering the stack to the unwind cache), or an
 * entry the cache has without a current id, then store. */
static SA_FRAME SA_NOINLINE void capture_slow(void *ptr, size_t size,
                                              const uintptr_t *entry_frame)
{
    int limit = __atomic_load_n(&trace_limit, __ATOMIC_ACQUIRE);
    if (limit <= 0)
        return;   /* starting or stopping: not recording */
    int saved = errno;
    guard = 1;
    sa_stack_tc_get();   /* for current_add; may allocate */
    sa_ucache_entry *e = NULL;
    uintptr_t ra = entry_frame[1], sp = (uintptr_t)(entry_frame + 2);
    if (!(ra >= self_lo && ra < self_hi)) {
        e = sa_ucache_lookup(ra, sp, limit);
        if (!e) {
            /* Either walker gives each frame's slot, so its stacks can be
             * cached: the frame-shape walker (libunwind) or the chain of
             * frame pointers from the entry point's frame (fp, the same
             * stack as sa_unwind_capture's). */
            uintptr_t frames[SNAPALLOC_MAX_FRAMES], slots[SNAPALLOC_MAX_FRAMES];
            int learnt, n;
            sa_ucache *c = sa_ucache_mine;
            if (__atomic_load_n(&unwind_backend, __ATOMIC_RELAXED) == SA_UNWIND_LIBUNWIND)
                n = sa_unwind_cfa_walk(ra, sp, entry_frame[0], frames, slots, limit, &learnt,
                                       c ? &c->last : NULL);
            else
                n = sa_unwind_fp_walk(entry_frame, frames, slots, limit);
            if (n > 0 && !(e = sa_ucache_offer(ra, sp, limit, frames, slots, n))) {
                record(ptr, size, frames, n, 0);
                goto done;
            }
        }
    }
    if (e) {
        uint32_t gen = sa_stack_generation();
        if (!e->id || SA_STACK_GEN(e->id) != gen)
            e->id = sa_stack_intern(e->frame, e->n);
        record(ptr, size, e->frame, (int)e->n, e->id);
    } else {
        uintptr_t frames[SNAPALLOC_MAX_FRAMES];
        int n = sa_unwind_capture(frames, limit);
        record(ptr, size, frames, n, 0);
    }
done:
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
    if (lazy_counters)
        return out;
    size_t bytes = block_size(ptr, out.size);
    current_add(-bytes, SA_STACK_GEN(out.id));
    return out;
}

/* free() while tracing: as sa_free_inline, with the block's record found
 * and forgotten on the way, from the page map as sa_tag_slot_ready
 * does (no pool descriptor read). */
SA_NOINLINE void sa_trace_free_block(void *ptr)
{
    sa_pm_leaf *leaf = sa_pagemap_leaf(ptr);
    unsigned pe = leaf ? sa_pagemap_page_get(leaf, ptr) : 0;
    if (SA_LIKELY(pe != 0)) {
        if (SA_UNLIKELY(!sa_free_page_ok(pe, ptr)))
            return;
        forget_rec(sa_tag_page_slot(leaf, pe, ptr), ptr);
        sa_heap_free_class(pe, pe & SA_PM_PAGE_CLASS, ptr);
        return;
    }
    forget_rec(sa_tag_slot(ptr, 0), ptr);
    sa_free_inline(ptr);
}

SA_NOINLINE void sa_trace_free(void *ptr)
{
    /* Under lazy counters a freed block's record may go stale (alloc/walk.h). */
    if (ptr && !lazy_counters)
        forget_rec(sa_tag_slot(ptr, 0), ptr);
}

sa_tag sa_trace_detach(void *ptr)
{
    sa_tag none = {0, 0};
    return ptr ? forget_rec(sa_tag_slot(ptr, 0), ptr) : none;
}

void sa_trace_reattach(void *ptr, sa_tag r)
{
    if (!ptr || !r.id)
        return;
    sa_tag *rec = sa_tag_slot(ptr, 0);
    if (!sa_stack_current(r.id) || !rec)
        return;
    *rec = r;
    if (lazy_counters)
        return;
    size_t bytes = block_size(ptr, r.size);
    current_add(bytes, SA_STACK_GEN(r.id));
}

/* ---- Snapshots ---------------------------------------------------------- */

static void recount_block(sa_tag r, void *block, void *ctx)
{
    sa_stack *s = sa_stack_get(r.id);
    if (!s)
        return;   /* an older generation */
    size_t bytes = block_size(block, r.size);
    sa_stack_count_block(s, bytes);
    *(size_t *)ctx += bytes;
}

/* The live totals of every stack from the records, and with lazy
 * counters the traced current too (otherwise it is kept exact by malloc
 * and free).  With lazy counters a freed block keeps its record, so each
 * block is asked whether it is free; otherwise free() cleared it, and the
 * walk reads the records alone, not the heap.  Under snap_lock (one
 * recount at a time); takes the arena and large-block locks, so never
 * from inside the allocator. */
static void recount_stacks(void)
{
    size_t cur = 0;
    sa_stack_clear_totals();
    sa_tag_foreach(recount_block, &cur, lazy_counters);
    if (lazy_counters) {
        __atomic_store_n(&traced.current, cur, __ATOMIC_RELAXED);
        peak_update(cur);
    }
}

static int next_stack(void *ctx, sa_snap_wstack *out)
{
    return sa_stack_next(ctx, out);
}

static void exe_name(char *dst, size_t len)
{
    char path[SA_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    const char *base = "unknown";
    if (n > 0) {
        path[n] = '\0';
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
    }
    size_t l = strlen(base);
    if (l >= len)
        l = len - 1;
    memcpy(dst, base, l);
    dst[l] = '\0';
}

int sa_trace_dump(const char *path, uint32_t trigger, int wait, char *used)
{
    if (!__atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE))
        return -EINVAL;
    int saved = errno;
    int g = sa_trace_guard_enter();
    if (wait) {
        sa_lock_acquire(&snap_lock);
    } else if (pthread_mutex_trylock(&snap_lock) != 0) {
        sa_trace_guard_leave(g);
        return -EALREADY;   /* not a write error (rename says EBUSY for "."). */
    }
    uint32_t seq = ++sequence;
    char buf[SA_PATH_MAX];
    int rc = 0;
    if (!path) {
        char exe[256];
        exe_name(exe, sizeof exe);
        if (sa_config_expand(buf, sizeof buf, sa_trace_cfg.tmpl, (uint32_t)getpid(), seq, exe) < 0) {
            rc = -ENAMETOOLONG;
            buf[0] = '\0';
        }
        path = buf;
    }
    if (used) {
        size_t l = strlen(path);
        if (l >= SA_PATH_MAX)
            l = SA_PATH_MAX - 1;
        memcpy(used, path, l);
        used[l] = '\0';
    }
    if (rc == 0) {
        recount_stacks();
        sa_snap_winfo info = {
            .frame_limit = (uint32_t)__atomic_load_n(&trace_limit, __ATOMIC_RELAXED),
            .traced_current = current_now(),
            .traced_peak = __atomic_load_n(&traced.peak, __ATOMIC_RELAXED),
            .trigger = trigger,
            .sequence = seq,
        };
        uint32_t cursor = 0;
        rc = sa_snapshot_write(path, &info, next_stack, &cursor);
    }
    sa_lock_release(&snap_lock);
    sa_trace_guard_leave(g);
    errno = saved;
    return rc;
}

/* ---- Start-up and fork -------------------------------------------------- */

void (*sa_trace_baseline_hook)(void);

void sa_trace_start(void)
{
    lazy_counters = sa_trace_cfg.lazy_counters;
    sa_trigger_setup();
    if (sa_trace_cfg.depth > 0 && snapalloc_start(sa_trace_cfg.depth) != 0) {
        static const char msg[] = "snapalloc: SNAPALLOC_TRACE: cannot initialise the "
                                  "stack unwinder";
        const char *why = sa_trace_cfg.unwind == SA_UNWIND_LIBUNWIND ? sa_libunwind_error() : NULL;
        sa_os_write_all(2, msg, sizeof msg - 1);
        if (why) {
            sa_os_write_all(2, ": ", 2);
            sa_os_write_all(2, why, strlen(why));
        }
        static const char off[] = "; tracing stays off\n";
        sa_os_write_all(2, off, sizeof off - 1);
    }
    sa_trigger_start_helper();
}

/* ctl_lock is not taken here: start/stop may allocate under it (the
 * unwinder's set-up, with the guard set), and a thread waiting for the
 * allocator's locks while holding it would deadlock the fork.  The child
 * re-initialises it instead. */
void sa_trace_prefork(void)
{
    sa_lock_acquire(&snap_lock);
    sa_stack_prefork();
}

void sa_trace_postfork_parent(void)
{
    sa_stack_postfork_parent();
    sa_lock_release(&snap_lock);
}

void sa_trace_postfork_child(void)
{
    sa_stack_postfork_child();
    sa_lock_reinit(&snap_lock);
    sa_lock_reinit(&ctl_lock);
    sequence = 0;
    sa_trigger_postfork_child();
}

/* ---- Public API --------------------------------------------------------- */

static void counters_reset(void)
{
    __atomic_store_n(&traced.current, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&traced.peak, 0, __ATOMIC_RELAXED);
    size_t step = sa_trace_cfg.peak_step;
    __atomic_store_n(&peak_next, step ? step : SIZE_MAX, __ATOMIC_RELEASE);
    rearm();
}

SA_API int snapalloc_start(int nframe)
{
    if (nframe < 0 || nframe > SNAPALLOC_MAX_FRAMES)
        return -EINVAL;
    if (nframe == 0)
        nframe = SA_TRACE_DEFAULT_FRAMES;
    int saved = errno;
    sa_lock_acquire(&ctl_lock);
    int was_on = __atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED);
    if (!was_on) {
        /* Arm the hook, recording nothing yet (limit 0): what the
         * unwinder's set-up allocates under the guard (dlopen of
         * libunwind) is then marked as the tracer's own, not left as
         * blocks of unknown origin in the program's leak report. */
        __atomic_store_n(&trace_limit, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&sa_trace_on, 1, __ATOMIC_RELEASE);
    }
    int rc = sa_unwind_init(sa_trace_cfg.unwind);
    if (rc == 0) {
        if (!was_on) {
            counters_reset();
            __atomic_store_n(&sa_trace_free_on, !lazy_counters, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&trace_limit, nframe, __ATOMIC_RELEASE);
    } else if (!was_on) {
        __atomic_store_n(&sa_trace_on, 0, __ATOMIC_RELEASE);
    }
    sa_lock_release(&ctl_lock);
    errno = saved;
    return rc;
}

/* Forget every trace: a new generation.  Waits for a snapshot being
 * written (it iterates the table). */
static void traces_reset(void)
{
    sa_lock_acquire(&snap_lock);
    sa_stack_reset();
    counters_reset();
    sa_lock_release(&snap_lock);
}

SA_API void snapalloc_stop(void)
{
    sa_lock_acquire(&ctl_lock);
    if (__atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED)) {
        __atomic_store_n(&sa_trace_on, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&sa_trace_free_on, 0, __ATOMIC_RELEASE);
        traces_reset();
        __atomic_store_n(&trace_limit, 0, __ATOMIC_RELAXED);
    }
    sa_lock_release(&ctl_lock);
}

SA_API int snapalloc_is_tracing(void)
{
    return __atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE) != 0;
}

SA_API int snapalloc_get_traceback_limit(void)
{
    return snapalloc_is_tracing() ? __atomic_load_n(&trace_limit, __ATOMIC_RELAXED) : 0;
}

SA_API void snapalloc_get_traced_memory(size_t *current, size_t *peak)
{
    int on = snapalloc_is_tracing();
    if (on && lazy_counters) {
        int g = sa_trace_guard_enter();
        sa_lock_acquire(&snap_lock);
        recount_stacks();
        sa_lock_release(&snap_lock);
        sa_trace_guard_leave(g);
    }
    size_t c = on ? current_now() : 0;
    size_t p = on ? __atomic_load_n(&traced.peak, __ATOMIC_RELAXED) : 0;
    if ((ptrdiff_t)c < 0)   /* a free raced a clear */
        c = 0;
    if (current)
        *current = c;
    if (peak)
        *peak = p > c ? p : c;
}

SA_API void snapalloc_reset_peak(void)
{
    __atomic_store_n(&traced.peak, current_now(), __ATOMIC_RELAXED);
}

SA_API void snapalloc_clear_traces(void)
{
    sa_lock_acquire(&ctl_lock);
    if (__atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED))
        traces_reset();
    sa_lock_release(&ctl_lock);
}

SA_API size_t snapalloc_get_tracemalloc_memory(void)
{
    return sa_stack_mapped_bytes() + __atomic_load_n(&sa_tag_mem, __ATOMIC_RELAXED);
}

SA_API int snapalloc_get_object_traceback(const void *ptr, void **frames, int max)
{
    if (!ptr || !frames || max <= 0 || !snapalloc_is_tracing())
        return 0;
    sa_tag *rec = sa_tag_slot(ptr, 0);
    if (!rec || (lazy_counters && sa_block_is_free(ptr)))   /* a stale record */
        return 0;
    sa_stack *s = sa_stack_get(rec->id);
    if (!s)
        return 0;
    int n = s->nframes < max ? s->nframes : max;
    for (int i = 0; i < n; i++)
        frames[i] = (void *)s->frames[i];
    return n;
}

SA_API int snapalloc_take_snapshot(const char *path)
{
    return sa_trace_dump(path, SA_SNAP_TRIGGER_API, 1, NULL);
}

SA_API void snapalloc_mark_baseline(void)
{
    uint64_t size = 0, count = 0;
    uint32_t cursor = 0;
    sa_snap_wstack st;
    int g = sa_trace_guard_enter();
    sa_lock_acquire(&snap_lock);
    if (snapalloc_is_tracing())
        recount_stacks();
    while (sa_stack_next(&cursor, &st)) {
        size += st.size;
        count += st.count;
    }
    sa_lock_release(&snap_lock);
    sa_trace_guard_leave(g);
    sa_lock_acquire(&ctl_lock);
    baseline.size = size;
    baseline.count = count;
    baseline.marked = 1;
    sa_lock_release(&ctl_lock);
    void (*hook)(void) = sa_trace_baseline_hook;
    if (hook)
        hook();   /* SNAPALLOC_CHECK: PID.baseline.snap */
}

int sa_trace_baseline(uint64_t *size, uint64_t *count)
{
    sa_lock_acquire(&ctl_lock);
    int marked = baseline.marked;
    if (size)
        *size = baseline.size;
    if (count)
        *count = baseline.count;
    sa_lock_release(&ctl_lock);
    return marked;
}
