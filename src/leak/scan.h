/* leak/scan.h - private to the scan: the state that leak/scan.c (the
 * index, the mark phase, the classes) and leak/scan_roots.c (which feeds
 * it the roots around stopping the world) share.  Nothing outside those
 * two files includes it.
 */
#ifndef SA_LEAK_SCAN_H
#define SA_LEAK_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "leak/leak.h"

/* One live block, as sa_block_foreach saw it with the world stopped. */
typedef struct sa_leak_block {
    uintptr_t start;
    uint64_t size;      /* requested (usable when untraced): the words
                           scanned, and the extent a pointer may hit */
    uint32_t stack;     /* trace stack id; 0 when untraced; SA_TRACE_OWN
                           for the tracer's own blocks (roots, never
                           reported) */
    uint32_t state;     /* mark state: leak/scan.c's alone (ST_*) */
} sa_leak_block;

/* The scan's state, from sa_leak_index_build to sa_leak_scanner_free.
 *
 * Invariants: b[0..n) is sorted by start while marking (a block is found
 * by binary search; sa_leak_aggregate re-sorts it by class and is the
 * last use); [lo, hi) covers every block; the mark stack holds at most
 * two pushes per block (one as POSSIBLE, one when upgraded to REACHABLE),
 * so mark_cap = 2 * cap (+ slack) never overflows; every buffer is
 * sa_os_map'ed (nothing here may allocate while the world is stopped). */
typedef struct sa_leak_scanner {
    sa_leak_block *b, *tmp;    /* tmp: the radix sort's second buffer */
    size_t n, cap, mapped;
    uintptr_t lo, hi;          /* [lowest start, highest end) */
    uint32_t *mark;            /* the mark stack: indices into b */
    size_t sp, mark_cap, mark_mapped;
    size_t dropped;            /* blocks that appeared after the count */
    unsigned heuristics;       /* SA_LEAK_HEUR_* bits in force */
    const sa_leak_ranges *maps;   /* for the heuristics' vtable test */
} sa_leak_scanner;

/* Index the live blocks (sorted by address) and map the mark stack:
 * with the world stopped.  0 or -ENOMEM (then free what was mapped with
 * sa_leak_scanner_free). */
int sa_leak_index_build(sa_leak_scanner *k);
void sa_leak_scanner_free(sa_leak_scanner *k);

/* Phase 1, marking.  A word v found in a root (definite = 1) or in a
 * block (definite: the block is reachable); words of [lo, hi); a root
 * range (its words, then everything they reach); a block that is a root
 * itself (index i: marked reachable).  sa_leak_visit and
 * sa_leak_mark_block only push: sa_leak_drain scans what they pushed. */
void sa_leak_visit(sa_leak_scanner *k, uintptr_t v, int definite);
void sa_leak_scan_words(sa_leak_scanner *k, uintptr_t lo, uintptr_t hi, int definite);
void sa_leak_drain(sa_leak_scanner *k);
void sa_leak_scan_range(sa_leak_scanner *k, const sa_leak_range *r);
void sa_leak_mark_block(sa_leak_scanner *k, size_t i);

/* Phase 2: every block still unreached leads a clique (leak/scan.c). */
void sa_leak_cliques(sa_leak_scanner *k);

/* The classes and the entries by (class, stack) into out; re-sorts the
 * index.  0 or -ENOMEM. */
int sa_leak_aggregate(sa_leak_scanner *k, sa_leak_result *out);

#endif
