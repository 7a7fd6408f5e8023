/* common/thread.h - the library's helper threads (the tracer's snapshot
 * helper, the leak check's warmup sleeper): how one is started. */
#ifndef SA_THREAD_H
#define SA_THREAD_H

#include <stddef.h>

/* Start fn(NULL) in a detached thread with a stack of stack_size bytes.
 * The thread takes no signal but the leak check's stop signal (SIGRTMIN +
 * SA_LEAK_SIGNAL_OFFSET), so that a signal meant for the program never
 * lands on it and the check can still stop it like any other thread; the
 * caller's own signal mask is unchanged on return.  pthread_create
 * allocates: the caller holds the tracer's reentrancy guard.  Returns 0,
 * or -1 if the thread could not be started. */
int sa_thread_start_detached(void *(*fn)(void *), size_t stack_size);

#endif
