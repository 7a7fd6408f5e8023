/* common/assert.h - run-time invariant checks (sa_assert, sa_check).
 *
 * A debug build (configure --enable-debug, which compiles everything with
 * -DSA_DEBUG=1) executes them: a failed sa_assert writes one line,
 * "snapalloc: assertion failed: EXPR (file:line, function)", to stderr
 * through the OS layer (no stdio, no malloc: it may fire inside malloc,
 * under our locks or in a signal handler) and aborts.  A normal build
 * compiles them to nothing: the expression is type-checked (sizeof) but
 * never evaluated, so the fast paths are the same instructions as without
 * the checks.
 *
 * sa_check(call) runs a whole-structure check function (sa_pool_check,
 * sa_arena_check, ...) in a debug build only; the call is still compiled,
 * and so type-checked, in a normal build, behind a constant false.
 */
#ifndef SA_ASSERT_H
#define SA_ASSERT_H

#include "common/compiler.h"

#ifdef SA_DEBUG
#define SA_DEBUG_ON 1
#define sa_assert(cond) \
    (SA_LIKELY(cond) ? (void)0 : sa_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define SA_DEBUG_ON 0
#define sa_assert(cond) ((void)sizeof(!(cond)))
#endif

#define sa_check(call) do { if (SA_DEBUG_ON) call; } while (0)

/* Print the assertion's line and abort (common/assert.c). */
__attribute__((noreturn, cold)) void sa_assert_fail(const char *expr, const char *file,
                                                    int line, const char *func);

#endif
