/* leak/scan.c - the scan proper: the index of the live blocks, the mark
 * phase from the roots it is given (leak/scan_roots.c), the cliques and
 * the aggregation of the blocks by (class, stack) into the result.
 *
 * Classification is valgrind memcheck's (mc_leakcheck.c, --leak-check=full,
 * with its interior-pointer heuristics: leak/heuristics.c):
 *
 *   1. From the roots, and then transitively from each marked block: a
 *      pointer to a block's start marks it REACHABLE if the pointer was
 *      found in a root or a REACHABLE block; any other pointer into the
 *      block (interior, or from a POSSIBLE block) marks an unmarked block
 *      POSSIBLE.  A POSSIBLE block upgraded to REACHABLE is scanned again.
 *   2. Every block still unmarked, in address order, leads a "clique": the
 *      unmarked blocks it points to (start or interior), transitively, are
 *      INDIRECT.  A leader later pointed to by another leader's clique
 *      becomes INDIRECT too; leaders left are DEFINITE.  So a lost list is
 *      one definite head and indirect rest, and a lost cycle nothing else
 *      points into has one definite block (its lowest address).
 *
 * As valgrind, a block's extent is its requested size (from the trace
 * record; the usable size when untraced): only words wholly inside it are
 * scanned, and a pointer into its slack does not point into it.
 */
#include "leak/scan.h"
#include "debug/debug_mode.h"

#include <errno.h>
#include <string.h>

#include "alloc/pagemap.h"
#include "alloc/walk.h"
#include "common/os.h"
#include "common/search.h"
#include "trace/stack.h"
#include "trace/trace.h"

/* ---- The block index ---------------------------------------------------- */

/* A block's state: ST_* in the low byte; a reachable block that only a
 * heuristic reached has SA_LEAK_HEUR_* + 1 in the next (ST_HEUR_SHIFT). */
enum { ST_UNREACHED = 0, ST_REACHABLE, ST_POSSIBLE, ST_INDIRECT, ST_MASK = 0xff, ST_HEUR_SHIFT = 8 };

static void count_cb(const sa_block_info *bi, void *ctx)
{
    (void)bi;
    ((sa_leak_scanner *)ctx)->cap++;
}

static void fill_cb(const sa_block_info *bi, void *ctx)
{
    sa_leak_scanner *k = ctx;
    if (k->n == k->cap) {
        k->dropped++;   /* a thread that was not stopped allocated */
        return;
    }
    sa_leak_block *b = &k->b[k->n++];
    b->start = (uintptr_t)bi->start;
    b->size = bi->size;
    /* In debug mode the program holds the block past its header: that is
     * the start its pointers are measured from (debug/debug_mode.h). */
    void *user = sa_debug_on ? sa_debug_user_of(bi->start, bi->size) : NULL;
    if (user)
        b->start = (uintptr_t)user;
    b->stack = 0;
    b->state = ST_UNREACHED;
    if (bi->tag && bi->tag->id == SA_TRACE_OWN) {
        b->stack = SA_TRACE_OWN;   /* the tracer's: a root, never reported */
    } else if (bi->tag && bi->tag->id && sa_stack_get(bi->tag->id)) {
        b->stack = bi->tag->id;
        if (bi->tag->size != UINT32_MAX && bi->tag->size <= bi->size)
            b->size = bi->tag->size;
    }
}

/* Sort keys: the address, or class and stack id for the aggregation. */
static uint64_t key_start(const sa_leak_block *b)
{
    return b->start;
}

static uint64_t key_class(const sa_leak_block *b)
{
    return (uint64_t)(b->state & ST_MASK) << 32 | b->stack;
}

/* LSD radix sort, 16 bits per pass (as many passes as the widest key
 * needs: 3 for user-space addresses), through tmp (n entries): O(n) where
 * a comparison sort of a million blocks would dominate the check.
 * Returns -ENOMEM if its counters cannot be mapped. */
