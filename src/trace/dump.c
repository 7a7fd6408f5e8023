/* trace/dump.c - writing a snapshot: the live totals of every stack
 * and the size histogram recounted from the blocks' tags, a timeline
 * point, then the file (format/write.c), one writer at a time
 * (sa_trace_snap_lock), named from SNAPALLOC_SNAPSHOT's template (the
 * high-water mark file: with %n as "peak").
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "alloc/walk.h"
#include "common/lock.h"
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

static int dump(const char *path, uint32_t trigger, int wait, char *used, int peak)
{
    if (!__atomic_load_n(&sa_trace_on, __ATOMIC_ACQUIRE))
        return -EINVAL;
    int saved = errno;
    int g = sa_trace_guard_enter();
    if (wait) {
        sa_lock_acquire(&sa_trace_snap_lock);
    } else if (pthread_mutex_trylock(&sa_trace_snap_lock) != 0) {
        sa_trace_guard_leave(g);
        return -EALREADY;   /* not a write error (rename says EBUSY for "."). */
    }
    /* The peak file takes no sequence number: the numbered files stay
     * 1, 2, 3... whatever the peaks; its header says 0. */
    uint32_t seq = peak ? 0 : ++sa_trace_sequence;
    char buf[SA_PATH_MAX];
    int rc = snapshot_path(buf, path, seq, peak);
    copy_used(used, rc == 0 ? buf : path ? path : "");
    if (rc == 0)
        rc = write_locked(buf, trigger, seq);
    sa_lock_release(&sa_trace_snap_lock);
    sa_trace_guard_leave(g);
    errno = saved;
    return rc;
}

int sa_trace_dump(const char *path, uint32_t trigger, int wait, char *used)
{
    return dump(path, trigger, wait, used, 0);
}

int sa_trace_dump_peak(char *used)
{
    return dump(NULL, SA_SNAP_TRIGGER_PEAK, 0, used, 1);
}
