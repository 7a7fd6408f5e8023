/* trace/dump.c - writing a snapshot: the live totals of every stack
 * recounted from the blocks' tags, then the file (format/write.c), one
 * writer at a time (sa_trace_snap_lock), named from SNAPALLOC_SNAPSHOT's
 * template.
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
#include "trace/trace.h"
#include "trace/tracer.h"

sa_lock sa_trace_snap_lock = SA_LOCK_INIT;
uint32_t sa_trace_sequence;

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

int sa_trace_dump(const char *path, uint32_t trigger, int wait, char *used)
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
    uint32_t seq = ++sa_trace_sequence;
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
        sa_trace_recount();
        sa_snap_winfo info = {
            .frame_limit = (uint32_t)__atomic_load_n(&sa_trace_limit, __ATOMIC_RELAXED),
            .traced_current = sa_trace_current_now(),
            .traced_peak = __atomic_load_n(&sa_traced.peak, __ATOMIC_RELAXED),
            .trigger = trigger,
            .sequence = seq,
            .sample_interval = __atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED),
        };
        uint32_t cursor = 0;
        rc = sa_snapshot_write(path, &info, next_stack, &cursor);
    }
    sa_lock_release(&sa_trace_snap_lock);
    sa_trace_guard_leave(g);
    errno = saved;
    return rc;
}
