/* thread_stack_exited.c - a thread keeps a 72-byte block only in a local
 * and exits (joined) without freeing it.  memcheck: definitely lost 72
 * bytes in 1 block. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *work(void *arg)
{
    char *scratch = malloc(72);
    snprintf(scratch, 72, "thread %d", *(int *)arg);
    puts(scratch);
    return NULL;
}

int main(void)
{
    pthread_t t;
    int id = 1;
    if (pthread_create(&t, NULL, work, &id) || pthread_join(t, NULL))
        return 1;
    return 0;
}