static int sort_blocks(sa_leak_block *v, sa_leak_block *tmp, size_t n, uint64_t (*key)(const sa_leak_block *))
{
    size_t *count = sa_os_map((1u << 16) * sizeof(size_t), SA_OS_PAGE);
    if (!count)
        return -ENOMEM;
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= key(&v[i]);
    sa_leak_block *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && (all >> shift); shift += 16) {
        memset(count, 0, (1u << 16) * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            count[(key(&src[i]) >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < (1u << 16); d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(key(&src[i]) >> shift) & 0xffff]++] = src[i];
        sa_leak_block *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    sa_os_unmap(count, (1u << 16) * sizeof(size_t));
    return 0;
}

static int by_class(const sa_leak_block *a, const sa_leak_block *b)
{
    return key_class(a) != key_class(b);
}

int sa_leak_index_build(sa_leak_scanner *k)
{
    k->cap = 0;
    sa_block_foreach(count_cb, k);
    /* Slack for threads that could not be stopped. */
    k->cap += k->cap / 8 + 64;
    k->mapped = sa_os_page_round(k->cap * sizeof(sa_leak_block));
    k->b = sa_os_map(k->mapped, SA_OS_PAGE);
    if (!k->b)
        return -ENOMEM;
    k->cap = k->mapped / sizeof(sa_leak_block);
    k->tmp = sa_os_map(k->mapped, SA_OS_PAGE);
    if (!k->tmp)
        return -ENOMEM;
    k->mark_cap = 2 * k->cap + 16;
    k->mark_mapped = sa_os_page_round(k->mark_cap * sizeof(uint32_t));
    k->mark = sa_os_map(k->mark_mapped, SA_OS_PAGE);
    if (!k->mark)
        return -ENOMEM;
    sa_block_foreach(fill_cb, k);
    if (sort_blocks(k->b, k->tmp, k->n, key_start) != 0)
        return -ENOMEM;
    k->lo = k->n ? k->b[0].start : 0;
    k->hi = 0;
    for (size_t i = 0; i < k->n; i++) {
        uintptr_t end = k->b[i].start + (k->b[i].size ? k->b[i].size : 1);
        if (end > k->hi)
            k->hi = end;
    }
    return 0;
}

void sa_leak_scanner_free(sa_leak_scanner *k)
{
    if (k->b)
        sa_os_unmap(k->b, k->mapped);
    if (k->tmp)
        sa_os_unmap(k->tmp, k->mapped);
    if (k->mark)
        sa_os_unmap(k->mark, k->mark_mapped);
}

/* ---- Marking ---------------------------------------------------------- */

/* The block holding p (start or interior, within its requested size), or -1. */
static ptrdiff_t lookup(const sa_leak_scanner *k, uintptr_t p)
{
    if (p < k->lo || p >= k->hi || !sa_pagemap_get((const void *)p))
        return -1;
    size_t lo = sa_search_first_above(k->b, k->n, sizeof *k->b, offsetof(sa_leak_block, start), p);
    if (lo == 0)
        return -1;
    const sa_leak_block *b = &k->b[lo - 1];
    return p == b->start || p - b->start < b->size ? (ptrdiff_t)(lo - 1) : -1;
}

static void push(sa_leak_scanner *k, size_t i)
{
    if (k->sp < k->mark_cap)
        k->mark[k->sp++] = (uint32_t)i;
}

/* Phase 1: a pointer found in a root (definite = 1) or a block, as
 * memcheck's lc_push_if_a_chunk_ptr: a pointer to the start, or one a
 * heuristic accepts, makes the block reachable when what holds it is;
 * any other pointer into it makes an unreached block possibly lost. */
void sa_leak_visit(sa_leak_scanner *k, uintptr_t v, int definite)
{
    ptrdiff_t i = lookup(k, v);
    if (i < 0)
        return;
    sa_leak_block *b = &k->b[i];
    if ((b->state & ST_MASK) == ST_REACHABLE) {
        if (v == b->start)
            b->state = ST_REACHABLE;   /* reached directly after all */
        return;
    }
    int heur = 0;
    if (v != b->start && k->heuristics)
        heur = sa_leak_heur_match(k->heuristics, b->start, b->size, v, k->maps);
    if ((v == b->start || heur) && definite) {
        b->state = ST_REACHABLE | (uint32_t)heur << ST_HEUR_SHIFT;
        push(k, (size_t)i);
    } else if (b->state == ST_UNREACHED) {
        b->state = ST_POSSIBLE;
        push(k, (size_t)i);
    }
}

void sa_leak_scan_words(sa_leak_scanner *k, uintptr_t lo, uintptr_t hi, int definite)
{
    uintptr_t a = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    for (; a + sizeof(uintptr_t) <= hi && a >= lo; a += sizeof(uintptr_t))
        sa_leak_visit(k, *(const uintptr_t *)a, definite);
}

void sa_leak_drain(sa_leak_scanner *k)
{
    while (k->sp) {
        sa_leak_block *b = &k->b[k->mark[--k->sp]];
        sa_leak_scan_words(k, b->start, b->start + b->size, (b->state & ST_MASK) == ST_REACHABLE);
    }
}

/* Phase 2: the clique led by block `leader`. */
static void clique(sa_leak_scanner *k, size_t leader)
{
    push(k, leader);
    while (k->sp) {
        const sa_leak_block *b = &k->b[k->mark[--k->sp]];
        uintptr_t lo = b->start, hi = b->start + b->size;
        uintptr_t a = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
        for (; a + sizeof(uintptr_t) <= hi; a += sizeof(uintptr_t)) {
            ptrdiff_t i = lookup(k, *(const uintptr_t *)a);
            if (i < 0 || (size_t)i == leader || k->b[i].state != ST_UNREACHED)
                continue;
            k->b[i].state = ST_INDIRECT;
            push(k, (size_t)i);
        }
    }
}

void sa_leak_scan_range(sa_leak_scanner *k, const sa_leak_range *r)
{
    sa_leak_scan_words(k, r->lo, r->hi, 1);
    sa_leak_drain(k);
}

void sa_leak_mark_block(sa_leak_scanner *k, size_t i)
{
    if ((k->b[i].state & ST_MASK) != ST_REACHABLE) {
        k->b[i].state = ST_REACHABLE;
        push(k, i);
    }
}

void sa_leak_cliques(sa_leak_scanner *k)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->b[i].state == ST_UNREACHED)
            clique(k, i);
}

