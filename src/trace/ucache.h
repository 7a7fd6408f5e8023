/* trace/ucache.h - a per-thread cache of unwound stacks, validated
 * against the live stack (trace/ucache.c).
 *
 * Key: the program's return address out of malloc and its stack pointer
 * at the call (ra, sp).  A loop that allocates from one place calls malloc
 * with the same pair over and over; the walker would walk the same frames
 * each time, and the stack would be interned again.  The entry remembers,
 * for every frame above the first, where on the stack its return address
 * was found (the slot at its caller's CFA - 8).  A hit requires each slot to still hold the cached return
 * address: the same (ra, sp) with the same chain of return addresses in
 * the same places is the same stack.  Entries come from the walkers that
 * know each frame's slot: the frame-shape walker (trace/unwind_cfa.c) and
 * the frame-pointer walk (trace/unwind_fp.c, SNAPALLOC_UNWIND=fp); stacks
 * left to unw_backtrace (signal frames, other shapes) are never cached.
 */
#ifndef SA_TRACE_UCACHE_H
#define SA_TRACE_UCACHE_H

#include "common/compiler.h"

#include <stdint.h>

#include "trace/unwind.h"

#define SA_UCACHE_FRAMES 32     /* deeper limits bypass the cache */

typedef struct sa_ucache_entry {
    uintptr_t ra, sp;
    uint32_t n;                  /* frames; 0 = empty */
    uint32_t id;                 /* interned stack id (generation checked by the user) */
    int limit;                   /* frame limit it was captured with */
    uintptr_t frame[SA_UCACHE_FRAMES];
    uintptr_t slot[SA_UCACHE_FRAMES];   /* slot[i] holds frame[i] (i >= 1) */
} sa_ucache_entry;

/* Direct-mapped, per thread: 272 KiB of address space, touched only where
 * used.  512 entries: sqlite3's call sites hit 99% of the time (69% with
 * 64 entries), python3's 80% (67%). */
#define SA_UCACHE_ENTRIES 512
#define SA_UCACHE_BITS 9

typedef struct sa_ucache {
    sa_ucache_entry e[SA_UCACHE_ENTRIES];
    sa_unwind_last last;          /* the thread's last walk (trace/unwind.h) */
} sa_ucache;
_Static_assert(SA_UCACHE_ENTRIES == 1 << SA_UCACHE_BITS, "ucache index bits");

extern SA_TLS SA_HIDDEN sa_ucache *sa_ucache_mine;

static inline sa_ucache_entry *sa_ucache_entry_for(sa_ucache *c, uintptr_t ra, uintptr_t sp)
{
    uintptr_t h = (ra ^ (sp >> 4)) * 0x9e3779b97f4a7c15ull;
    return &c->e[h >> (64 - SA_UCACHE_BITS)];
}

/* The cached entry for (ra, sp, limit) if the live stack still matches,
 * else NULL.  Never allocates. */
static inline sa_ucache_entry *sa_ucache_lookup(uintptr_t ra, uintptr_t sp, int limit)
{
    sa_ucache *c = sa_ucache_mine;
    if (!c)
        return (sa_ucache_entry *)0;
    sa_ucache_entry *e = sa_ucache_entry_for(c, ra, sp);
    if (e->n == 0 || e->ra != ra || e->sp != sp || e->limit != limit)
        return (sa_ucache_entry *)0;
    for (uint32_t i = 1; i < e->n; i++)
        if (*(const volatile uintptr_t *)e->slot[i] != e->frame[i])
            return (sa_ucache_entry *)0;
    return e;
}

/* Offer the stack just walked from (ra, sp) with `limit`: frames[0..n)
 * and the stack slots they were read from.  The first sighting of a key
 * only remembers it; the second fills the entry and returns it (the
 * caller then records through it).  NULL: not cached this time.
 * Allocates the thread's table on first use (through the tracer's
 * guard). */
sa_ucache_entry *sa_ucache_offer(uintptr_t ra, uintptr_t sp, int limit,
                                 const uintptr_t *frames, const uintptr_t *slots, int n);

#endif
