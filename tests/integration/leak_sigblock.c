/* leak_sigblock.c - a worker thread that blocks every signal (the usual
 * server pattern) holds a block only in its own stack or registers while
 * it sleeps in a read; main returns meanwhile.  Memcheck finds the block
 * still reachable: so must the leak check (leak_sigblock.sh). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int wake[2], ready[2];

static void *worker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    char *block = malloc(4242);
    memset(block, 'x', 4242);
    if (write(ready[1], block, 1) != 1)
        abort();
    char c;
    if (read(wake[0], &c, 1) == 1)   /* never: nobody writes */
        block[0] = c;
    free(block);
    return NULL;
}

int main(void)
{
    if (pipe(wake) != 0 || pipe(ready) != 0)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 2;
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 2;
    return 0;
}
