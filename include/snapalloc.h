/* snapalloc.h - public API of libsnapalloc.
 *
 * libsnapalloc replaces the malloc family of a whole program (link it with
 * -lsnapalloc, or LD_PRELOAD it).  Besides the standard malloc API it offers:
 *
 *   - allocator statistics, in the spirit of CPython's sys._debugmallocstats();
 *   - a tracer modelled on Python's tracemalloc: the stack trace of every
 *     live allocation, current and peak traced memory, and snapshot files of
 *     live memory grouped by stack, read by the `snapalloc` command.
 *
 * Using the API from a program that is only preloaded (not linked with
 * -lsnapalloc): declare the functions weak and test them for NULL, e.g.
 *
 *     #pragma weak snapalloc_take_snapshot
 *     if (snapalloc_take_snapshot) snapalloc_take_snapshot("x.snap");
 *
 * or look them up with dlsym(RTLD_DEFAULT, "snapalloc_take_snapshot").
 * SNAPALLOC_WEAK below does the declaration part for you.
 */
#ifndef SNAPALLOC_H
#define SNAPALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SNAPALLOC_VERSION_MAJOR 0
#define SNAPALLOC_VERSION_MINOR 1

/* Define SNAPALLOC_WEAK before including this header to declare every
 * function weak, for programs that run with or without the preload. */
#ifdef SNAPALLOC_WEAK
#define SNAPALLOC_API __attribute__((weak))
#else
#define SNAPALLOC_API
#endif

/* ---- Allocator statistics ------------------------------------------- */

/* Write the allocator statistics (size classes, pools, arenas, large
 * blocks, byte accounting) as text to file descriptor fd.  Does not
 * allocate.  Returns 0, or a negative errno if writing failed. */
SNAPALLOC_API int snapalloc_print_stats(int fd);

/* ---- Tracing (mirrors Python's tracemalloc) ------------------------- */

/* Start tracing new allocations, storing up to nframe frames per stack
 * (1..SNAPALLOC_MAX_FRAMES; 0 picks the default).  Returns 0, or a
 * negative errno (-EINVAL for a bad nframe). */
#define SNAPALLOC_MAX_FRAMES 128
SNAPALLOC_API int snapalloc_start(int nframe);

/* Start tracing a sample of the allocations (as jemalloc's prof.reset
 * with lg_sample): each thread records one allocation every interval
 * bytes on average (exponentially distributed gaps), every request larger
 * than interval, and nothing else; snapshots and
 * snapalloc_get_traced_memory() then give unbiased estimates.  interval
 * 0 traces every allocation; at most 1 GiB (else -EINVAL).  When tracing
 * already at another interval, the traces so far are forgotten (as
 * snapalloc_clear_traces()).  snapalloc_start(n) is
 * snapalloc_start_sampled(n, SNAPALLOC_SAMPLE's value, 0 when unset).
 * Under the leak check every allocation is traced whatever interval
 * says. */
SNAPALLOC_API int snapalloc_start_sampled(int nframe, size_t interval);

/* Stop tracing and forget every trace (as tracemalloc.stop()). */
SNAPALLOC_API void snapalloc_stop(void);

/* 1 while tracing, else 0. */
SNAPALLOC_API int snapalloc_is_tracing(void);

/* The frame limit given to snapalloc_start (0 when not tracing). */
SNAPALLOC_API int snapalloc_get_traceback_limit(void);

/* Requested bytes of live traced blocks, now and at their peak since
 * tracing started or since snapalloc_reset_peak().  NULL pointers are
 * allowed. */
SNAPALLOC_API void snapalloc_get_traced_memory(size_t *current, size_t *peak);

/* Set the peak to the current traced memory. */
SNAPALLOC_API void snapalloc_reset_peak(void);

/* Forget the traces of all live blocks; tracing goes on for new ones. */
SNAPALLOC_API void snapalloc_clear_traces(void);

/* Bytes of memory the tracer itself uses (stack table, per-block records). */
SNAPALLOC_API size_t snapalloc_get_tracemalloc_memory(void);

/* Store up to max return addresses of the stack that allocated the live
 * block ptr into frames, innermost first.  Returns the number stored, 0 if
 * the block is not traced. */
SNAPALLOC_API int snapalloc_get_object_traceback(const void *ptr, void **frames, int max);

/* Write a snapshot of all live traced memory, grouped by stack, to path
 * (atomically: a temporary file in the same directory, then rename).  A
 * NULL path uses the SNAPALLOC_SNAPSHOT template.  Returns 0 or a
 * negative errno. */
SNAPALLOC_API int snapalloc_take_snapshot(const char *path);

/* Mark the baseline for `snapalloc check --max-growth`: live memory at
 * this point is what growth is measured against. */
SNAPALLOC_API void snapalloc_mark_baseline(void);

/* Debug mode (SNAPALLOC_DEBUG): check the guard bytes of every live block
 * and the fill of every quarantined one now, reporting each damaged block
 * (and aborting with SNAPALLOC_DEBUG=1).  Returns the number of damaged
 * blocks found; 0 outside debug mode. */
SNAPALLOC_API int snapalloc_debug_check(void);

#ifdef __cplusplus
}
#endif

#endif /* SNAPALLOC_H */
