/* tls_live_thread.c - a thread keeps a 88-byte block in a __thread
 * variable and is still blocked (reading a pipe nobody writes) when main
 * returns.  memcheck: still reachable (the thread's TLS); nothing
 * definitely or indirectly lost.  (memcheck reports glibc's dynamic thread
 * vector of the live thread, 288 bytes reached only through a pointer 16
 * bytes into it from the thread's descriptor, as possibly lost.) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread char *session;
static int ready[2], never[2];

static void *serve(void *arg)
{
    session = malloc(88);
    strcpy(session, "session of the worker");
    char c = 1;
    if (write(ready[1], &c, 1) != 1)
        return NULL;
    while (read(never[0], &c, 1) < 0 && errno == EINTR)
        ;
    free(session);
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
