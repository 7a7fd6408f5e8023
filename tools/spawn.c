/* spawn.c - running a program under the library (spawn.h).
 *
 * The program runs as a child (fork + exec), not in place of the command,
 * because the command must report afterwards.  Signals sent to the
 * command (kill PID) are forwarded to the child; signals the terminal sends
 * to the whole foreground process group (si_code SI_KERNEL) already reach
 * the child, so they are not sent twice.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "spawn.h"
#include "util.h"

#ifndef SNAPALLOC_LIBDIR
#define SNAPALLOC_LIBDIR "/usr/local/lib"
#endif

/* ---- Locating the library ------------------------------------------- */

char *sa_find_library(void)
{
    const char *env = getenv("SNAPALLOC_LIB");
    char buf[PATH_MAX];
    if (env && *env) {
        if (!realpath(env, buf))
            sa_die(env, "%s (from SNAPALLOC_LIB)", strerror(errno));
        return strdup(buf);
    }
    /* Uninstalled: the library sits in .libs next to the command (or next
     * to the real binary, when the command runs through a libtool
     * wrapper). */
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (slash) {
            *slash = '\0';
            const char *cands[] = {"/.libs/libsnapalloc.so", "/libsnapalloc.so"};
            for (size_t i = 0; i < 2; i++) {
                char path[PATH_MAX + 32], real[PATH_MAX];
                snprintf(path, sizeof path, "%s%s", buf, cands[i]);
                if (i == 1 && !strstr(buf, "/.libs"))
                    continue;
                if (access(path, R_OK) == 0 && realpath(path, real))
                    return strdup(real);
            }
        }
    }
    const char *inst = SNAPALLOC_LIBDIR "/libsnapalloc.so";
    if (access(inst, R_OK) != 0)
        sa_die(inst, "%s (set SNAPALLOC_LIB to the library's path)", strerror(errno));
    return strdup(inst);
}

/* ---- Signal forwarding ---------------------------------------------- */

static volatile sig_atomic_t child_pid;

static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    if (child_pid > 0 && si->si_code != SI_KERNEL)
        kill((pid_t)child_pid, sig);
    errno = saved;
}

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
                                SIGWINCH};

/* ---- Running the program ------------------------------------------ */

void sa_set_env(const char *name, const char *value)
{
    if (value ? setenv(name, value, 1) : unsetenv(name))
        sa_oom();
}

void sa_preload_env(const char *lib)
{
    if (strpbrk(lib, ": "))
        sa_die(lib, "cannot be preloaded: its path contains ':' or a space");
    const char *old_preload = getenv("LD_PRELOAD");
    size_t plen = strlen(lib) + (old_preload ? strlen(old_preload) : 0) + 2;
    char *preload = sa_xcalloc(plen, 1);
    snprintf(preload, plen, "%s%s%s", lib,
             old_preload && *old_preload ? ":" : "", old_preload ? old_preload : "");
    sa_set_env("LD_PRELOAD", preload);
    free(preload);
}

int sa_spawn_signal;

/* The forwarded signals (and extra_sig) blocked, the forwarding handler
 * installed; *old holds the dispositions and *oldmask the mask to
 * restore. */
static void forward_begin(int extra_sig, sigset_t *block, sigset_t *oldmask,
                          struct sigaction *old)
{
    /* Blocked across fork so none is lost or sent to pid 0; the child
     * restores the dispositions and mask it inherited. */
    sigemptyset(block);
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
        sigaddset(block, forwarded[i]);
    if (extra_sig)
        sigaddset(block, extra_sig);
    sigprocmask(SIG_BLOCK, block, oldmask);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(block, s))
            sigaction(s, &sa, &old[s]);
}

/* In the child: the inherited signal state back, then exec; on failure
 * errno goes up errfd (close-on-exec: nothing arrives on success). */
__attribute__((noreturn))
static void child_exec(char **prog, const sigset_t *block, const sigset_t *oldmask,
                       const struct sigaction *old, int errfd)
{
    for (int s = 1; s < NSIG; s++)
        if (sigismember(block, s))
            sigaction(s, &old[s], NULL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    execvp(prog[0], prog);
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* The exec's errno from the child, or 0 if it executed. */
static int read_exec_errno(int fd)
{
    int exec_errno = 0;
    ssize_t r;
    do
        r = read(fd, &exec_errno, sizeof exec_errno);
    while (r < 0 && errno == EINTR);
    close(fd);
    return r == (ssize_t)sizeof exec_errno ? exec_errno : 0;
}

int sa_spawn_wait(char **prog, int extra_sig, pid_t *pid_out, int *exec_failed)
{
    sa_spawn_signal = 0;
    sigset_t block, oldmask;
    struct sigaction old[NSIG];
    forward_begin(extra_sig, &block, &oldmask, old);
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0)
        sa_die("pipe", "%s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        sa_die("fork", "%s", strerror(errno));
    if (pid == 0) {
        close(errpipe[0]);
        child_exec(prog, &block, &oldmask, old, errpipe[1]);
    }
    child_pid = pid;
    *pid_out = pid;
    *exec_failed = 0;
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    close(errpipe[1]);
    int exec_errno = read_exec_errno(errpipe[0]);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "snapalloc: waitpid: %s\n", strerror(errno));
            *exec_failed = 1;
            return 127;
        }
    }
    child_pid = 0;
    if (exec_errno) {
        fprintf(stderr, "snapalloc: %s: cannot execute: %s\n", prog[0], strerror(exec_errno));
        *exec_failed = 1;
        return 127;
    }
    if (WIFSIGNALED(status))
        sa_spawn_signal = WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}
