/* trace/dump.c - writing a snapshot: the live totals of every stack
 * and the size histogram recounted from the blocks' tags, a timeline
 * point, then the file (format/write.c), one writer at a time
 * (sa_trace_snap_lock), named from SNAPALLOC_SNAPSHOT's template (the
 * high-water mark file: with %n as "peak").
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc/walk.h"
#include "common/lock.h"
#include "common/os.h"
#include "format/snapshot.h"
#include "trace/config.h"
#include "trace/stack.h"
#include "trace/timeline.h"
#include "trace/trace.h"
#include "trace/tracer.h"

sa_lock sa_trace_snap_lock = SA_LOCK_INIT;
uint32_t sa_trace_sequence;
uint64_t sa_trace_hist_count[SA_SNAP_HIST_BUCKETS];
uint64_t sa_trace_hist_size[SA_SNAP_HIST_BUCKETS];
/* The writer's copy of the timeline (under sa_trace_snap_lock). */
static sa_snap_point timeline_copy[SA_TIMELINE_POINTS];

static void recount_block(sa_tag r, void *block, void *ctx)
{
    sa_stack *s = sa_stack_get(r.id);
    if (!s)
        return;   /* an older generation */
    size_t bytes = sa_trace_block_size(block, r.size);
    uint64_t t = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED);
    if (t) {   /* sampled: what the block stands for (trace/sample.h) */
        uint64_t est, blocks;
        sa_sample_weigh(bytes, t, &est, &blocks);
        sa_stack_count_blocks(s, est, blocks);
        *(size_t *)ctx += est;
        return;
    }
    sa_stack_count_block(s, bytes);
    unsigned b = sa_snap_hist_bucket(bytes);
    sa_trace_hist_count[b]++;
    sa_trace_hist_size[b] += bytes;
    *(size_t *)ctx += bytes;
}

/* The live totals of every stack from the records, and with lazy
 * counters the traced current too (otherwise it is kept exact by malloc
 * and free).  With lazy counters a freed block keeps its record, so each
 * block is asked whether it is free; otherwise free() cleared it, and the
 * walk reads the records alone, not the heap.  Under sa_trace_snap_lock (one
 * recount at a time); takes the arena and large-block locks, so never
 * from inside the allocator. */
void sa_trace_recount(void)
{
    size_t cur = 0;
    sa_stack_clear_totals();
    memset(sa_trace_hist_count, 0, sizeof sa_trace_hist_count);
    memset(sa_trace_hist_size, 0, sizeof sa_trace_hist_size);
    sa_tag_foreach(recount_block, &cur, sa_trace_lazy);
    if (sa_trace_lazy) {
        __atomic_store_n(&sa_traced.current, cur, __ATOMIC_RELAXED);
        sa_trace_peak_update(cur);
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

/* The file a snapshot goes to: path, or the template's expansion (with
 * %n the sequence number, or "peak" for the high-water mark file: a
 * template without %n gets ".peak" appended). */
static int snapshot_path(char *buf, const char *path, uint32_t seq, int peak)
{
    if (path) {
        size_t l = strlen(path);
        if (l >= SA_PATH_MAX)
            return -ENAMETOOLONG;
        memcpy(buf, path, l + 1);
        return 0;
    }
    char exe[256];
    exe_name(exe, sizeof exe);
    int has_n = 0;
    int n = sa_config_expand_seq(buf, SA_PATH_MAX, sa_trace_cfg.tmpl, (uint32_t)getpid(),
                                 peak ? "peak" : NULL, seq, exe, &has_n);
    if (n >= 0 && peak && !has_n) {
        if ((size_t)n + sizeof ".peak" > SA_PATH_MAX)
            n = -1;
        else
            memcpy(buf + n, ".peak", sizeof ".peak");
    }
    return n < 0 ? -ENAMETOOLONG : 0;
}

static void copy_used(char *used, const char *path)
{
    if (!used)
        return;
    size_t l = strlen(path);
    if (l >= SA_PATH_MAX)
        l = SA_PATH_MAX - 1;
    memcpy(used, path, l);
    used[l] = '\0';
}

/* Recount, take the snapshot's timeline point and write; under the
 * snapshot lock. */
static int write_locked(const char *path, uint32_t trigger, uint32_t seq)
{
    sa_trace_recount();
    size_t cur = sa_trace_current_now();
    sa_trace_point(cur, 1);
    sa_snap_winfo info = {
        .frame_limit = (uint32_t)__atomic_load_n(&sa_trace_limit, __ATOMIC_RELAXED),
        .traced_current = cur,
        .traced_peak = __atomic_load_n(&sa_traced.peak, __ATOMIC_RELAXED),
        .trigger = trigger,
        .sequence = seq,
        .sample_interval = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED),
        .timeline = timeline_copy,
        .hist_count = sa_trace_hist_count,
        .hist_size = sa_trace_hist_size,
    };
    info.ntimeline = sa_trace_timeline_copy(timeline_copy);
    /* Sampled blocks stand for estimates the histogram's exact buckets
     * cannot hold: a sampled snapshot has none. */
    if (info.sample_interval)
        info.hist_count = info.hist_size = NULL;
    uint32_t cursor = 0;
    return sa_snapshot_write(path, &info, next_stack, &cursor);
}

/* Run fn(ctx) under sa_trace_snap_lock, with the tracer's guard set and
 * errno kept: -EINVAL when not tracing, -EALREADY when !wait and a
 * snapshot is being written (not a write error: rename says EBUSY for
 * "."). */
static int under_snap_lock(int wait, int (*fn)(void *ctx), void *ctx)
{
    if (!(__atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE) & SA_TRACE_ON_TRACER))
        return -EINVAL;
    int saved = errno;
    int g = sa_trace_guard_enter();
    if (wait) {
        sa_lock_acquire(&sa_trace_snap_lock);
    } else if (pthread_mutex_trylock(&sa_trace_snap_lock) != 0) {
        sa_trace_guard_leave(g);
        return -EALREADY;
    }
    int rc = fn(ctx);
    sa_lock_release(&sa_trace_snap_lock);
    sa_trace_guard_leave(g);
    errno = saved;
    return rc;
}

