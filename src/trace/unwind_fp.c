/* trace/unwind_fp.c - the frame-pointer stack walker (SNAPALLOC_UNWIND=fp).
 *
 * With frame pointers, each frame starts with the caller's saved frame
 * pointer followed by the return address (x86-64 and AArch64 alike):
 *
 *     fp -> [ saved fp ][ return address ]      next frame: saved fp
 *
 * The chain is only as good as the code it runs through: a function built
 * without frame pointers leaves whatever its caller had in the register,
 * so the walk skips frames or stops.  Debian builds its libraries without
 * frame pointers, hence this walker is not the default; libsnapalloc's own
 * tracer entry points are built with frame pointers (see Makefile-trace.inc)
 * so that the frame of the program's function calling malloc is kept.
 *
 * Every step is checked before it is dereferenced: the frame pointer must
 * lie inside the current thread's stack, be 8-byte aligned, and grow
 * strictly (stacks grow down, so callers' frames are at higher addresses);
 * a NULL return address ends the walk.  The stack bounds come from
 * pthread_getattr_np once per thread (it allocates, and for the main thread
 * reads /proc/self/maps: the caller holds the reentrancy guard) and are
 * cached in initial-exec TLS.
 */
#include <pthread.h>

#include "alloc/alloc.h"
#include "trace/unwind.h"

static SA_TLS uintptr_t stack_lo, stack_hi;
static SA_TLS int stack_known;

static void stack_bounds(void)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    stack_known = 1;
    stack_lo = stack_hi = 0;   /* unknown: walk nothing */
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        stack_lo = (uintptr_t)addr;
        stack_hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
}

void sa_unwind_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    if (SA_UNLIKELY(!stack_known))
        stack_bounds();
    *lo = stack_lo;
    *hi = stack_hi;
}

/* The chain from frame fp: its return addresses, and with slots the
 * stack address each was read from (for the unwind cache).  Inlined
 * always: sa_unwind_fp_raw must not reach it by a tail call, which would
 * free the frame the walk starts from. */
static inline __attribute__((always_inline)) int walk_from(const uintptr_t *fp, uintptr_t *frames, uintptr_t *slots, int max)
{
    if (SA_UNLIKELY(!stack_known))
        stack_bounds();
    uintptr_t lo = stack_lo, hi = stack_hi;
    int n = 0;
    while (n < max) {
        uintptr_t at = (uintptr_t)fp;
        /* Written so that no sum can wrap: a garbage frame pointer near
         * the top of the address space must fail the test, not pass it. */
        if (at < lo || hi - lo < 2 * sizeof(uintptr_t) || at > hi - 2 * sizeof(uintptr_t) ||
            (at & (sizeof(uintptr_t) - 1)))
            break;
        uintptr_t ret = fp[1];
        if (ret == 0)
            break;
        if (slots)
            slots[n] = (uintptr_t)&fp[1];
        frames[n++] = ret;
        const uintptr_t *next = (const uintptr_t *)fp[0];
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

__attribute__((optimize("no-omit-frame-pointer"))) SA_NOINLINE
int sa_unwind_fp_raw(uintptr_t *frames, int max)
{
    return walk_from(__builtin_frame_address(0), frames, NULL, max);
}

int sa_unwind_fp_walk(const uintptr_t *entry_frame, uintptr_t *frames, uintptr_t *slots, int max)
{
    return walk_from(entry_frame, frames, slots, max);
}
