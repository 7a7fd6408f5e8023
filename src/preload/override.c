/* preload/override.c - the exported malloc family: glibc's entry points, its
 * __libc_* aliases and the malloc-tuning calls, each a thin wrapper over
 * the core (alloc/alloc.c) plus the one tracing branch, jemalloc-style:
 *
 *     p = <allocate>;  if (SA_UNLIKELY(sa_trace_on) && p) sa_trace_alloc_entry(p, n);
 *     if (SA_UNLIKELY(sa_trace_free_on) && p) sa_trace_free_block(p); else <free>;
 *
 * The core never defines these names, so it can be unit-tested next to
 * glibc's malloc.  C++ operators are in preload/override_cxx.c.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc_inline.h"
#include "alloc/arena.h"
#include "alloc/heap.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "debug/debug_mode.h"
#include "debug/guard.h"
#include "leak/leak.h"
#include "trace/budget.h"
#include "trace/trace.h"
#include "alloc/sizeclass.h"

#define SA_EXPORT __attribute__((visibility("default")))

SA_INLINE void *traced(void *p, size_t n)
{
    if (SA_UNLIKELY(sa_tracing()) && p)
        sa_trace_alloc_entry(p, n);
    return p;
}

/* A new block whose contents the program has not written: under the leak
 * check they are cleared first (leak/leak.h, sa_leak_scrub), up to the usable
 * size, which the program may write and realloc then keeps. */
SA_INLINE void *traced_new(void *p, size_t n)
{
    if (SA_UNLIKELY(sa_tracing()) && p) {
        if (SA_UNLIKELY(sa_leak_scrub_on))
            sa_leak_scrub(p, 0, sa_usable_size(p));
        sa_trace_alloc_entry(p, n);
    }
    return p;
}

/* Debug mode (debug/debug.h) is entered from the traced paths only (it
 * turns tracing on): the tracer records the allocator block that holds
 * the debug block, from the entry point's frame as for any block. */
SA_INLINE void *debug_traced(void *u, size_t n)
{
    if (u)
        sa_trace_alloc_entry(sa_debug_base(u), n);
    return u;
}

/* malloc and free are frameless when optimized: their fast paths call
 * nothing and save no register.  Not at -O0, where the tail call below
 * would be a plain call and malloc's frame is what links the program's
 * call site into the frame-pointer chain. */
#if defined(__OPTIMIZE__)
#define SA_FRAMELESS __attribute__((optimize("omit-frame-pointer", "optimize-sibling-calls")))
#else
#define SA_FRAMELESS
#endif

/* What malloc's traced paths do: a guarded block (debug/guard.h), debug
 * mode's, or the allocator's, recorded (under sampling, if chosen). */
SA_INLINE void *malloc_decided(size_t n)
{
    void *g = sa_guard_maybe(n, 0, SA_API_MALLOC);   /* guard pages: debug/guard.h */
    if (SA_UNLIKELY(g))
        return traced(g, n);
    if (SA_UNLIKELY(sa_debug_on))
        return debug_traced(sa_debug_alloc(n, 0, SA_API_MALLOC, 0), n);
    return traced_new(sa_heap_malloc(n), n);
}

/* malloc's traced paths, out of line and entered by a tail call: their
 * frame's return address is the program's call site, which the frame-
 * pointer unwinder would not see were malloc itself frameless.  The
 * first serves full tracing and debug mode (every malloc); the second a
 * malloc whose byte budget ran out (trace/budget.h), which is how
 * sampled tracing and guard pages see a malloc: it settles the budget
 * into their counts, lets them decide, and arms it again. */
static SA_NOINLINE void *malloc_traced(size_t n)
{
    return malloc_decided(n);
}

static SA_NOINLINE void *malloc_spent(size_t n)
{
    sa_budget_spent(n);
    void *p = malloc_decided(n);
    sa_budget_arm();
    return p;
}

