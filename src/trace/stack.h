/* trace/stack.h - the interned stack table (trace/stack.c).
 *
 * Every distinct stack is stored once.  A stack id is
 * (generation << 24) | index, index >= 1; snapalloc_clear_traces() and
 * snapalloc_stop() start a new generation, after which ids of the old one
 * are refused by sa_stack_get (their blocks are no longer traced).
 *
 * The live size and count of each stack are not kept up to date by
 * malloc and free: a snapshot recounts them from the blocks' records
 * (trace/dump.c's sa_trace_recount).  Counting on every call cost a per-thread
 * cache lookup in each traced malloc and free, 9% of traced churn's
 * instructions, to save a walk of the records per snapshot, and a
 * snapshot is rare next to malloc.
 *
 * The per-thread sa_stack_tc holds what must stay live between snapshots:
 * the thread's pending change of the traced current (trace/trace.c).
 */
#ifndef SA_TRACE_STACK_H
#define SA_TRACE_STACK_H

#include "common/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include "format/snapshot.h"

#define SA_STACK_INDEX_BITS 24
#define SA_STACK_INDEX_MASK ((1u << SA_STACK_INDEX_BITS) - 1)
#define SA_STACK_GEN(id)    ((id) >> SA_STACK_INDEX_BITS)

/* A stack record, 32 bytes.  size and count are the live totals as of
 * the last recount (sa_stack_clear_totals, then sa_stack_count_block per
 * live block). */
typedef struct sa_stack {
    int64_t size;              /* live requested bytes */
    int64_t count;             /* live blocks */
    const uintptr_t *frames;   /* innermost first, in the frame arena */
    uint32_t hash;
    uint16_t nframes;
    uint8_t gen;               /* generation that interned it (atomic) */
} sa_stack;

/* The id of the stack frames[0..n) in the current generation, interning it
 * if new (n <= SNAPALLOC_MAX_FRAMES).  Lock-free when the stack is known;
 * 0 if the table is full or out of memory. */
uint32_t sa_stack_intern(const uintptr_t *frames, uint32_t n);

/* ---- Inline fast paths (the table's internals they need) ------------ */

#define SA_STACK_REC_BITS   16
#define SA_STACK_REC_CHUNKS (1u << (SA_STACK_INDEX_BITS - SA_STACK_REC_BITS))

extern SA_HIDDEN sa_stack *sa_stack_chunks[SA_STACK_REC_CHUNKS];
extern SA_HIDDEN uint32_t sa_stack_last;      /* atomic: last index handed out */
extern SA_HIDDEN uint8_t sa_stack_gen_now;    /* atomic; 1..255 */

/* Per thread (trace/stack.c): its change of the traced current not yet
 * in the total (trace/trace.c's current_add, when several threads trace), for
 * stacks of generation current_gen.  Written by the owner only; caches
 * are never unmapped, so a reader can always walk the list. */
typedef struct sa_stack_tc {
    struct sa_stack_tc *next;   /* all caches (never unlinked) */
    struct sa_stack_tc *next_free;
    int in_use;
    uint8_t current_gen;
    int64_t current;
} sa_stack_tc;

/* The calling thread's sa_stack_tc, created on first use (may allocate:
 * call it with the tracer's guard set); NULL if out of memory. */
sa_stack_tc *sa_stack_tc_get(void);

/* trace/trace.c: move c's pending traced-current change into the total. */
void sa_trace_current_fold(sa_stack_tc *c);

/* Caches in use: threads that have traced an allocation and live. */
extern SA_HIDDEN int sa_stack_tc_live;

/* The sum of every cache's pending traced-current change of generation
 * gen (racy by nature: a thread may be adding as it is read). */
int64_t sa_stack_pending_current(uint8_t gen);

extern SA_TLS SA_HIDDEN sa_stack_tc *sa_stack_my_tc;

static inline sa_stack *sa_stack_at(uint32_t idx)
{
    return &sa_stack_chunks[idx >> SA_STACK_REC_BITS][idx & ((1u << SA_STACK_REC_BITS) - 1)];
}

static inline uint32_t sa_stack_generation(void)
{
    return __atomic_load_n(&sa_stack_gen_now, __ATOMIC_ACQUIRE);
}

/* Whether id belongs to the current generation (a record of an older one
 * is no longer traced). */
static inline int sa_stack_current(uint32_t id)
{
    return id != 0 && SA_STACK_GEN(id) == sa_stack_generation();
}

/* The stack of id, or NULL if id is 0, out of range or of an older
 * generation. */
static inline sa_stack *sa_stack_get(uint32_t id)
{
    uint32_t idx = id & SA_STACK_INDEX_MASK;
    uint8_t gen = __atomic_load_n(&sa_stack_gen_now, __ATOMIC_ACQUIRE);
    if (idx == 0 || SA_STACK_GEN(id) != gen
        || idx > __atomic_load_n(&sa_stack_last, __ATOMIC_ACQUIRE))
        return (sa_stack *)0;
    sa_stack *s = sa_stack_at(idx);
    if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != gen)
        return (sa_stack *)0;
    return s;
}

/* The recount (trace/dump.c): zero the live totals of every stack, then add
 * the live blocks found one by one.  Only for the single thread that
 * recounts (under the tracer's snapshot lock). */
void sa_stack_clear_totals(void);
static inline void sa_stack_count_block(sa_stack *s, uint64_t size)
{
    __atomic_store_n(&s->size, s->size + (int64_t)size, __ATOMIC_RELAXED);
    __atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
}

/* The same for sampled blocks: size estimated bytes and count estimated
 * blocks in units of 1/SA_SAMPLE_ONE (trace/sample.h; sa_stack_next
 * gives whole blocks). */
static inline void sa_stack_count_blocks(sa_stack *s, uint64_t size, uint64_t count)
{
    __atomic_store_n(&s->size, s->size + (int64_t)size, __ATOMIC_RELAXED);
    __atomic_store_n(&s->count, s->count + (int64_t)count, __ATOMIC_RELAXED);
}

/* Forget every stack and start a new generation. */
void sa_stack_reset(void);

/* Iterate the stacks of the current generation with live blocks: start
 * with *cursor = 0; fills *out and returns 1, or returns 0 at the end. */
int sa_stack_next(uint32_t *cursor, sa_snap_wstack *out);

/* Number of stacks interned in the current generation. */
uint32_t sa_stack_count(void);

/* Bytes mapped for the table (index, stack records, frame arena). */
size_t sa_stack_mapped_bytes(void);

/* The table's invariants (a debug build checks them where the table
 * changes: common/assert.h): ids in range, each stack a complete record of
 * the current generation hashed from its frames, found on its probe chain,
 * and the index's slots one to one with the stacks.  Takes the insertion
 * lock. */
void sa_stack_table_check(void);

/* Fork: the table's insertion lock. */
void sa_stack_prefork(void);
void sa_stack_postfork_parent(void);
void sa_stack_postfork_child(void);

#endif