struct dump_req {
    const char *path;
    uint32_t trigger;
    int peak;
    char *used;
};

static int dump_locked(void *ctx)
{
    struct dump_req *r = ctx;
    /* The peak file takes no sequence number: the numbered files stay
     * 1, 2, 3... whatever the peaks; its header says 0. */
    uint32_t seq = r->peak ? 0 : ++sa_trace_sequence;
    char buf[SA_PATH_MAX];
    int rc = snapshot_path(buf, r->path, seq, r->peak);
    copy_used(r->used, rc == 0 ? buf : r->path ? r->path : "");
    if (rc == 0)
        rc = write_locked(buf, r->trigger, seq);
    return rc;
}

static int dump(const char *path, uint32_t trigger, int wait, char *used, int peak)
{
    struct dump_req r = { path, trigger, peak, used };
    return under_snap_lock(wait, dump_locked, &r);
}

int sa_trace_dump(const char *path, uint32_t trigger, int wait, char *used)
{
    return dump(path, trigger, wait, used, 0);
}

/* ---- The high-water mark: captured now, written soon ---------------------
 *
 * Writing the file (the stacks' frames interned, the module table, the
 * file itself) is two thirds of a snapshot's cost; the recount a third.
 * A program whose peaks rise in small steps (python3 on the benchmark:
 * 43 peak files in 1.2 s, +10% CPU) would pay it at each.  So the state
 * at a peak is captured (the recount, and a copy of the stacks' totals
 * and the histogram) and the file written from the capture at most once
 * a second, and at exit: a capture superseded within the second is
 * never encoded.  A process killed before exit keeps the file of at most
 * a second earlier.  Under sa_trace_snap_lock; the stacks' frames stay
 * valid until the table is reset, which drops the capture
 * (sa_trace_peak_discard). */
#define PEAK_WRITE_GAP_NS 1000000000ll

static sa_snap_wstack *peak_stacks;   /* sa_os_map'ed */
static size_t peak_stacks_bytes;
static uint32_t peak_nstacks;
static uint64_t peak_hist_count[SA_SNAP_HIST_BUCKETS], peak_hist_size[SA_SNAP_HIST_BUCKETS];
static sa_snap_winfo peak_info;
static int peak_dirty;                /* a capture not written yet */
static int64_t peak_written_ns;       /* CLOCK_MONOTONIC of the last file */