/* free()'s traced path: debug mode's, or the tracer's. */
static SA_NOINLINE void free_traced(void *p)
{
    if (SA_UNLIKELY(sa_debug_on))
        sa_debug_free(p, SA_API_MALLOC, __builtin_frame_address(0));
    else
        sa_trace_free_block(p);
}

/* Under sampled tracing (trace/sample.h) or guard pages alone (debug/
 * guard.h) malloc's fast path spends its byte budget, and only a malloc
 * that finds it short takes a traced path (trace/budget.h). */
SA_EXPORT SA_FRAMELESS void *malloc(size_t n)
{
    if (SA_UNLIKELY(sa_trace_malloc_all))
        return malloc_traced(n);
    return sa_heap_malloc_budgeted(n, malloc_spent);
}

SA_EXPORT SA_FRAMELESS void free(void *p)
{
    if (SA_UNLIKELY(sa_trace_free_on) && p) {
        free_traced(p);
        return;
    }
    sa_free_inline(p);
}

SA_EXPORT void cfree(void *p) __attribute__((alias("free")));

SA_EXPORT void *calloc(size_t n, size_t size)
{
    if (SA_UNLIKELY(sa_trace_on)) {
        if (sa_debug_on) {
            size_t total;
            if (__builtin_mul_overflow(n, size, &total)) {
                errno = ENOMEM;
                return NULL;
            }
            return debug_traced(sa_debug_alloc(total, 0, SA_API_MALLOC, 1), total);
        }
        void *g = sa_guard_maybe_calloc(n, size, SA_API_MALLOC);   /* guard pages: debug/guard.h */
        if (SA_UNLIKELY(g))
            return traced(g, n * size);
    }
    return traced(sa_calloc(n, size), n * size);
}

SA_EXPORT void *realloc(void *p, size_t n)
{
    if (SA_LIKELY(!sa_trace_on))
        return sa_realloc(p, n);
    if (sa_debug_on)
        return debug_traced(sa_debug_realloc(p, n, __builtin_frame_address(0)), n);
    if (SA_UNLIKELY(sa_guard_owns(p)))   /* guard pages: debug/guard.h */
        return sa_guard_realloc(p, n);
    if (!sa_tracing())
        return sa_realloc(p, n);
    if (!p)
        return traced(sa_realloc(NULL, n), n);
    if (n == 0) {
        sa_trace_free(p);
        return sa_realloc(p, 0);
    }
    /* Under the leak check, the part past what the program may have
     * written is cleared: from the old usable size, not the requested one
     * (malloc_usable_size gives the program every usable byte, and redis's
     * strings use them), to the new usable size. */
    size_t written = sa_leak_scrub_on ? sa_usable_size(p) : 0;
    sa_tag rec = sa_trace_detach(p);
    void *q = sa_realloc(p, n);
    if (q && sa_leak_scrub_on)
        sa_leak_scrub(q, written, sa_usable_size(q));
    if (q)
        sa_trace_alloc_entry(q, n);
    else
        sa_trace_reattach(p, rec);
    return q;
}

SA_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

/* The aligned allocations: the allocator's, or debug mode's. */
SA_INLINE void *aligned_block(size_t align, size_t n)
{
    if (SA_UNLIKELY(sa_trace_on)) {
        if (sa_debug_on)
            return sa_debug_alloc(n, align, SA_API_MALLOC, 0);
        void *g = sa_guard_maybe(n, align, SA_API_MALLOC);   /* guard pages: debug/guard.h */
        if (SA_UNLIKELY(g))
            return g;
    }
    return sa_aligned(align, n);
}

/* traced_new for aligned_block's result. */
SA_INLINE void *aligned_traced(void *p, size_t n)
{
    if (SA_UNLIKELY(sa_trace_on) && p && sa_debug_on)
        return debug_traced(p, n);
    return traced_new(p, n);
}

