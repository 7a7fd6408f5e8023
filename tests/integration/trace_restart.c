/* trace_restart.c - a read() on a pipe interrupted by the snapshot signal
 * (SNAPALLOC_SIGNAL=USR1) must be restarted, not fail with EINTR: the
 * library installs its handler with SA_RESTART.
 *
 * A second thread waits until the main thread sleeps in read() (its state
 * in /proc is S and its kernel wait channel is the pipe's), sends it
 * SIGUSR1, waits for the snapshot file to appear, then writes one byte.
 * Prints "read 1" and exits 0, or "read: ERROR" and exits 1.
 *
 * Usage: trace_restart SNAPSHOT-PATH
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static pid_t main_tid;
static pthread_t main_thread;
static const char *snap;

static void pause_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

/* Whether the main thread is asleep in pipe_read (the wait channel). */
static int main_blocked(void)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)main_tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "pipe_read") != NULL || strstr(buf, "wait_woken") != NULL;
}

static void *poke(void *arg)
{
    for (int i = 0; i < 20000 && !main_blocked(); i++)
        pause_ms(1);
    pthread_kill(main_thread, SIGUSR1);
    struct stat st;
    for (int i = 0; i < 20000 && stat(snap, &st) != 0; i++)
        pause_ms(1);
    if (write(fds[1], "x", 1) != 1)
        perror("write");
    return arg;
}

int main(int argc, char **argv)
{
    if (argc != 2 || pipe(fds) != 0)
        return 2;
    snap = argv[1];
    main_tid = (pid_t)syscall(SYS_gettid);
    main_thread = pthread_self();
    pthread_t t;
    if (pthread_create(&t, NULL, poke, NULL) != 0)
        return 2;
    char c;
    ssize_t n = read(fds[0], &c, 1);
    if (n < 0) {
        printf("read: %s\n", strerror(errno));
        return 1;
    }
    printf("read %zd\n", n);
    pthread_join(t, NULL);
    return 0;
}
