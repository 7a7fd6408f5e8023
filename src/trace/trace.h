/* trace/trace.h - the tracer as the entry points see it (src/preload), and
 * its start, exit and fork hooks (preload/lifecycle.c).
 *
 * The exported entry points (preload/override.c) call into the tracer only
 * behind one branch on sa_trace_on, jemalloc-style:
 *
 *     p = sa_malloc(n);
 *     if (SA_UNLIKELY(sa_trace_on) && p) sa_trace_alloc(p, n);
 *
 *     if (SA_UNLIKELY(sa_trace_free_on) && p) { sa_trace_free_block(p); return; }
 *     sa_free(p);          // sa_trace_free_block forgets the record and frees
 *
 * Under the leak check (lazy counters, trace/trace.c) free() leaves the tracer
 * out: a freed block's record goes stale, and whoever reads records asks
 * the block whether it is free (alloc/walk.h).
 *
 * The per-block record is the block's tag, which the allocator keeps for
 * the tracer (alloc/tag.h): 8 bytes per block, the stack id and the
 * requested size.
 *
 * Stack ids: 0 means "not traced".  The top 8 bits hold the tracing
 * generation, bumped by snapalloc_clear_traces()/snapalloc_stop(), so that
 * records left over from an earlier generation are ignored without walking
 * the heap; the low 24 bits index the interned stack table.
 */
#ifndef SA_TRACE_H
#define SA_TRACE_H

#include "alloc/tag.h"
#include "common/compiler.h"
#include "trace/sample.h"

#include <stddef.h>
#include <stdint.h>

/* A block's record is its tag (alloc/tag.h): id = the interned stack id,
 * 0 = untraced; size = the requested bytes, UINT32_MAX = ">= 4 GiB, ask
 * sa_usable_size". */

/* The record of a block allocated while the tracer's guard was set: by
 * the tracer itself or by what it called (dlopen of libunwind, libunwind's
 * caches, the leak checker).  Not the program's, so neither in snapshots
 * nor in leak reports; the leak scan takes such blocks as roots.  Its
 * generation, 0, is never a live one: no stack id ever equals it. */
#define SA_TRACE_OWN 0x00ffffffu

/* Non-zero while tracing or sampling guard pages (debug/guard.h): the
 * malloc family leaves its fast path.  Read on every malloc: keep it
 * alone.  The bits say who asked: only SA_TRACE_ON_TRACER means the
 * tracer records (sa_tracing). */
extern SA_HIDDEN int sa_trace_on;
#define SA_TRACE_ON_TRACER 1
#define SA_TRACE_ON_GUARD 2
SA_INLINE int sa_tracing(void)
{
    return __atomic_load_n(&sa_trace_on, __ATOMIC_RELAXED) & SA_TRACE_ON_TRACER;
}
/* Non-zero while every malloc must take its traced path (full tracing,
 * debug mode); under sampling or guard pages alone malloc spends a byte
 * budget instead (trace/budget.h).  Read on every malloc. */
extern SA_HIDDEN int sa_trace_malloc_all;
/* Non-zero while tracing with live counters: free() must forget the
 * block's record (sa_trace_free_block).  Read on every free. */
extern SA_HIDDEN int sa_trace_free_on;

/* Record a new live block ptr of size requested bytes (noinline). */
void sa_trace_alloc(void *ptr, size_t size);
/* The same, called directly by an exported entry point compiled with a
 * frame pointer (override*.c): it may use the unwind cache.  Under
 * sampling (trace/sample.h) an allocation not chosen costs the entry
 * point one thread-local subtraction here, inline, and no call (a call
 * and the recorder's prologue were 35 instructions a malloc). */
void sa_trace_alloc_sampled(void *ptr, size_t size);
SA_INLINE void sa_trace_alloc_entry(void *ptr, size_t size)
{
    if (!sa_sample_skip(size))
        sa_trace_alloc_sampled(ptr, size);
}
/* The tracer's forget for the allocator's slow frees (alloc_inline.h's
 * sa_free_forget): blocks in pages marked for it, large blocks. */
void sa_trace_forget(sa_tag *tag, void *ptr);
/* Forget the record of ptr, which is about to be freed (noinline). */
void sa_trace_free(void *ptr);
/* free() while tracing: forget ptr's record and free it, finding its pool
 * once for both (noinline). */
void sa_trace_free_block(void *ptr);
/* realloc support: detach ptr's record before the realloc (returns it),
 * re-attach it to ptr if the realloc failed. */
sa_tag sa_trace_detach(void *ptr);
/* The same, for a caller that found ptr's tag already (debug mode's
 * release, which looks the block up in the page map to validate it). */
sa_tag sa_trace_detach_slot(sa_tag *slot, void *ptr);
void sa_trace_reattach(void *ptr, sa_tag rec);

/* The interned stack id of the program's call to an entry point whose
 * frame is entry_frame (its saved frame pointer, then the program's
 * return address), through the unwind cache; up to limit frames.  Call
 * with the tracer's guard set (trace/entry_stack.c). */
uint32_t sa_trace_entry_stack(const uintptr_t *entry_frame, int limit);

/* Start what sa_trace_cfg (trace/config.h, read first) asks for: tracing,
 * the snapshot triggers and their helper thread.  Once, from
 * libsnapalloc's constructor (preload/lifecycle.c). */
void sa_trace_start(void);
/* The exit snapshot, when configured (once per process): the exit
 * sequence (preload/lifecycle.c), at exit or _exit. */
void sa_trace_exit_snapshot(void);
/* Called by snapalloc_mark_baseline() after it marked the baseline, when
 * set (the leak check sets it to write its baseline file). */
extern SA_HIDDEN void (*sa_trace_baseline_hook)(void);
/* Fork handlers for the tracer's locks, registered after the allocator's
 * (preload/lifecycle.c) so that they take the tracer's locks first. */
void sa_trace_prefork(void);
void sa_trace_postfork_parent(void);
void sa_trace_postfork_child(void);

#endif