static int64_t mono_ns(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int next_captured(void *ctx, sa_snap_wstack *out)
{
    uint32_t *i = ctx;
    if (*i >= peak_nstacks)
        return 0;
    *out = peak_stacks[(*i)++];
    return 1;
}

/* Room for n captured stacks: 0 or -ENOMEM. */
static int peak_reserve(size_t n)
{
    size_t need = sa_os_page_round(n * sizeof *peak_stacks);
    if (need <= peak_stacks_bytes)
        return 0;
    size_t bytes = peak_stacks_bytes ? peak_stacks_bytes : SA_OS_PAGE;
    while (bytes < need)
        bytes *= 2;
    sa_snap_wstack *fresh = sa_os_map(bytes, SA_OS_PAGE);
    if (!fresh)
        return -ENOMEM;
    if (peak_stacks) {
        memcpy(fresh, peak_stacks, peak_nstacks * sizeof *peak_stacks);
        sa_os_unmap(peak_stacks, peak_stacks_bytes);
    }
    peak_stacks = fresh;
    peak_stacks_bytes = bytes;
    return 0;
}

/* Recount and keep the state; 0 or -ENOMEM. */
static int peak_capture(void)
{
    sa_trace_recount();
    uint32_t cursor = 0, n = 0;
    sa_snap_wstack st;
    while (sa_stack_next(&cursor, &st)) {
        if (peak_reserve((size_t)n + 1))
            return -ENOMEM;
        peak_stacks[n++] = st;
    }
    peak_nstacks = n;
    memcpy(peak_hist_count, sa_trace_hist_count, sizeof peak_hist_count);
    memcpy(peak_hist_size, sa_trace_hist_size, sizeof peak_hist_size);
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t cur = sa_trace_current_now();
    sa_trace_point(cur, 1);
    peak_info = (sa_snap_winfo){
        .frame_limit = (uint32_t)__atomic_load_n(&sa_trace_limit, __ATOMIC_RELAXED),
        .traced_current = cur,
        .traced_peak = __atomic_load_n(&sa_traced.peak, __ATOMIC_RELAXED),
        .trigger = SA_SNAP_TRIGGER_PEAK,
        .time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
        .hist_count = peak_hist_count,
        .hist_size = peak_hist_size,
    };
    peak_dirty = 1;
    return 0;
}

/* The captured state to the peak file, with the timeline as it is now. */
static int peak_file(char *used)
{
    char buf[SA_PATH_MAX];
    int rc = snapshot_path(buf, NULL, 0, 1);
    copy_used(used, rc == 0 ? buf : "");
    if (rc == 0) {
        peak_info.timeline = timeline_copy;
        peak_info.ntimeline = sa_trace_timeline_copy(timeline_copy);
        uint32_t cursor = 0;
        rc = sa_snapshot_write(buf, &peak_info, next_captured, &cursor);
    }
    peak_dirty = 0;
    peak_written_ns = mono_ns();
    return rc;
}

/* now: capture (and write if the last file is a second old); else write
 * a capture not written yet. */
static int peak_locked(int capture, char *used)
{
    int rc = 0;
    if (capture) {
        rc = peak_capture();
        if (rc == 0 && peak_written_ns && mono_ns() - peak_written_ns < PEAK_WRITE_GAP_NS)
            return 0;
    }
    return rc == 0 && peak_dirty ? peak_file(used) : rc;
}

struct peak_req {
    int capture;
    char *used;
};

static int peak_req_locked(void *ctx)
{
    struct peak_req *r = ctx;
    return peak_locked(r->capture, r->used);
}

static int peak_op(int capture, int wait, char *used)
{
    if (used)
        used[0] = '\0';
    struct peak_req r = { capture, used };
    return under_snap_lock(wait, peak_req_locked, &r);
}

int sa_trace_dump_peak(char *used)
{
    return peak_op(1, 0, used);
}

int sa_trace_peak_write_due(char *used, int wait)
{
    if (!__atomic_load_n(&peak_dirty, __ATOMIC_ACQUIRE))
        return 0;
    if (!wait && peak_written_ns && mono_ns() - peak_written_ns < PEAK_WRITE_GAP_NS)
        return 0;
    return peak_op(0, wait, used);
}

void sa_trace_peak_discard(void)
{
    peak_dirty = 0;
    peak_nstacks = 0;
}