/* ---- The classes -------------------------------------------------------- */

static int class_of(uint32_t state)
{
    switch (state) {
    case ST_REACHABLE: return SA_LEAK_REACHABLE;
    case ST_POSSIBLE: return SA_LEAK_POSSIBLE;
    case ST_INDIRECT: return SA_LEAK_INDIRECT;
    default: return SA_LEAK_DEFINITE;
    }
}

/* Entries of the blocks a heuristic reached, after the classes' own:
 * heuristic h's, by stack (the blocks are sorted by class, then stack). */
static size_t aggregate_heuristics(const sa_leak_scanner *k, sa_leak_result *out, size_t e)
{
    for (uint32_t h = 1; h <= SA_LEAK_NHEUR; h++) {
        size_t first = e;
        for (size_t i = 0; i < k->n; i++) {
            const sa_leak_block *b = &k->b[i];
            if (b->state >> ST_HEUR_SHIFT != h || b->stack == SA_TRACE_OWN)
                continue;
            if (e == first || out->entries[e - 1].stack != b->stack) {
                out->entries[e].cls = SA_LEAK_HEUR_CLASS + h - 1;
                out->entries[e].stack = b->stack;
                e++;
            }
            out->entries[e - 1].size += b->size;
            out->entries[e - 1].count++;
            out->heur_bytes[h - 1] += b->size;
            out->heur_blocks[h - 1]++;
        }
    }
    return e;
}

int sa_leak_aggregate(sa_leak_scanner *k, sa_leak_result *out)
{
    size_t nheur = 0;
    for (size_t i = 0; i < k->n; i++) {
        uint32_t st = k->b[i].state;
        k->b[i].state = (uint32_t)class_of(st & ST_MASK) | (st & ~(uint32_t)ST_MASK);
        nheur += (st >> ST_HEUR_SHIFT) != 0;
    }
    if (sort_blocks(k->b, k->tmp, k->n, key_class) != 0)
        return -ENOMEM;
    size_t runs = 0;
    for (size_t i = 0; i < k->n; i++)
        if (i == 0 || by_class(&k->b[i - 1], &k->b[i]))
            runs++;
    out->mapped = sa_os_page_round((runs + nheur ? runs + nheur : 1) * sizeof(sa_leak_entry));
    out->entries = sa_os_map(out->mapped, SA_OS_PAGE);
    if (!out->entries)
        return -ENOMEM;
    size_t e = 0;
    for (size_t i = 0; i < k->n; i++) {
        const sa_leak_block *b = &k->b[i];
        uint32_t cls = b->state & ST_MASK;
        if (b->stack == SA_TRACE_OWN)
            continue;
        if (e == 0 || by_class(&k->b[i - 1], b)) {
            out->entries[e].cls = cls;
            out->entries[e].stack = b->stack;
            e++;
        }
        out->entries[e - 1].size += b->size;
        out->entries[e - 1].count++;
        out->bytes[cls] += b->size;
        out->blocks[cls]++;
    }
    out->nentries = nheur ? aggregate_heuristics(k, out, e) : e;
    return 0;
}

void sa_leak_result_free(sa_leak_result *r)
{
    if (r->entries)
        sa_os_unmap(r->entries, r->mapped);
    r->entries = NULL;
}
