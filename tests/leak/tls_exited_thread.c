/* tls_exited_thread.c - a thread stores a 88-byte block in a __thread
 * variable and exits (joined) without freeing it: its TLS is gone, so is
 * the only pointer.  memcheck: definitely lost 88 bytes in 1 block. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread char *session;

static void *serve(void *arg)
{
    session = malloc(88);
    strcpy(session, "session of the worker");
    puts(session);
    return arg;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, serve, NULL) || pthread_join(t, NULL))
        return 1;
    puts("worker done");
    return 0;
}
