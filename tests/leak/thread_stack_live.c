/* thread_stack_live.c - a thread holds a 112-byte block in a local and is
 * still blocked (reading a pipe nobody writes) when main returns: the
 * block is used after the read, so the pointer lives in the thread's
 * stack or registers.  memcheck: still reachable; nothing definitely or
 * indirectly lost.  (memcheck reports glibc's dynamic thread vector of the
 * live thread, 272 bytes reached only through a pointer 16 bytes into it
 * from the thread's descriptor, as possibly lost.) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ready[2], never[2];

static void *serve(void *arg)
{
    char *request = malloc(112);
    strcpy(request, "waiting for a request");
    char c = 1;
    if (write(ready[1], &c, 1) != 1)
        return NULL;
    while (read(never[0], &c, 1) < 0 && errno == EINTR)
        ;
    request[0] = c;
    puts(request);
    free(request);
    return arg;
}

int main(void)
{
    pthread_t t;
    char c;
    if (pipe(ready) || pipe(never) || pthread_create(&t, NULL, serve, NULL))
        return 1;
    if (read(ready[0], &c, 1) != 1)
        return 1;
    puts("worker ready");
    return 0;
}