SA_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = aligned_block(align, n);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = aligned_traced(p, n);
    return 0;
}

/* memalign rounds a non-power-of-two alignment up, as glibc does. */
SA_EXPORT void *memalign(size_t align, size_t n)
{
    if (align & (align - 1)) {
        if (align > ((size_t)1 << 62)) {
            errno = EINVAL;
            return NULL;
        }
        size_t a = 1;
        while (a < align)
            a <<= 1;
        align = a;
    }
    return aligned_traced(aligned_block(align, n), n);
}

/* glibc 2.36 is lenient: aligned_alloc is memalign (any size, any
 * alignment, rounded up to a power of two); 2.38 started to refuse
 * non-powers of two.  We follow the glibc the program was built for. */
SA_EXPORT void *aligned_alloc(size_t align, size_t n) __attribute__((alias("memalign")));

SA_EXPORT void *valloc(size_t n)
{
    return aligned_traced(aligned_block(SA_PAGE, n), n);
}

SA_EXPORT void *pvalloc(size_t n)
{
    if (n > SIZE_MAX - SA_PAGE) {
        errno = ENOMEM;
        return NULL;
    }
    size_t rounded = n ? (n + SA_PAGE - 1) & ~(size_t)(SA_PAGE - 1) : SA_PAGE;
    return aligned_traced(aligned_block(SA_PAGE, rounded), rounded);
}

/* In debug mode, the requested size: the guard bytes are not the
 * program's to write. */
SA_EXPORT size_t malloc_usable_size(void *p)
{
    if (SA_UNLIKELY(sa_trace_on) && sa_debug_on)
        return sa_debug_usable_size(p);
    return sa_usable_size(p);
}

/* ---- glibc's internal names: some programs and libraries call them ---- */

SA_EXPORT void *__libc_malloc(size_t n) __attribute__((alias("malloc")));
SA_EXPORT void __libc_free(void *p) __attribute__((alias("free")));
SA_EXPORT void __libc_cfree(void *p) __attribute__((alias("free")));
SA_EXPORT void *__libc_calloc(size_t n, size_t s) __attribute__((alias("calloc")));
SA_EXPORT void *__libc_realloc(void *p, size_t n) __attribute__((alias("realloc")));
SA_EXPORT void *__libc_memalign(size_t a, size_t n) __attribute__((alias("memalign")));
SA_EXPORT void *__libc_valloc(size_t n) __attribute__((alias("valloc")));
SA_EXPORT void *__libc_pvalloc(size_t n) __attribute__((alias("pvalloc")));
SA_EXPORT int __posix_memalign(void **o, size_t a, size_t n) __attribute__((alias("posix_memalign")));

/* ---- tuning and introspection ---------------------------------------- */

/* No glibc tunable applies to this design; accept them all, as the glibc
 * manual allows a replacement to do. */
SA_EXPORT int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 1;
}

SA_EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    sa_init();
    sa_heap_flush_cache();
    sa_heap_collect_abandoned();
    int released = sa_large_trim();
    released |= sa_arena_trim();
    return released;
}

SA_EXPORT void malloc_stats(void)
{
    sa_stats_print(2);
}

SA_EXPORT struct mallinfo2 mallinfo2(void)
{
    struct sa_totals t;
    sa_stats_totals(&t);
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    mi.arena = t.arena;          /* bytes in arenas */
    mi.hblkhd = t.large;         /* bytes in directly mapped blocks */
    mi.uordblks = t.inuse + t.large;
    mi.fordblks = t.free_small;
    return mi;
}

SA_EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi;
    memset(&mi, 0, sizeof mi);
    mi.arena = (int)m2.arena;
    mi.hblkhd = (int)m2.hblkhd;
    mi.uordblks = (int)m2.uordblks;
    mi.fordblks = (int)m2.fordblks;
    return mi;
}

SA_EXPORT int snapalloc_print_stats(int fd)
{
    return sa_stats_print(fd);
}
