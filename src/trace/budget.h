/* trace/budget.h - malloc's byte budget: how sampled tracing (trace/
 * sample.h) and guard pages (debug/guard.h) choose among mallocs at no
 * cost to malloc's fast path beyond one subtraction.
 *
 * Each heap carries a budget (alloc/heap.h): the bytes its thread's
 * malloc may allocate on the fast path before it must ask.  Both counts
 * live in thread-local variables: sampling's bytes to the next recorded
 * allocation (sa_sample_left) and guard pages' allocations to the next
 * guarded one (sa_guard_left).  The budget is armed below both:
 *
 *     budget <= min(sa_sample_left - 1, T)          (sampling on at T:
 *               a request over T is always recorded, so never fits)
 *     budget ~= (sa_guard_left - 1) / 2 * mean size (guard pages on;
 *               0 for the count's last SA_BUDGET_GUARD_NEAR mallocs)
 *     budget <= SA_BUDGET_IDLE                      (always)
 *
 * so the malloc that would reach either count's zero finds the budget
 * short and goes to the slow path (preload/override.c's malloc_spent),
 * which settles what the fast path spent (bytes: the budget's fall since
 * it was armed; allocations: the heap's nmalloc since then) into both
 * counts, lets them decide this allocation as for any traced entry
 * point, and arms the budget again.  The traced path of the other entry
 * points (calloc, realloc, operator new...) spends from the same budget
 * (sa_sample_skip), so one Poisson process runs over all the bytes a
 * thread allocates, whichever function allocated them.
 *
 * The guard count is one in N allocations; the budget, bytes.  It is
 * armed for half the count's mallocs at the thread's mean malloc size
 * since its last arming, again and again, and for the count's last few
 * not at all: each then asks, and the chosen block is the one the count
 * reaches, as before (a budget armed for the whole count would choose
 * whichever block crossed it: a size recurring in step with the mean
 * would be chosen far more often than the others).  About log2(N) + 8
 * slow-path visits per guarded block.
 *
 * Mode changes (sampling or guard pages switched on or off, a new
 * interval) zero every heap's budget (sa_budget_reset_all) so that every
 * thread asks at its next malloc.  That store races with the owner's
 * subtraction, which is not atomic; when the owner wins, it asks within
 * SA_BUDGET_IDLE bytes anyway.
 */
#ifndef SA_TRACE_BUDGET_H
#define SA_TRACE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* The budget when nothing counts: a slow-path visit per 64 MiB. */
#define SA_BUDGET_IDLE ((uint64_t)64 << 20)
/* The guard count's last mallocs, each of which asks. */
#define SA_BUDGET_GUARD_NEAR 8

/* malloc's fast path ran out of budget with n bytes (or the thread has no
 * heap): give the n back, settle what was spent into both counts and
 * leave the budget at 0 for the decisions that follow. */
void sa_budget_spent(size_t n);
/* Arm the calling thread's budget from both counts (after the decisions
 * of an allocation that asked). */
void sa_budget_arm(void);
/* sa_sample_skip's slow path: settle, decide an allocation of size bytes
 * at the interval (sa_sample_decide), arm; whether it is recorded. */
int sa_budget_sample_decide(size_t size, uint64_t interval);
/* Every heap asks at its next malloc (mode changes). */
void sa_budget_reset_all(void);
/* The fork child's one thread: its counts are new. */
void sa_budget_postfork_child(void);

#endif
