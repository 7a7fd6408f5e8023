/* leak/world.c - stop every other thread of the process for the leak scan,
 * save its registers, stack pointer and thread pointer, and resume it.
 *
 * The threads are the entries of /proc/self/task (read with open and
 * getdents64: opendir allocates).  Each one gets SIGRTMIN+6 with tgkill;
 * the handler finds the thread's slot by tid, copies the interrupted
 * general-purpose registers from its ucontext into the slot, marks it
 * STOPPED (a futex wake for the scanner) and waits on a futex until the
 * scanner releases the world.  Everything the handler touches is a raw
 * syscall or an atomic.  New threads may be created by threads not yet
 * stopped, so the task list is read again until a round finds none new.
 *
 * Threads the signal cannot stop, a thread blocking it (SigBlk in its
 * /proc status: servers block every signal in their workers) or one that
 * does not answer within 2 seconds, are stopped with ptrace instead, as
 * LeakSanitizer stops every thread: a thread cannot trace its own thread
 * group, so a helper task sharing our memory (clone without CLONE_THREAD)
 * seizes and interrupts them, reads their registers, keeps them stopped
 * until the scan is over and detaches (leak/world_trace.c).  Where ptrace
 * is not allowed, such a thread is scanned from the stack pointer its
 * /proc syscall file shows (it sleeps in a system call), with one warning
 * line; a thread that is running there too is skipped with a warning.  A
 * thread that has already exited is simply gone (tgkill says ESRCH).
 *
 * The handler stays installed after the first stop (the check runs at
 * exit): a signal that arrives late, after a timeout, must never meet the
 * default action of a real-time signal, which kills the process.  When
 * every thread left the handler in time, the previous action is put back.
 */
#include "leak/leak.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/fmt.h"
#include "leak/world_trace.h"
#include "common/os.h"

#define STOP_TIMEOUT_NS 2000000000ull
#define MAX_ROUNDS 16

static sa_leak_thread *cur_threads;   /* atomic: the slots of this stop */
static uint32_t cur_n;                /* atomic */
static uint32_t stop_gen, release_gen;   /* futex words */
static int handler_installed;
static struct sigaction old_action;

