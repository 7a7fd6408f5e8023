/* leak/world_trace.c - stop, for the leak scan, the threads that the stop
 * signal of leak/world.c cannot stop (they block it, or do not answer).
 *
 * ptrace, as LeakSanitizer does: a thread may not trace a thread of its
 * own process, so a helper task is cloned sharing our memory, files and
 * fs (CLONE_VM | CLONE_FS | CLONE_FILES; CLONE_UNTRACED so that a
 * debugger of the program does not take it; no exit signal, so the
 * program's SIGCHLD handler and wait() never see it).  The helper seizes
 * each thread, interrupts it, reads its registers into the thread's slot,
 * and keeps it stopped until the scanner is done; then it detaches (giving
 * back a signal that arrived meanwhile) and exits.  Under Yama's
 * ptrace_scope 1 the helper, our child, needs PR_SET_PTRACER.
 *
 * Where ptrace is refused (a non-dumpable process, a seccomp filter,
 * ptrace_scope 2 or 3), the thread is scanned from the user stack pointer
 * of /proc/self/task/TID/syscall, which a thread sleeping in a system call
 * shows; its callee-saved registers are unknown (the system call's
 * arguments stand in for them): one warning line says so.  The helper
 * uses raw system calls only; it runs on a stack of its own and on the
 * cloning thread's TLS, whose errno it may write (the scanner restores
 * errno at its entry point).
 */
#include "leak/world_trace.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/os.h"

#define HELPER_STACK (64 * 1024)
#define HELPER_TIMEOUT_S 5

enum { PH_START, PH_GO, PH_STOPPED, PH_RELEASE, PH_DONE };

typedef struct trace_job {
    int phase;                 /* futex word: PH_* */
    uint32_t n;
    sa_leak_world *w;
    uint32_t idx[];            /* wanted slots; then per slot: int ok, sig */
} trace_job;

static trace_job *job;         /* of the current stop */
static size_t job_mapped;
static char *helper_stack;
static pid_t helper_pid;

static int *job_ok(trace_job *j) { return (int *)&j->idx[j->w->cap]; }
static int *job_sig(trace_job *j) { return job_ok(j) + j->w->cap; }

static long futex(int *addr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void set_phase(trace_job *j, int ph)
{
    __atomic_store_n(&j->phase, ph, __ATOMIC_RELEASE);
    futex(&j->phase, FUTEX_WAKE, 0x7fffffff, NULL);
}

/* Wait while j->phase == ph; 0 if it still is after timeout_s seconds. */
static int wait_phase_left(trace_job *j, int ph, int timeout_s)
{
    for (int i = 0; i < timeout_s * 10; i++) {
        if (__atomic_load_n(&j->phase, __ATOMIC_ACQUIRE) != ph)
            return 1;
        struct timespec ts = {0, 100000000};
        futex(&j->phase, FUTEX_WAIT, ph, &ts);
    }
    return __atomic_load_n(&j->phase, __ATOMIC_ACQUIRE) != ph;
}

static void *ptrace_(int req, pid_t tid, void *addr, void *data)
{
    return (void *)syscall(SYS_ptrace, req, tid, addr, data);
}

/* In the helper: seize and stop one thread, copy its registers. */
static int trace_one(sa_leak_thread *t, int *sig)
{
    if ((long)ptrace_(PTRACE_SEIZE, t->tid, NULL, NULL) != 0)
        return 0;
    if ((long)ptrace_(PTRACE_INTERRUPT, t->tid, NULL, NULL) != 0)
        return 0;
    int status;
    if (syscall(SYS_wait4, t->tid, &status, __WALL, NULL) != t->tid || !WIFSTOPPED(status))
        return 0;
    /* A signal-delivery stop rather than ours: hand it back at detach. */
    if (status >> 16 != PTRACE_EVENT_STOP && WSTOPSIG(status) != SIGTRAP)
        *sig = WSTOPSIG(status);
#if defined(__x86_64__)
    struct user_regs_struct r;
    if ((long)ptrace_(PTRACE_GETREGS, t->tid, NULL, &r) != 0)
        return 0;
    size_t n = sizeof r / sizeof(uintptr_t);
    memcpy(t->regs, &r, (n < SA_LEAK_NREGS ? n : SA_LEAK_NREGS) * sizeof(uintptr_t));
    t->sp = (uintptr_t)r.rsp;
    t->tp = (uintptr_t)r.fs_base;
    return 1;
#else
    return 0;   /* elsewhere: the /proc fallback */
#endif
}

static int helper_main(void *arg)
{
    trace_job *j = arg;
    wait_phase_left(j, PH_START, HELPER_TIMEOUT_S);
    for (uint32_t i = 0; i < j->n; i++)
        job_ok(j)[i] = trace_one(&j->w->threads[j->idx[i]], &job_sig(j)[i]);
    set_phase(j, PH_STOPPED);
    while (!wait_phase_left(j, PH_STOPPED, HELPER_TIMEOUT_S))
        ;   /* the scan may take long: the threads stay stopped meanwhile */
    for (uint32_t i = 0; i < j->n; i++)
        if (job_ok(j)[i])
            ptrace_(PTRACE_DETACH, j->w->threads[j->idx[i]].tid, NULL,
                    (void *)(uintptr_t)job_sig(j)[i]);
    set_phase(j, PH_DONE);
    return 0;
}

void sa_leak_trace_want(sa_leak_world *w, uint32_t i)
{
    if (!job) {
        job_mapped = (sizeof(trace_job) + (size_t)w->cap * 3 * sizeof(uint32_t) + SA_OS_PAGE - 1) &
                     ~(size_t)(SA_OS_PAGE - 1);
        job = sa_os_map(job_mapped, SA_OS_PAGE);
        if (!job)
            return;
        job->w = w;
    }
    job->idx[job->n++] = i;
}

/* Yama ptrace_scope 1 lets only ancestors trace, unless we name the helper. */
static void allow_helper(pid_t pid)
{
    char buf[8];
    if (sa_leak_read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf) > 0 && buf[0] == '1')
        prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0);
}

