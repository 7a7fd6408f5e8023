/* preload/lifecycle.h - the exit wrappers' way into the exit sequence
 * (preload/lifecycle.c). */
#ifndef SA_PRELOAD_LIFECYCLE_H
#define SA_PRELOAD_LIFECYCLE_H

/* The C side of the exit wrappers (override_exit.c): exit() goes on to
 * libc's exit, whose destructors run the exit sequence; _exit() and
 * _Exit() run the sequence themselves (unless this is a vfork child),
 * then end the process. */
__attribute__((noreturn)) void sa_exit_full(int status);
__attribute__((noreturn)) void sa_exit_quick(int status);

#endif
