/* trace_stack.h - the interned stack table (trace_stack.c).
 *
 * Every distinct stack is stored once, with the live requested bytes and
 * live block count of the traced blocks it allocated.  A stack id is
 * (generation << 24) | index, index >= 1; snapalloc_clear_traces() and
 * snapalloc_stop() start a new generation, after which ids of the old one
 * are refused by sa_stack_get (their blocks are no longer traced).
 */
#ifndef SA_TRACE_STACK_H
#define SA_TRACE_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define SA_STACK_INDEX_BITS 24
#define SA_STACK_INDEX_MASK ((1u << SA_STACK_INDEX_BITS) - 1)
#define SA_STACK_GEN(id)    ((id) >> SA_STACK_INDEX_BITS)

/* A stack record, 32 bytes.  size and count are the flushed part of the
 * live totals: each thread keeps recent changes in its own counter cache
 * (sa_stack_add) and adds them here, atomically, when a cache slot is
 * reused.  Readers add the pending parts (sa_stack_next), so totals are
 * exact whenever no thread is between an allocation and its count. */
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

/* The stack of id, or NULL if id is 0, out of range or of an older
 * generation. */
sa_stack *sa_stack_get(uint32_t id);

/* Add to s's live counters.  No lock-prefixed instruction on the common
 * path: the change lands in the calling thread's counter cache (a locked
 * add stalls the whole pipeline, and the tracer would pay 4 per
 * malloc/free pair). */
void sa_stack_add(sa_stack *s, int64_t size, int64_t count);

uint32_t sa_stack_generation(void);

/* Forget every stack and start a new generation. */
void sa_stack_reset(void);

/* Iterate the stacks of the current generation with live blocks: start
 * with *cursor = 0; fills *out and returns 1, or returns 0 at the end. */
int sa_stack_next(uint32_t *cursor, sa_snap_wstack *out);

/* Number of stacks interned in the current generation. */
uint32_t sa_stack_count(void);

/* Bytes mapped for the table (index, stack records, frame arena). */
size_t sa_stack_mapped_bytes(void);

/* Fork: the table's insertion lock. */
void sa_stack_prefork(void);
void sa_stack_postfork_parent(void);
void sa_stack_postfork_child(void);

#endif
