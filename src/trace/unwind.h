/* trace/unwind.h - stack capture for the tracer: two unwinders behind one
 * interface, chosen at run time by SNAPALLOC_UNWIND.
 *
 *   libunwind (default): DWARF CFI, so it sees through code built without
 *     frame pointers (all of Debian's libraries).  Its fast path is the
 *     walker of trace/unwind_cfa.c, which follows frame shapes learnt from
 *     libunwind's cursor; unw_backtrace() with a per-thread unwind-info
 *     cache (trace/unwind_libunwind.c) takes the stacks it cannot walk.
 *   fp (trace/unwind_fp.c): follows the saved frame-pointer chain.  A walk is
 *     several times cheaper than libunwind's (both backends' stacks are
 *     kept in the unwind cache, trace/ucache.h, so a call site seen
 *     before is not walked again under either), but the chain breaks at the first function built
 *     without frame pointers, so stacks through Debian's libc, libstdc++ or
 *     Python are shallow or cut short.  Worth it for programs that are
 *     themselves built with -fno-omit-frame-pointer.
 *
 * The backend-independent part (dispatch, stripping snapalloc's own frames)
 * is sa_unwind_capture in trace/capture.c.  Both raw walkers may allocate on first
 * use in a thread (libunwind's caches, pthread_getattr_np): call them only
 * with the tracer's reentrancy guard set.
 */
#ifndef SA_TRACE_UNWIND_H
#define SA_TRACE_UNWIND_H

#include "common/config_parse.h"

#include <stdint.h>

/* SA_UNWIND_LIBUNWIND, SA_UNWIND_FP: common/config_parse.h */

/* Frames the raw walkers may return in front of the caller's own frame
 * (their own frame, sa_unwind_capture's) plus snapalloc's frames between
 * the program and the tracer (malloc, sa_trace_alloc): captured on top of
 * the requested depth so that stripping them leaves the full depth. */
#define SA_UNWIND_SLACK 8

/* Select and prepare a backend; the first call of a backend warms it up
 * (its first-use allocations happen here, not in a traced malloc).
 * Returns 0, or a negative errno. */
int sa_unwind_init(int backend);

/* Up to max return addresses, innermost first, starting with the frame
 * of sa_unwind_capture's caller and with leading frames inside
 * libsnapalloc itself dropped (see trace/capture.c).  Returns the count. */
int sa_unwind_capture(uintptr_t *frames, int max);

/* The same from the frame-shape walker when the backend is libunwind,
 * whose shapes all threads share (trace/capture.c says why); for callers
 * that are not the tracer's entry points.  Call under the guard. */
int sa_unwind_capture_shared(uintptr_t *frames, int max);

/* Raw walkers: up to max addresses, innermost first, starting somewhere
 * at or above their own frame.  Never call them directly outside
 * trace/capture.c, trace/trace.c's recording path and the tests. */
int sa_unwind_libunwind_setup(void);
int sa_unwind_libunwind_raw(uintptr_t *frames, int max);
int sa_unwind_fp_raw(uintptr_t *frames, int max);

/* The frame-pointer walk from the frame of an allocator entry point
 * (entry_frame: its saved frame pointer, then the program's return
 * address), with slots[i] the stack address frames[i] was read from: the
 * stack sa_unwind_capture gives under SNAPALLOC_UNWIND=fp, in the form
 * the unwind cache keeps (trace/ucache.h).  Call under the guard. */
int sa_unwind_fp_walk(const uintptr_t *entry_frame, uintptr_t *frames, uintptr_t *slots, int max);

/* The frame-shape walker (trace/unwind_cfa.c), the fast path of the
 * libunwind backend.  It starts at the program's frame that called the
 * allocator: return address ra, stack pointer sp after the return, rbp at
 * the call.  It stores up to max return addresses, and in slots[i] the
 * stack address frames[i] was read from (slots[0] = sp - 8), and returns
 * the count, or SA_CFA_UNSAFE: a frame it cannot walk (a signal frame, a
 * CFA that is not sp + k or rbp + 16, the stack's end where libunwind's
 * walk would not end): use unw_backtrace.  Frames it does not know yet are
 * stepped with libunwind's cursor and learnt (*learnt counts them).
 * sa_unwind_cfa_setup maps the rule table (once per process). */
enum { SA_CFA_UNSAFE = -2 };
int sa_unwind_cfa_setup(void);

/* A thread's last walk, for the walker to finish the next one from.
 * Stacks of one thread share their outer frames (main, the event loop,
 * the interpreter's outer calls): once a walk reaches a frame whose
 * return address sits in the same stack slot as in the last walk, the
 * last walk's frames above it are this walk's too, provided each of their
 * slots still holds the same return address, which is the unwind cache's
 * rule (trace/ucache.h) applied to a stack's outer part.  Checking a slot
 * is one load; walking a frame is a rule lookup and bounds checks. */
#define SA_UNWIND_LAST_FRAMES 32
typedef struct sa_unwind_last {
    int n;                /* frames; 0: none */
    int complete;         /* the walk reached the stack's end (else its limit) */
    int reused;           /* frames the latest walk took from here (tests) */
    uintptr_t frame[SA_UNWIND_LAST_FRAMES];
    uintptr_t slot[SA_UNWIND_LAST_FRAMES];   /* increasing: outwards */
} sa_unwind_last;

/* last: the calling thread's last walk (read, then replaced by this one),
 * or NULL. */
int sa_unwind_cfa_walk(uintptr_t ra, uintptr_t sp, uintptr_t rbp, uintptr_t *frames,
                       uintptr_t *slots, int max, int *learnt, sa_unwind_last *last);

/* The calling thread's stack [lo, hi), from pthread_getattr_np on first
 * use in a thread (allocates: call under the tracer's guard); lo == hi if
 * unknown. */
void sa_unwind_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* The text range treated as "our own" when stripping (tests override it;
 * lo == hi means none). */
void sa_unwind_set_self_range(uintptr_t lo, uintptr_t hi);

#endif
