/* trace/config.c - the tracer's environment variables (parsed once at
 * start-up) and the snapshot triggers they set up: at exit, on a signal,
 * every N seconds, at new peaks (SNAPALLOC_PEAK=BYTES), the high-water
 * mark file (SNAPALLOC_PEAK=auto, trace/trace.c).
 *
 * Where snapshots are written from, and why:
 *   - signal and interval: a helper thread.  The signal handler only sets a
 *     flag and posts a semaphore (both async-signal-safe); the helper waits
 *     on the semaphore, with a deadline when an interval is set, and writes
 *     the snapshot outside any signal context or allocator lock.  It is
 *     started by sa_trace_start (libsnapalloc's constructor), after libc is initialised and
 *     outside allocator locks, with the reentrancy guard set (pthread_create
 *     allocates the new thread's TLS vector).  A fork child has no helper:
 *     the child's first traced allocation starts a new one (trace/trace.c's slow
 *     path), again outside allocator locks.
 *   - at exit: the exit sequence (preload/lifecycle.c), from libsnapalloc's
 *     destructor, which runs after the program's own atexit handlers and
 *     destructors, so the snapshot shows what they left alive.  _exit()
 *     and _Exit() write it too; a fatal signal writes nothing.
 *   - peak: synchronously, in the allocating thread, at the end of the
 *     traced malloc (trace/trace.c): the hook runs after the allocator has
 *     released its locks, the guard keeps the writer's own allocations
 *     untraced, and the snapshot is exact for single-threaded programs,
 *     like jemalloc's prof_gdump.  If another snapshot is being written the
 *     peak snapshot is skipped rather than waited for (no lock-order
 *     inversion with the writer's dl_iterate_phdr).
 *   - the high-water mark file: in the thread whose free first takes the
 *     traced current below a new peak (the traced free path, before the
 *     block is freed and with no allocator lock held), skipped the same
 *     way; or at exit, before the exit snapshot.
 */
#include "trace/config.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fmt.h"
#include "alloc/alloc.h"
#include "common/os.h"
#include "common/thread.h"
#include "snapalloc.h"
#include "format/snapshot.h"
#include "trace/tracer.h"
#include "trace/unwind.h"

_Static_assert(SA_CONFIG_MAX_FRAMES == SNAPALLOC_MAX_FRAMES, "one frame limit");

sa_trace_config sa_trace_cfg = {
    .at_exit = 0, .unwind = SA_UNWIND_LIBUNWIND, .tmpl = SA_SNAPSHOT_DEFAULT_TEMPLATE,
};

int sa_config_parse_template(const char *s)
{
    return s && *s && strlen(s) < SA_PATH_MAX ? 0 : -1;
}

/* ---- Template expansion ----------------------------------------------- */

int sa_config_expand(char *dst, size_t dstlen, const char *tmpl,
                     uint32_t pid, uint32_t seq, const char *exe)
{
    return sa_config_expand_seq(dst, dstlen, tmpl, pid, NULL, seq, exe, NULL);
}

int sa_config_expand_seq(char *dst, size_t dstlen, const char *tmpl, uint32_t pid,
                         const char *seq_text, uint32_t seq, const char *exe, int *has_n)
{
    size_t n = 0;
    char num[21];
    if (has_n)
        *has_n = 0;
    for (const char *p = tmpl; *p; p++) {
        const char *add = p;
        size_t len = 1;
        if (*p == '%' && p[1]) {
            p++;
            switch (*p) {
            case 'p': len = sa_fmt_u64(num, pid); add = num; break;
            case 'n':
                if (has_n)
                    *has_n = 1;
                if (seq_text) {
                    add = seq_text;
                    len = strlen(seq_text);
                } else {
                    len = sa_fmt_u64(num, seq);
                    add = num;
                }
                break;
            case 'e': add = exe; len = strlen(exe); break;
            case '%': add = p; len = 1; break;
            default:  add = p - 1; len = 2; break;   /* unknown: as is */
            }
        }
        if (len >= dstlen - n)
            return -1;
        memcpy(dst + n, add, len);
        n += len;
    }
    if (n >= dstlen)
        return -1;
    dst[n] = '\0';
    return (int)n;
}

/* ---- Errno text -------------------------------------------------------- */

