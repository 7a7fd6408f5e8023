/* fork_both.c - parent and child each leak differently: the child loses
 * 2 x 50 bytes and exits; the parent waits for it, then loses 100 bytes.
 * Both processes are checked.  memcheck: the child definitely lost 100
 * bytes in 2 blocks, the parent 100 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void note(const char *who, size_t size)
{
    char *s = malloc(size);
    snprintf(s, size, "%s note", who);
    puts(s);
}

int main(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        note("child", 50);
        note("child", 50);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    note("parent", 100);
    return 0;
}