static long futex(int *addr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static void save_context(sa_leak_thread *t, const ucontext_t *uc)
{
#if defined(__x86_64__)
    for (int i = 0; i < NGREG && i < SA_LEAK_NREGS; i++)
        t->regs[i] = (uintptr_t)uc->uc_mcontext.gregs[i];
    t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    for (int i = 0; i < 31 && i < SA_LEAK_NREGS; i++)
        t->regs[i] = (uintptr_t)uc->uc_mcontext.regs[i];
    t->sp = (uintptr_t)uc->uc_mcontext.sp;
#else
    /* Elsewhere: the whole machine context as words, and our own frame
     * as the stack pointer (the interrupted frames are above it). */
    size_t n = sizeof uc->uc_mcontext / sizeof(uintptr_t);
    memcpy(t->regs, &uc->uc_mcontext, (n < SA_LEAK_NREGS ? n : SA_LEAK_NREGS) * sizeof(uintptr_t));
    t->sp = (uintptr_t)__builtin_frame_address(0);
#endif
}

static void on_stop(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved = errno;
    int gen = (int)__atomic_load_n(&stop_gen, __ATOMIC_ACQUIRE);
    sa_leak_thread *ts = __atomic_load_n(&cur_threads, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&cur_n, __ATOMIC_ACQUIRE);
    if (!ts || (int)__atomic_load_n(&release_gen, __ATOMIC_ACQUIRE) == gen) {
        errno = saved;
        return;   /* late: that stop is over */
    }
    pid_t me = my_tid();
    sa_leak_thread *t = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (ts[i].tid == me) {
            t = &ts[i];
            break;
        }
    if (!t || __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != SA_LT_SENT) {
        errno = saved;
        return;
    }
    save_context(t, ucv);
    t->tp = sa_os_thread_pointer();
    int expected = SA_LT_SENT;
    if (!__atomic_compare_exchange_n(&t->state, &expected, SA_LT_STOPPED, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        errno = saved;
        return;   /* the scanner gave up on us */
    }
    futex(&t->state, FUTEX_WAKE_PRIVATE, 1, NULL);
    for (;;) {
        int r = (int)__atomic_load_n(&release_gen, __ATOMIC_ACQUIRE);
        if (r == gen)
            break;
        futex((int *)&release_gen, FUTEX_WAIT_PRIVATE, r, NULL);
    }
    __atomic_store_n(&t->state, SA_LT_LEFT, __ATOMIC_RELEASE);
    futex(&t->state, FUTEX_WAKE_PRIVATE, 1, NULL);
    errno = saved;
}

static int signo(void)
{
    return SIGRTMIN + SA_LEAK_SIGNAL_OFFSET;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait until t leaves state `from` or the deadline passes; 1 if it left. */
static int wait_state(sa_leak_thread *t, int from, uint64_t deadline)
{
    for (;;) {
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != from)
            return 1;
        uint64_t now = now_ns();
        if (now >= deadline)
            return 0;
        uint64_t left = deadline - now;
        struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
        futex(&t->state, FUTEX_WAIT_PRIVATE, from, &ts);
    }
}

void sa_leak_warn_thread(int fd, pid_t tid, const char *why)
{
    sa_buf b;
    sa_buf_init(&b, fd);
    sa_buf_str(&b, "snapalloc: leak check: thread ");
    sa_buf_u64(&b, (uint64_t)tid);
    sa_buf_str(&b, ": ");
    sa_buf_str(&b, why);
    sa_buf_str(&b, "\n");
    sa_buf_flush(&b);
}

/* Read a whole small /proc file into buf (NUL-terminated); length or -1. */
ssize_t sa_leak_read_small(const char *path, char *buf, size_t len)
{
    long got = sa_os_read_file(path, buf, len - 1);
    buf[got > 0 ? got : 0] = '\0';
    return got;
}

/* 1 if thread tid blocks sig (its SigBlk mask), else 0 (also when unknown). */
static int blocks_signal(pid_t tid, int sig)
{
    char path[64], buf[4096];
    char num[21];
    size_t l = 0;
    memcpy(path, "/proc/self/task/", 16);
    l = 16;
    size_t k = sa_fmt_u64(num, (uint64_t)tid);
    memcpy(path + l, num, k);
    l += k;
    memcpy(path + l, "/status", 8);
    if (sa_leak_read_small(path, buf, sizeof buf) <= 0)
        return 0;
    const char *p = strstr(buf, "\nSigBlk:");
    if (!p)
        return 0;
    p += 8;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t mask = sa_parse_hex(&p);
    return (mask >> (sig - 1)) & 1;
}

static int known(const sa_leak_world *w, pid_t tid)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (w->threads[i].tid == tid)
            return 1;
    return 0;
}

/* A round of signals (round_signal): its arguments and its count. */
typedef struct round_ctx {
    sa_leak_world *w;
    int fd, sig;
    pid_t self;
    int *full_warned;
    int added;
} round_ctx;

/* One entry of /proc/self/task: a thread not seen yet gets a slot and
 * the stop signal (or is left to ptrace if it blocks the signal). */
static int round_task(int dfd, const char *name, void *ctx)
{
    (void)dfd;
    round_ctx *c = ctx;
    sa_leak_world *w = c->w;
    pid_t tid = 0;
    const char *p = name;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++)
        tid = tid * 10 + (*p - '0');
    if (tid == c->self || known(w, tid))
        return 0;
    if (w->n == w->cap) {
        if (!*c->full_warned) {
            sa_leak_warn_thread(c->fd, tid, "too many threads; its stack and registers are not scanned");
            *c->full_warned = 1;
        }
        w->skipped++;
        return 0;
    }
    sa_leak_thread *t = &w->threads[w->n];
    t->tid = tid;
    c->added++;
    if (blocks_signal(tid, c->sig)) {
        t->state = SA_LT_SKIPPED;
        sa_leak_trace_want(w, (uint32_t)(t - w->threads));
    } else {
        t->state = SA_LT_SENT;
    }
    /* Publish the slot before the signal can arrive. */
    __atomic_store_n(&cur_n, w->n + 1, __ATOMIC_RELEASE);
    w->n++;
    if (t->state == SA_LT_SENT &&
        syscall(SYS_tgkill, (pid_t)getpid(), tid, c->sig) != 0) {
        /* ESRCH: it exited meanwhile; nothing to scan. */
        t->state = SA_LT_SKIPPED;
    }
    return 0;
}

