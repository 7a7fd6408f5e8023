/* common/thread.c - starting the library's helper threads (common/thread.h):
 * detached, with a small stack and every signal blocked but the leak
 * check's stop signal.
 */
#include "common/thread.h"

#include <pthread.h>
#include <signal.h>

#include "common/config_parse.h"

int sa_thread_start_detached(void *(*fn)(void *), size_t stack_size)
{
    /* The new thread inherits the mask in force at pthread_create. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGRTMIN + SA_LEAK_SIGNAL_OFFSET);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_t tid;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, stack_size);
        ok = pthread_create(&tid, &attr, fn, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok ? 0 : -1;
}
