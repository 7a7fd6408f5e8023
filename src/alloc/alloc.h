/* alloc/alloc.h - cross-file prototypes of libsnapalloc, grouped by the file
 * that defines them.  Small hot helpers are static inline in their own
 * headers (alloc/heap.h, alloc/pagemap.h).
 */
#ifndef SA_INTERNAL_H
#define SA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "trace/trace.h"

/* alloc/alloc.c: the allocator's own API (malloc semantics, no tracing).  The
 * exported names (malloc, free, ...) live in preload/override.c and add tracing. */
void *sa_malloc(size_t size);
void *sa_calloc(size_t n, size_t size);
void *sa_realloc(void *p, size_t size);
void sa_free(void *p);
void *sa_aligned(size_t align, size_t size);   /* align: power of two */
size_t sa_usable_size(const void *p);          /* 0 for NULL or foreign */

/* alloc/alloc.c: the tracer's per-block record of the block starting at p.
 * NULL if p is not a block we own; with create, the record storage is
 * allocated on first use (NULL if that fails).  Records of freed blocks are
 * not cleared by the allocator: the tracer clears them in sa_trace_free. */
sa_trace_rec *sa_trace_slot(const void *p, int create);

/* alloc/alloc.c: report misuse ("free(): double free detected: 0x...") and abort. */
__attribute__((noreturn, cold)) void sa_misuse(const char *fn, const char *what, const void *p);
/* alloc/alloc.c: bytes of per-block trace records (the tracer's memory). */
extern SA_HIDDEN size_t sa_trace_slot_mem;

/* alloc/init.c */
void sa_init_slow(void);
extern SA_HIDDEN int sa_initialized;
SA_INLINE void sa_init(void)
{
    if (SA_UNLIKELY(!__atomic_load_n(&sa_initialized, __ATOMIC_ACQUIRE)))
        sa_init_slow();
}

/* alloc/init.c: where the program called exit, _exit or _Exit (preload/override_exit.c
 * records it before the wrapper's own frame exists): the calling thread's
 * thread pointer, its stack pointer before the call, and its callee-saved
 * registers (x86-64: rbx, rbp, r12-r15).  The leak scan starts that
 * thread's stack at sp.  Offsets are fixed: the wrapper writes them from
 * assembly. */
#define SA_EXIT_NREGS 6
typedef struct sa_exit_state {
    uintptr_t tp;
    uintptr_t sp;
    uintptr_t regs[SA_EXIT_NREGS];
} sa_exit_state;
extern SA_HIDDEN sa_exit_state sa_exit_point;
/* The C side of the wrappers: exit() goes on to libc's exit; _exit() runs
 * the exit snapshot and the leak check (alloc/init.c) unless this is a vfork
 * child, then ends the process. */
__attribute__((noreturn)) void sa_exit_full(int status);
__attribute__((noreturn)) void sa_exit_quick(int status);
/* alloc/init.c: the process's pid, as of start-up or its last fork (a vfork or
 * clone child that shares our memory still has its parent's). */
extern SA_HIDDEN int sa_pid;

/* alloc/stats.c */
int sa_stats_print(int fd);

#endif