const char *sa_config_errno_text(int err)
{
    switch (err) {
    case EACCES: return "Permission denied";
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EEXIST: return "File exists";
    case ENOSPC: return "No space left on device";
    case EDQUOT: return "Disk quota exceeded";
    case EROFS: return "Read-only file system";
    case ENAMETOOLONG: return "File name too long";
    case ELOOP: return "Too many levels of symbolic links";
    case ENOMEM: return "Cannot allocate memory";
    case EIO: return "Input/output error";
    case EFBIG: return "File too large";
    case EMFILE: return "Too many open files";
    case ENFILE: return "Too many open files in system";
    case EINVAL: return "Invalid argument";
    case EBUSY: return "Device or resource busy";
    default: return NULL;
    }
}

/* ---- Reading the environment ------------------------------------------ */


/* SNAPALLOC_REPORT_SOCKET names an abstract unix datagram socket that
 * `snapalloc run` reads to learn which processes could not write their
 * files (a child that dropped privileges cannot write into the run's
 * directory, but anyone may send to an abstract socket).  No descriptor is
 * inherited: the program sees the same descriptors as in a plain run.
 *
 * The variables, their ranges, defaults and warnings are the table's
 * (common/config.c); SNAPALLOC_SNAPSHOT_AT_EXIT defaults to whether
 * SNAPALLOC_TRACE traces. */
void sa_trace_config_read(sa_trace_config *c, int fd)
{
    c->lazy_counters = 0;
    c->exact = 0;
    sa_config_read_group(SA_CONFIG_TRACE, c, fd);
    /* The high-water mark by default while tracing; not for a bad value
     * (its warning said "no peak trigger"). */
    c->peak_defaulted = c->depth > 0 && !secure_getenv("SNAPALLOC_PEAK");
    if (c->peak_defaulted)
        c->peak_step = SA_CONFIG_PEAK_AUTO;
}

/* ---- Triggers ----------------------------------------------------------- */

static sem_t wake;
static int wake_ready;        /* sem_init done (in this process) */
static int signal_pending;    /* atomic */
static int helper_state;      /* atomic: 0 none, 1 starting or running */
static int helper_allowed;    /* set by sa_trigger_start_helper: libc is ready */

/* Whether (path, err) was reported already; remembers the first few. */
static int already_reported(const char *path, int err)
{
    static uint64_t seen[32];
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(err < 0 ? -err : err);
    for (const char *p = path ? path : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h |= 1;   /* 0 marks a free slot */
    for (unsigned i = 0; i < sizeof seen / sizeof *seen; i++) {
        uint64_t cur = __atomic_load_n(&seen[i], __ATOMIC_RELAXED);
        if (cur == h)
            return 1;
        if (cur == 0 && __atomic_compare_exchange_n(&seen[i], &cur, h, 0, __ATOMIC_RELAXED,
                                                    __ATOMIC_RELAXED))
            return 0;
        if (cur == h)
            return 1;
    }
    return 0;   /* table full: report */
}

/* One record "PID<TAB>ERRNO<TAB>PATH\n", one datagram, to the run's
 * socket.  The descriptor lives only for this call; the send never blocks
 * (a full queue loses the record, not the program). */
static void report_record(const char *path, int err)
{
    const char *name = sa_trace_cfg.report_sock;
    if (!name[0])
        return;
    int saved = errno;
    char rec[512];
    size_t n = sa_fmt_u64(rec, (uint64_t)getpid());
    rec[n++] = '\t';
    n += sa_fmt_u64(rec + n, (uint64_t)(err < 0 ? -err : err));
    rec[n++] = '\t';
    size_t l = path ? strlen(path) : 0;
    if (l > sizeof rec - n - 1)
        l = sizeof rec - n - 1;
    if (l)
        memcpy(rec + n, path, l);
    n += l;
    rec[n++] = '\n';
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        size_t nl = strlen(name);   /* < 64: parse_report_sock */
        memcpy(a.sun_path + 1, name, nl);
        ssize_t w = sendto(s, rec, n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a,
                           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nl));
        (void)w;
        close(s);
    }
    errno = saved;
}

void sa_trigger_report(const char *path, int err)
{
    sa_trigger_report_note(path, err, NULL);
}

void sa_trigger_report_note(const char *path, int err, const char *note)
{
    if (already_reported(path, err))
        return;
    report_record(path, err);
    sa_buf b;
    int e = err < 0 ? -err : err;
    const char *why = e == EEXIST ? "it exists and is not a regular file of ours (not replaced)"
                      : e == EISDIR ? "it is a directory"
                      : sa_config_errno_text(e);
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: cannot write snapshot ");
    sa_buf_str(&b, path && *path ? path : "(template)");
    sa_buf_str(&b, ": ");
    if (why) {
        sa_buf_str(&b, why);
    } else {
        sa_buf_str(&b, "errno ");
        sa_buf_u64(&b, (uint64_t)(err < 0 ? -err : err));
    }
    if (note)
        sa_buf_str(&b, note);
    sa_buf_char(&b, '\n');
    sa_buf_flush(&b);
}

