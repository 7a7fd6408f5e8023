/* leak/world_trace.h - stopping the threads a signal cannot stop, for
 * leak/world.c (leak/world_trace.c). */
#ifndef SA_LEAK_WORLD_TRACE_H
#define SA_LEAK_WORLD_TRACE_H

#include "leak/leak.h"

/* Thread w->threads[i] (state SA_LT_SKIPPED) is to be stopped by ptrace. */
void sa_leak_trace_want(sa_leak_world *w, uint32_t i);
/* Stop the wanted threads: their slots become SA_LT_STOPPED with sp, tp
 * and regs, or stay SA_LT_SKIPPED (w->skipped counted, a warning on fd). */
void sa_leak_trace_stop(sa_leak_world *w, int fd);
/* Let the threads stopped by sa_leak_trace_stop go (state SA_LT_LEFT). */
void sa_leak_trace_resume(sa_leak_world *w);

/* Shared with leak/world.c. */
void sa_leak_warn_thread(int fd, pid_t tid, const char *why);
ssize_t sa_leak_read_small(const char *path, char *buf, size_t len);

#endif