static int run_helper(void)
{
    helper_stack = sa_os_map(HELPER_STACK, SA_OS_PAGE);
    if (!helper_stack)
        return 0;
    helper_pid = clone(helper_main, helper_stack + HELPER_STACK,
                       CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED, job);
    if (helper_pid <= 0) {
        sa_os_unmap(helper_stack, HELPER_STACK);
        helper_stack = NULL;
        return 0;
    }
    allow_helper(helper_pid);
    set_phase(job, PH_GO);
    wait_phase_left(job, PH_GO, HELPER_TIMEOUT_S);
    return 1;
}

/* Without ptrace: the user stack pointer (and system call arguments) of
 * a thread sleeping in a system call, from its /proc syscall file:
 * "NR ARG1..ARG6 SP PC", or "-1 SP PC", or "running". */
static int proc_syscall_regs(sa_leak_thread *t)
{
    char path[64] = "/proc/self/task/", buf[256];
    sa_fmt_u64(path + strlen(path), (uint64_t)t->tid);
    strcat(path, "/syscall");
    if (sa_leak_read_small(path, buf, sizeof buf) <= 0 || buf[0] < '-' || buf[0] == 'r')
        return 0;
    uintptr_t words[9];
    int n = 0;
    for (const char *p = strchr(buf, ' '); p && n < 9; p = strchr(p, ' ')) {
        p++;
        if (p[0] != '0' || p[1] != 'x')
            break;
        p += 2;
        words[n++] = (uintptr_t)sa_parse_hex(&p);
    }
    if (n < 2)
        return 0;
    memset(t->regs, 0, sizeof t->regs);
    for (int i = 0; i < n - 2 && i < SA_LEAK_NREGS; i++)
        t->regs[i] = words[i];
    t->sp = words[n - 2];
    t->tp = 0;
    return 1;
}

/* Whether thread tid has exited or is exiting (a zombie, or dead): no
 * user stack is left to scan, and nothing to warn about.  A thread in
 * glibc's last steps of pthread_exit blocks every signal and cannot be
 * traced either (CPython's daemon threads at shutdown end so, dozens at
 * once). */
static int thread_gone(pid_t tid)
{
    char path[64] = "/proc/self/task/", buf[512];
    sa_fmt_u64(path + strlen(path), (uint64_t)tid);
    strcat(path, "/stat");
    if (sa_leak_read_small(path, buf, sizeof buf) <= 0)
        return 1;
    const char *p = strrchr(buf, ')');   /* "tid (comm) S ...": comm may hold ')' */
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X' || p[2] == 'x');
}

void sa_leak_trace_stop(sa_leak_world *w, int fd)
{
    if (!job || job->n == 0)
        return;
    int traced = run_helper() && __atomic_load_n(&job->phase, __ATOMIC_ACQUIRE) == PH_STOPPED;
    int warned = 0;
    for (uint32_t i = 0; i < job->n; i++) {
        sa_leak_thread *t = &w->threads[job->idx[i]];
        if (traced && job_ok(job)[i]) {
            __atomic_store_n(&t->state, SA_LT_STOPPED, __ATOMIC_RELEASE);
        } else if (proc_syscall_regs(t)) {
            __atomic_store_n(&t->state, SA_LT_STOPPED, __ATOMIC_RELEASE);
            if (!warned++)
                sa_leak_warn_thread(fd, t->tid, "cannot be stopped (no signal, no ptrace); "
                                                "its stack is scanned from where it sleeps");
        } else if (thread_gone(t->tid)) {
            continue;   /* exited meanwhile: nothing to scan, nothing to say */
        } else {
            w->skipped++;
            sa_leak_warn_thread(fd, t->tid, "cannot be stopped (no signal, no ptrace); "
                                            "its stack and registers are not scanned");
        }
    }
}

void sa_leak_trace_resume(sa_leak_world *w)
{
    if (!job)
        return;
    for (uint32_t i = 0; i < job->n; i++) {
        sa_leak_thread *t = &w->threads[job->idx[i]];
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == SA_LT_STOPPED)
            __atomic_store_n(&t->state, SA_LT_LEFT, __ATOMIC_RELEASE);
    }
    if (helper_pid > 0) {
        set_phase(job, PH_RELEASE);
        wait_phase_left(job, PH_RELEASE, HELPER_TIMEOUT_S);
        int status;
        while (syscall(SYS_wait4, helper_pid, &status, __WALL, NULL) < 0 && errno == EINTR)
            ;
        sa_os_unmap(helper_stack, HELPER_STACK);
        helper_stack = NULL;
        helper_pid = 0;
    }
    sa_os_unmap(job, job_mapped);
    job = NULL;
}
