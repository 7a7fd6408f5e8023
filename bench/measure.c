/* measure.c - run one command and report its wall time, peak RSS and exit status.
 *
 * Owns the timing of a single benchmark run for bench/run.py.  It replaces
 * /usr/bin/time, which may not be installed, and differs from it in one way
 * that matters here: the environment given with -e (typically LD_PRELOAD) is
 * set only in the child after fork, so the allocator under test never runs
 * inside the launcher itself.
 *
 *   measure [-e NAME=VALUE]... [-u NAME]... [-i IN] [-o OUT] [-E ERR]
 *           [-t SECONDS] -- COMMAND [ARG]...
 *
 * On exit it prints one line on stdout:
 *
 *   wall_s=0.412345 maxrss_kib=10240 utime_s=0.40 stime_s=0.01 exit=0 signal=0 timeout=0
 *
 * Wall time is CLOCK_MONOTONIC from just before fork to the return of wait4;
 * peak RSS and CPU times come from the rusage wait4 fills in for the child
 * (which includes descendants it waited for, e.g. under heaptrack).  The
 * child runs in its own process group so that -t can kill wrappers such as
 * valgrind together with everything they started.  measure exits 0 when it
 * could run and wait for the command, whatever the command's own status;
 * 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENV 64

static volatile sig_atomic_t timed_out;
static pid_t child;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    /* The child leads its own group; killing the group reaches wrappers'
     * children (valgrind, heaptrack) too. */
    kill(-child, SIGKILL);
}

static void usage(void)
{
    fprintf(stderr, "usage: measure [-e NAME=VALUE]... [-u NAME]... [-i IN] [-o OUT] [-E ERR] "
                    "[-t SECONDS] -- COMMAND [ARG]...\n");
    exit(2);
}

/* Replace fd `target` with `path` opened with `flags`; called in the child. */
static void redirect(const char *path, int flags, int target)
{
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        fprintf(stderr, "measure: %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    if (fd != target) {
        dup2(fd, target);
        close(fd);
    }
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    char *setv[MAX_ENV], *unsetv[MAX_ENV];
    int nset = 0, nunset = 0;
    const char *in = NULL, *out = NULL, *err = NULL;
    unsigned timeout = 0;
    int opt;

    while ((opt = getopt(argc, argv, "+e:u:i:o:E:t:")) != -1) {
        switch (opt) {
        case 'e':
            if (nset == MAX_ENV || !strchr(optarg, '='))
                usage();
            setv[nset++] = optarg;
            break;
        case 'u':
            if (nunset == MAX_ENV)
                usage();
            unsetv[nunset++] = optarg;
            break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'E': err = optarg; break;
        case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    if (child < 0) {
        fprintf(stderr, "measure: fork: %s\n", strerror(errno));
        return 2;
    }
    if (child == 0) {
        setpgid(0, 0);
        for (int i = 0; i < nunset; i++)
            unsetenv(unsetv[i]);
        for (int i = 0; i < nset; i++)
            putenv(setv[i]);
        if (in)
            redirect(in, O_RDONLY, 0);
        if (out)
            redirect(out, O_WRONLY | O_CREAT | O_TRUNC, 1);
        if (err)
            redirect(err, O_WRONLY | O_CREAT | O_TRUNC, 2);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "measure: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    /* Set the group from the parent too, so a timeout cannot race the child. */
    setpgid(child, child);

    if (timeout) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        alarm(timeout);
    }

    int status;
    struct rusage ru;
    pid_t r;
    while ((r = wait4(child, &status, 0, &ru)) < 0 && errno == EINTR)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    alarm(0);
    if (r < 0) {
        fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
        return 2;
    }
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("wall_s=%.6f maxrss_kib=%ld utime_s=%.6f stime_s=%.6f exit=%d signal=%d timeout=%d\n",
           wall, ru.ru_maxrss, seconds(ru.ru_utime), seconds(ru.ru_stime),
           WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, (int)timed_out);
    return 0;
}
