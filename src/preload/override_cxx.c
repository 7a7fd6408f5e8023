/* preload/override_cxx.c - C++ operator new and delete (all sized, aligned and
 * nothrow forms), written in C under their Itanium-ABI names so that the
 * library does not depend on libstdc++.  A C++ program brings libstdc++
 * along, and with it std::get_new_handler and std::__throw_bad_alloc,
 * which we reach through weak references.  Compiled with -fexceptions so
 * that bad_alloc can unwind through these frames.
 */
#include <stddef.h>

#include "alloc/alloc_inline.h"
#include "alloc/alloc.h"
#include "debug/debug_mode.h"
#include "debug/guard.h"
#include "leak/leak.h"
#include "trace/trace.h"
#include "common/os.h"

#define SA_EXPORT __attribute__((visibility("default")))

typedef void (*new_handler_fn)(void);
extern new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

/* operator new's failure path: call the new-handler until it gives up,
 * then throw std::bad_alloc (or return NULL for the nothrow forms). */
static SA_NOINLINE void *new_failed(size_t n, size_t align, int nothrow)
{
    for (;;) {
        new_handler_fn h = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
        if (!h)
            break;
        h();
        void *p = align > SA_ALIGNMENT ? sa_aligned(align, n) : sa_malloc(n);
        if (p)
            return p;
    }
    if (nothrow)
        return NULL;
    if (_ZSt17__throw_bad_allocv)
        _ZSt17__throw_bad_allocv();
    sa_os_fatal_oom();
}

/* Debug mode's operator new (debug/debug_mode.h), out of line, and the
 * tracer's record of its block (from the entry point's frame, which is
 * the caller's).  Out of memory, the new-handler's retry makes a plain
 * block, which is then neither recorded nor checked. */
static SA_NOINLINE void *cxx_new_debug(size_t n, size_t align, int nothrow, sa_debug_api api,
                                       int *debug_block)
{
    void *p = sa_debug_alloc(n, align > SA_ALIGNMENT ? align : 0, api, 0);
    *debug_block = p != NULL;
    if (SA_UNLIKELY(!p))
        p = new_failed(n, align, nothrow);
    return p;
}

SA_INLINE void *cxx_new(size_t n, size_t align, int nothrow, sa_debug_api api)
{
    if (SA_UNLIKELY(sa_trace_on) && sa_debug_on) {
        int debug_block;
        void *u = cxx_new_debug(n, align, nothrow, api, &debug_block);
        if (debug_block)
            sa_trace_alloc_entry(sa_debug_base(u), n);
        return u;
    }
    void *p = NULL;
    if (SA_UNLIKELY(sa_trace_on))
        p = sa_guard_maybe(n, align > SA_ALIGNMENT ? align : 0, api);   /* debug/guard.h */
    if (SA_LIKELY(!p))
        p = align > SA_ALIGNMENT ? sa_aligned(align, n) : sa_heap_malloc(n);
    if (SA_UNLIKELY(!p))
        p = new_failed(n, align, nothrow);
    if (SA_UNLIKELY(sa_tracing()) && p) {
        if (SA_UNLIKELY(sa_leak_scrub_on))
            sa_leak_scrub(p, 0, sa_usable_size(p));   /* leak/leak.h: what the program did not write */
        sa_trace_alloc_entry(p, n);
    }
    return p;
}

static SA_NOINLINE void cxx_delete_traced(void *p, sa_debug_api api)
{
    if (SA_UNLIKELY(sa_debug_on))
        sa_debug_free(p, api, __builtin_frame_address(0));
    else
        sa_trace_free_block(p);
}

/* api: which operator delete (debug mode checks it against the new). */
SA_INLINE void cxx_delete(void *p, sa_debug_api api)
{
    if (SA_UNLIKELY(sa_trace_free_on) && p) {
        cxx_delete_traced(p, api);
        return;
    }
    sa_free_inline(p);
}

typedef struct nothrow_t nothrow_t;

SA_EXPORT void *_Znwm(size_t n) { return cxx_new(n, 0, 0, SA_API_NEW); }
SA_EXPORT void *_Znam(size_t n) { return cxx_new(n, 0, 0, SA_API_NEW_ARRAY); }
SA_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const nothrow_t *t) { (void)t; return cxx_new(n, 0, 1, SA_API_NEW); }
SA_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const nothrow_t *t) { (void)t; return cxx_new(n, 0, 1, SA_API_NEW_ARRAY); }
SA_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t a) { return cxx_new(n, a, 0, SA_API_NEW_ALIGNED); }
SA_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t a) { return cxx_new(n, a, 0, SA_API_NEW_ARRAY_ALIGNED); }
SA_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const nothrow_t *t) { (void)t; return cxx_new(n, a, 1, SA_API_NEW_ALIGNED); }
SA_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t a, const nothrow_t *t) { (void)t; return cxx_new(n, a, 1, SA_API_NEW_ARRAY_ALIGNED); }

SA_EXPORT void _ZdlPv(void *p) { cxx_delete(p, SA_API_NEW); }
SA_EXPORT void _ZdaPv(void *p) { cxx_delete(p, SA_API_NEW_ARRAY); }
SA_EXPORT void _ZdlPvm(void *p, size_t n) { (void)n; cxx_delete(p, SA_API_NEW); }
SA_EXPORT void _ZdaPvm(void *p, size_t n) { (void)n; cxx_delete(p, SA_API_NEW_ARRAY); }
SA_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const nothrow_t *t) { (void)t; cxx_delete(p, SA_API_NEW); }
SA_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const nothrow_t *t) { (void)t; cxx_delete(p, SA_API_NEW_ARRAY); }
SA_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t a) { (void)a; cxx_delete(p, SA_API_NEW_ALIGNED); }
SA_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t a) { (void)a; cxx_delete(p, SA_API_NEW_ARRAY_ALIGNED); }
SA_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t a) { (void)n; (void)a; cxx_delete(p, SA_API_NEW_ALIGNED); }
SA_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t a) { (void)n; (void)a; cxx_delete(p, SA_API_NEW_ARRAY_ALIGNED); }
SA_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const nothrow_t *t) { (void)a; (void)t; cxx_delete(p, SA_API_NEW_ALIGNED); }
SA_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t a, const nothrow_t *t) { (void)a; (void)t; cxx_delete(p, SA_API_NEW_ARRAY_ALIGNED); }