/* One round: signal every task not seen yet.  Returns the number of new
 * tasks, or -1 if /proc/self/task cannot be read. */
static int round_signal(sa_leak_world *w, int fd, pid_t self, int sig, int *full_warned)
{
    int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    round_ctx c = { w, fd, sig, self, full_warned, 0 };
    sa_os_dir_each(dfd, round_task, &c);
    close(dfd);
    return c.added;
}

static int count_entry(int dfd, const char *name, void *ctx)
{
    (void)dfd;
    (void)name;
    (*(uint32_t *)ctx)++;
    return 0;
}

static uint32_t count_tasks(void)
{
    int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    uint32_t n = 0;
    sa_os_dir_each(dfd, count_entry, &n);
    close(dfd);
    return n;
}

int sa_leak_world_stop(sa_leak_world *w, int fd)
{
    memset(w, 0, sizeof *w);
    uint32_t guess = count_tasks();
    w->cap = guess * 4 + 256;
    w->mapped = sa_os_page_round((size_t)w->cap * sizeof(sa_leak_thread));
    w->threads = sa_os_map(w->mapped, SA_OS_PAGE);
    if (!w->threads)
        return -ENOMEM;
    int sig = signo();
    if (!handler_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_stop;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        sigaction(sig, &sa, &old_action);
        handler_installed = 1;
    }
    /* A new stop: a late handler of an older one sees release == stop. */
    __atomic_store_n(&cur_n, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&cur_threads, w->threads, __ATOMIC_RELEASE);
    __atomic_add_fetch(&stop_gen, 1, __ATOMIC_ACQ_REL);

    pid_t self = my_tid();
    int full_warned = 0;
    uint32_t waited = 0;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        int added = round_signal(w, fd, self, sig, &full_warned);
        uint64_t deadline = now_ns() + STOP_TIMEOUT_NS;
        for (; waited < w->n; waited++) {
            sa_leak_thread *t = &w->threads[waited];
            if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != SA_LT_SENT)
                continue;
            if (wait_state(t, SA_LT_SENT, deadline))
                continue;
            int expected = SA_LT_SENT;
            if (__atomic_compare_exchange_n(&t->state, &expected, SA_LT_SKIPPED, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                w->timedout++;   /* its handler may yet run: keep it */
                sa_leak_trace_want(w, waited);
            }
        }
        if (added <= 0)
            break;
    }
    sa_leak_trace_stop(w, fd);
    for (uint32_t i = 0; i < w->n; i++)
        if (w->threads[i].state == SA_LT_STOPPED)
            w->stopped++;
    return 0;
}

void sa_leak_world_resume(sa_leak_world *w)
{
    if (!w->threads)
        return;
    sa_leak_trace_resume(w);
    __atomic_store_n(&release_gen, __atomic_load_n(&stop_gen, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
    futex((int *)&release_gen, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
    uint64_t deadline = now_ns() + STOP_TIMEOUT_NS;
    int all_left = w->timedout == 0;   /* one that never answered may yet */
    for (uint32_t i = 0; i < w->n; i++) {
        sa_leak_thread *t = &w->threads[i];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == SA_LT_STOPPED &&
            !wait_state(t, SA_LT_STOPPED, deadline))
            all_left = 0;
    }
    if (!all_left)
        return;   /* keep the slots and the handler: a straggler may read them */
    __atomic_store_n(&cur_threads, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&cur_n, 0, __ATOMIC_RELEASE);
    sa_os_unmap(w->threads, w->mapped);
    w->threads = NULL;
    if (handler_installed) {
        sigaction(signo(), &old_action, NULL);
        handler_installed = 0;
    }
}