static void dump(uint32_t trigger, int wait)
{
    char used[SA_PATH_MAX];
    used[0] = '\0';
    int rc = sa_trace_dump(NULL, trigger, wait, used);
    if (rc < 0 && rc != -EINVAL && rc != -EALREADY)
        sa_trigger_report(used, rc);
}

static void on_signal(int sig)
{
    int saved = errno;
    __atomic_store_n(&signal_pending, 1, __ATOMIC_RELEASE);
    if (wake_ready)
        sem_post(&wake);
    errno = saved;
}

#define NS_PER_S 1000000000ull

static void ts_add(struct timespec *t, uint64_t ns)
{
    uint64_t sum = (uint64_t)t->tv_nsec + ns % NS_PER_S;
    t->tv_sec += (time_t)(ns / NS_PER_S + sum / NS_PER_S);
    t->tv_nsec = (long)(sum % NS_PER_S);
}

static int ts_reached(const struct timespec *now, const struct timespec *t)
{
    return now->tv_sec > t->tv_sec || (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

static void *helper_main(void *arg)
{
    uint64_t iv = sa_trace_cfg.interval_ns;
    struct timespec next, now;
    clock_gettime(CLOCK_MONOTONIC, &next);
    ts_add(&next, iv);
    for (;;) {
        if (iv) {
            while (sem_clockwait(&wake, CLOCK_MONOTONIC, &next) != 0 && errno == EINTR)
                ;
        } else {
            while (sem_wait(&wake) != 0)
                ;
        }
        if (__atomic_exchange_n(&signal_pending, 0, __ATOMIC_ACQ_REL))
            dump(SA_SNAP_TRIGGER_SIGNAL, 1);
        if (!iv)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts_reached(&now, &next)) {
            dump(SA_SNAP_TRIGGER_INTERVAL, 1);
            ts_add(&next, iv);
            /* Late (a slow snapshot, a stopped process): go on from now
             * instead of catching up in a burst. */
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (ts_reached(&now, &next)) {
                next = now;
                ts_add(&next, iv);
            }
        }
    }
    return arg;
}

void sa_trigger_setup(void)
{
    if (!wake_ready) {
        sem_init(&wake, 0, 0);
        wake_ready = 1;
    }
    if (sa_trace_cfg.signo) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(sa_trace_cfg.signo, &sa, NULL);
    }
}

void sa_trigger_helper_ensure(void)
{
    if (!(sa_trace_cfg.signo || sa_trace_cfg.interval_ns) || !helper_allowed)
        return;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&helper_state, &expected, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    int g = sa_trace_guard_enter();
    /* The helper takes no signals but the leak check's stop signal. */
    int ok = sa_thread_start_detached(helper_main, 256 * 1024) == 0;
    sa_trace_guard_leave(g);
    if (!ok) {
        static const char msg[] = "snapalloc: cannot start the snapshot helper thread; "
                                  "SNAPALLOC_SIGNAL and SNAPALLOC_INTERVAL are ignored\n";
        sa_os_write_all(2, msg, sizeof msg - 1);
    }
}

void sa_trigger_postfork_child(void)
{
    /* The helper thread did not survive the fork; the semaphore may have
     * been copied mid-operation. */
    __atomic_store_n(&helper_state, 0, __ATOMIC_RELEASE);
    sa_trace_timeline_postfork();
    if (wake_ready)
        sem_init(&wake, 0, 0);
    if (sa_trace_cfg.signo || sa_trace_cfg.interval_ns)
        sa_trace_request_slowpath();
}

void sa_trigger_start_helper(void)
{
    __atomic_store_n(&helper_allowed, 1, __ATOMIC_RELEASE);
    sa_trigger_helper_ensure();
}

void sa_trace_exit_snapshot(void)
{
    static int done;
    /* A peak memory never fell from: the state now is within 1% of it. */
    sa_trace_peak_flush();
    if (sa_trace_cfg.at_exit && snapalloc_is_tracing() &&
        !__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
        dump(SA_SNAP_TRIGGER_EXIT, 1);
}
