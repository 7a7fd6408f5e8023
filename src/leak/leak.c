/* leak/leak.c - the leak checker: its configuration, the conservative scan and
 * classification, the check files and the standalone analyzer run (see
 * leak/leak.h for the sequence at exit, leak/world.c for stopping threads,
 * leak/roots.c for the roots).
 *
 * Classification is valgrind memcheck's (mc_leakcheck.c, --leak-check=full,
 * without its interior-pointer heuristics):
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
 *
 * Locks: sa_block_foreach takes the arena and large-block locks, and a
 * stopped thread might hold one.  So the check first takes every lock of
 * the library (the fork prepare handlers'), stops the world, and
 * releases them: no stopped thread is inside a locked section.  A thread
 * stopped inside a lock-free fast path (a pool free list being updated)
 * can make one block read wrongly; LeakSanitizer has the same race.
 *
 * Exit order: the check runs first in libsnapalloc's exit sequence
 * (preload/lifecycle.c), from its destructor, which the
 * loader calls after the program's atexit handlers, its static destructors
 * and those of libraries that depend on nothing of ours; libraries
 * finalised after us (libstdc++, libc) may still hold blocks they free
 * later: those are reachable from their globals, not leaks.  (LeakSanitizer
 * runs from an atexit handler, with the same kind of ordering caveat.)
 */
#include "leak/leak.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fmt.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "common/thread.h"
#include "alloc/pagemap.h"
#include "snapalloc.h"
#include "format/snapshot.h"
#include "trace/stack.h"
#include "trace/trace.h"
#include "alloc/walk.h"

#ifndef SNAPALLOC_BINDIR
#define SNAPALLOC_BINDIR "/usr/local/bin"
#endif

extern char **environ;

sa_leak_config sa_leak_cfg;
sa_exit_state sa_exit_point;

/* ---- Configuration ------------------------------------------------------ */


void sa_leak_config_read(sa_leak_config *c, sa_trace_config *t, int fd)
{
    const char *v;
    /* Field by field: a memset would touch (and make resident) the 8 KiB
     * of string buffers in every process that never checks. */
    c->enabled = 0;
    c->dir_given = 0;
    c->warmup_ns = 0;
    c->dir[0] = '\0';
    c->options[0] = '\0';
    if ((v = secure_getenv("SNAPALLOC_CHECK")) && sa_config_parse_bool(v, &c->enabled) != 0)
        sa_warn_setting(fd, "SNAPALLOC_CHECK", v, "not 0 or 1; the leak check stays off");
    sa_leak_scrub_on = c->enabled;
    c->heuristics = SA_LEAK_HEUR_ALL;
    if ((v = secure_getenv("SNAPALLOC_CHECK_HEURISTICS")) && sa_leak_heur_parse(v, &c->heuristics) != 0) {
        c->heuristics = SA_LEAK_HEUR_ALL;
        sa_warn_setting(fd, "SNAPALLOC_CHECK_HEURISTICS", v,
                        "expected all, none, or a list of stdstring, length64, newarray, "
                        "multipleinheritance; using all");
    }
    if (!c->enabled)
        return;
    sa_os_keep_stderr();   /* the report is printed after atexit handlers */
    if (t->depth == 0) {
        const char *tv = secure_getenv("SNAPALLOC_TRACE");
        if (tv && strcmp(tv, "0") == 0)
            sa_warn_setting(fd, "SNAPALLOC_TRACE", tv,
                     "the leak check needs tracing; tracing with 32 frames");
        t->depth = SA_TRACE_DEFAULT_FRAMES;
    }
    /* The check needs the records, not the counts, while the program runs
     * (trace/trace.c's lazy counting); peak snapshots need the counts. */
    t->lazy_counters = !t->peak_step;
    /* The check writes its own exit snapshot. */
    if (!secure_getenv("SNAPALLOC_SNAPSHOT_AT_EXIT"))
        t->at_exit = 0;
    if ((v = secure_getenv("SNAPALLOC_CHECK_DIR"))) {
        if (*v && strlen(v) < SA_PATH_MAX - 64) {
            strcpy(c->dir, v);
            c->dir_given = 1;
        } else {
            sa_warn_setting(fd, "SNAPALLOC_CHECK_DIR", v,
                     "empty or too long; using a private directory and the analyzer");
        }
    }
    if ((v = secure_getenv("SNAPALLOC_CHECK_WARMUP")) && sa_config_parse_seconds(v, &c->warmup_ns) != 0)
        sa_warn_setting(fd, "SNAPALLOC_CHECK_WARMUP", v,
                 "not a number of seconds from 0.001 to 1000000000; no warmup baseline");
    if ((v = secure_getenv("SNAPALLOC_CHECK_OPTIONS"))) {
        if (strlen(v) < sizeof c->options)
            strcpy(c->options, v);
        else
            sa_warn_setting(fd, "SNAPALLOC_CHECK_OPTIONS", v, "longer than 4095 bytes; ignored");
    }
}

/* ---- Undefined memory --------------------------------------------------- */

int sa_leak_scrub_on;

/* valgrind memcheck never takes a word the program did not write for a
 * pointer.  Ours would: a block handed out still holds the free-list link
 * to its neighbour in its first word, and a reused block its previous
 * life's contents.  Under the check (only: the plain and traced paths are
 * untouched) the entry points clear what the program has not written yet,
 * so the scan reads zeros there.  A large block is skipped when its pages
 * are fresh from the kernel (mapped, or released while cached): they
 * already read as zeros, and clearing them would fault them all in. */
void sa_leak_scrub(void *p, size_t from, size_t to)
{
    if (to <= from)
        return;
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        const sa_large *d = (const sa_large *)(e & ~(uintptr_t)SA_PM_TAG);
        if (!d->resident && from == 0)
            return;
    } else if ((e & SA_PM_TAG) != SA_PM_ARENA) {
        return;   /* not ours */
    }
    memset((char *)p + from, 0, to - from);
}

/* ---- The block index ---------------------------------------------------- */

/* A block's state: ST_* in the low byte; a reachable block that only a
 * heuristic reached has SA_LEAK_HEUR_* + 1 in the next (ST_HEUR_SHIFT). */
enum { ST_UNREACHED = 0, ST_REACHABLE, ST_POSSIBLE, ST_INDIRECT, ST_MASK = 0xff, ST_HEUR_SHIFT = 8 };

typedef struct lk_block {
    uintptr_t start;
    uint64_t size;      /* requested (usable when untraced) */
    uint32_t stack;     /* 0 when untraced */
    uint32_t state;     /* ST_* */
} lk_block;

typedef struct lk_scan {
    lk_block *b, *tmp;         /* tmp: the sort's second buffer */
    size_t n, cap, mapped;
    uintptr_t lo, hi;          /* [lowest start, highest end) */
    uint32_t *mark;            /* the mark stack: at most 2 pushes per block */
    size_t sp, mark_cap, mark_mapped;
    size_t dropped;            /* blocks that appeared after the count */
    unsigned heuristics;       /* SA_LEAK_HEUR_* bits in force */
    const sa_leak_ranges *maps;   /* for the heuristics' vtable test */
} lk_scan;

static void count_cb(const sa_block_info *bi, void *ctx)
{
    (void)bi;
    ((lk_scan *)ctx)->cap++;
}

static void fill_cb(const sa_block_info *bi, void *ctx)
{
    lk_scan *k = ctx;
    if (k->n == k->cap) {
        k->dropped++;   /* a thread that was not stopped allocated */
        return;
    }
    lk_block *b = &k->b[k->n++];
    b->start = (uintptr_t)bi->start;
    b->size = bi->size;
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
static uint64_t key_start(const lk_block *b)
{
    return b->start;
}

static uint64_t key_class(const lk_block *b)
{
    return (uint64_t)(b->state & ST_MASK) << 32 | b->stack;
}

/* LSD radix sort, 16 bits per pass (as many passes as the widest key
 * needs: 3 for user-space addresses), through tmp (n entries): O(n) where
 * a comparison sort of a million blocks would dominate the check.
 * Returns -ENOMEM if its counters cannot be mapped. */
static int sort_blocks(lk_block *v, lk_block *tmp, size_t n, uint64_t (*key)(const lk_block *))
{
    size_t *count = sa_os_map((1u << 16) * sizeof(size_t), SA_OS_PAGE);
    if (!count)
        return -ENOMEM;
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= key(&v[i]);
    lk_block *src = v, *dst = tmp;
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
        lk_block *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    sa_os_unmap(count, (1u << 16) * sizeof(size_t));
    return 0;
}

static int by_class(const lk_block *a, const lk_block *b)
{
    return key_class(a) != key_class(b);
}

static int index_build(lk_scan *k)
{
    k->cap = 0;
    sa_block_foreach(count_cb, k);
    /* Slack for threads that could not be stopped. */
    k->cap += k->cap / 8 + 64;
    k->mapped = sa_os_page_round(k->cap * sizeof(lk_block));
    k->b = sa_os_map(k->mapped, SA_OS_PAGE);
    if (!k->b)
        return -ENOMEM;
    k->cap = k->mapped / sizeof(lk_block);
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

static void scan_free(lk_scan *k)
{
    if (k->b)
        sa_os_unmap(k->b, k->mapped);
    if (k->tmp)
        sa_os_unmap(k->tmp, k->mapped);
    if (k->mark)
        sa_os_unmap(k->mark, k->mark_mapped);
}

/* The block holding p (start or interior, within its requested size), or -1. */
static ptrdiff_t lookup(const lk_scan *k, uintptr_t p)
{
    if (p < k->lo || p >= k->hi || !sa_pagemap_get((const void *)p))
        return -1;
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->b[mid].start <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const lk_block *b = &k->b[lo - 1];
    return p == b->start || p - b->start < b->size ? (ptrdiff_t)(lo - 1) : -1;
}

static void push(lk_scan *k, size_t i)
{
    if (k->sp < k->mark_cap)
        k->mark[k->sp++] = (uint32_t)i;
}

/* Phase 1: a pointer found in a root (definite = 1) or a block, as
 * memcheck's lc_push_if_a_chunk_ptr: a pointer to the start, or one a
 * heuristic accepts, makes the block reachable when what holds it is;
 * any other pointer into it makes an unreached block possibly lost. */
static void visit(lk_scan *k, uintptr_t v, int definite)
{
    ptrdiff_t i = lookup(k, v);
    if (i < 0)
        return;
    lk_block *b = &k->b[i];
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

static void scan_words(lk_scan *k, uintptr_t lo, uintptr_t hi, int definite)
{
    uintptr_t a = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    for (; a + sizeof(uintptr_t) <= hi && a >= lo; a += sizeof(uintptr_t))
        visit(k, *(const uintptr_t *)a, definite);
}

static void drain(lk_scan *k)
{
    while (k->sp) {
        lk_block *b = &k->b[k->mark[--k->sp]];
        scan_words(k, b->start, b->start + b->size, (b->state & ST_MASK) == ST_REACHABLE);
    }
}

/* Phase 2: the clique led by block `leader`. */
static void clique(lk_scan *k, size_t leader)
{
    push(k, leader);
    while (k->sp) {
        const lk_block *b = &k->b[k->mark[--k->sp]];
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

static void scan_range(lk_scan *k, const sa_leak_range *r)
{
    scan_words(k, r->lo, r->hi, 1);
    drain(k);
}

/* ---- The scan ----------------------------------------------------------- */

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
static size_t aggregate_heuristics(const lk_scan *k, sa_leak_result *out, size_t e)
{
    for (uint32_t h = 1; h <= SA_LEAK_NHEUR; h++) {
        size_t first = e;
        for (size_t i = 0; i < k->n; i++) {
            const lk_block *b = &k->b[i];
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

static int aggregate(lk_scan *k, sa_leak_result *out)
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
        const lk_block *b = &k->b[i];
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

static void mark_thread(lk_scan *k, const sa_leak_ranges *maps, const sa_leak_thread *t)
{
    sa_leak_range r;
    for (int i = 0; i < SA_LEAK_NREGS; i++)
        visit(k, t->regs[i], 1);
    drain(k);
    if (sa_leak_stack_range(maps, t->sp, &r))
        scan_range(k, &r);
    if (sa_leak_tls_range(maps, t->tp, &r))
        scan_range(k, &r);
}

/* ---- Mappings of the program's own ---------------------------------------- */

/* The allocator's own memory, which a program's mapping may adjoin (the
 * kernel merges neighbouring anonymous mappings into one entry of
 * /proc/self/maps): metadata chunks and page-map leaves, sorted.  Our
 * arenas and large blocks are known per granule from the page map. */
static int own_collect(sa_leak_ranges *own)
{
    static void *chunks[4096];
    size_t n = sa_meta_chunks(chunks, sizeof chunks / sizeof *chunks);
    if (n > sizeof chunks / sizeof *chunks)
        n = sizeof chunks / sizeof *chunks;
    for (size_t i = 0; i < n; i++)
        if (sa_leak_ranges_add(own, (uintptr_t)chunks[i], (uintptr_t)chunks[i] + SA_META_CHUNK) != 0)
            return -ENOMEM;
    for (size_t i = 0; i < sizeof sa_pm_root / sizeof *sa_pm_root; i++) {
        uintptr_t leaf = (uintptr_t)__atomic_load_n(&sa_pm_root[i], __ATOMIC_ACQUIRE);
        if (leaf && sa_leak_ranges_add(own, leaf, leaf + sizeof(sa_pm_leaf)) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* Scan [lo, hi) but for the parts in own (few: metadata chunks, leaves). */
static void scan_minus_own(lk_scan *k, uintptr_t lo, uintptr_t hi, const sa_leak_ranges *own)
{
    while (lo < hi) {
        uintptr_t end = hi, skip_to = 0;
        for (size_t i = 0; i < own->n; i++) {
            const sa_leak_range *o = &own->r[i];
            if (o->hi <= lo || o->lo >= end)
                continue;
            if (o->lo <= lo) {
                if (o->hi > skip_to)
                    skip_to = o->hi;
            } else {
                end = o->lo;
            }
        }
        if (skip_to) {
            lo = skip_to;
            continue;
        }
        scan_range(k, &(sa_leak_range){ lo, end, 0 });
        lo = end;
    }
}

/* A mapping of a file: read through a buffer, a page that cannot be read
 * (past the end of the file) skipped. */
static void scan_file_mapping(lk_scan *k, const sa_leak_range *m)
{
    enum { CHUNK = 64 * 1024 };
    uintptr_t *buf = sa_os_map(CHUNK, SA_OS_PAGE);
    if (!buf)
        return;
    for (uintptr_t a = m->lo; a < m->hi;) {
        size_t want = m->hi - a < CHUNK ? m->hi - a : CHUNK;
        size_t got = sa_leak_read_safe(buf, a, want);
        scan_words(k, (uintptr_t)buf, (uintptr_t)buf + got, 1);
        drain(k);
        a += got ? got : SA_OS_PAGE;
    }
    sa_os_unmap(buf, CHUNK);
}

/* A mapping of the program's: every granule the page map does not give
 * to the allocator (arenas, large blocks, cached ones included). */
static void scan_mapping(lk_scan *k, const sa_leak_range *m, const sa_leak_ranges *own)
{
    if (m->flags & SA_MAP_FILE) {
        scan_file_mapping(k, m);
        return;
    }
    const uintptr_t granule = (uintptr_t)1 << SA_ARENA_SHIFT;
    uintptr_t lo = m->lo;
    while (lo < m->hi) {
        uintptr_t end = (lo | (granule - 1)) + 1;
        if (end > m->hi || end < lo)
            end = m->hi;
        if (!sa_pagemap_get((const void *)lo)) {
            uintptr_t run = end;   /* extend over granules that are not ours */
            while (run < m->hi && !sa_pagemap_get((const void *)run))
                run = run + granule < m->hi && run + granule > run ? run + granule : m->hi;
            scan_minus_own(k, lo, run, own);
            end = run;
        }
        lo = end;
    }
}

/* The program's own mappings (leak/roots.c) as roots: live threads'
 * stacks are left to mark_thread, found by their stack pointers (self_sp
 * and the stopped threads'). */
static int mark_mappings(lk_scan *k, const sa_leak_ranges *maps, const sa_leak_world *w,
                         uintptr_t self_sp)
{
    size_t n = 0, bytes = sa_os_page_round(2 * ((size_t)w->n + 1) * sizeof(uintptr_t));
    uintptr_t *sp = sa_os_map(bytes, SA_OS_PAGE);
    if (!sp)
        return -ENOMEM;
    uintptr_t *tp = sp + w->n + 1;
    sp[n] = self_sp;
    tp[n++] = sa_os_thread_pointer();
    for (uint32_t i = 0; i < w->n; i++)
        if (w->threads[i].state == SA_LT_STOPPED) {
            sp[n] = w->threads[i].sp;
            tp[n++] = w->threads[i].tp;
        }
    sa_leak_ranges own = {0}, roots = {0};
    int rc = own_collect(&own);
    if (rc == 0)
        rc = sa_leak_roots_mappings(maps, sp, n, tp, n, &roots);
    if (rc == 0)
        for (size_t i = 0; i < roots.n; i++)
            scan_mapping(k, &roots.r[i], &own);
    sa_leak_ranges_free(&own);
    sa_leak_ranges_free(&roots);
    sa_os_unmap(sp, bytes);
    return rc;
}

/* Blocks allocated by the dynamic loader itself are roots (leak/roots.c),
 * and so are the tracer's own (SA_TRACE_OWN: libunwind's loading among
 * them, which the loader's structures point to). */
static void mark_loader_blocks(lk_scan *k, const sa_leak_range *loader)
{
    for (size_t i = 0; i < k->n; i++) {
        sa_stack *s = k->b[i].stack ? sa_stack_get(k->b[i].stack) : NULL;
        int loaders = loader->hi && s && s->nframes && s->frames[0] >= loader->lo
                      && s->frames[0] < loader->hi;
        if ((loaders || k->b[i].stack == SA_TRACE_OWN) && (k->b[i].state & ST_MASK) != ST_REACHABLE) {
            k->b[i].state = ST_REACHABLE;
            push(k, i);
        }
    }
    drain(k);
}


/* The scan proper; self_sp is the lowest address of the caller's part of
 * the stack, self_regs the caller's callee-saved registers. */
static SA_NOINLINE int scan_impl(sa_leak_result *out, uintptr_t self_sp,
                                 const uintptr_t *self_regs, int nregs)
{
    memset(out, 0, sizeof *out);
    sa_leak_ranges mods = {0}, maps = {0};
    sa_leak_world w;
    lk_scan k;
    memset(&k, 0, sizeof k);
    memset(&w, 0, sizeof w);

    sa_leak_range loader;
    int rc = sa_leak_roots_modules(&mods, &loader);   /* the loader lock: before the stop */
    if (rc == 0) {
        /* Every lock of the library, the tracer's first (the fork
         * handlers' order): no thread stops inside a locked section. */
        sa_trace_prefork();
        sa_alloc_prefork();
        rc = sa_leak_world_stop(&w, sa_os_stderr());
        sa_alloc_postfork_parent();
        sa_trace_postfork_parent();
    }
    if (rc == 0)
        rc = sa_leak_maps_read(&maps);
    if (rc == 0)
        rc = index_build(&k);
    k.heuristics = sa_leak_cfg.heuristics;
    k.maps = &maps;
    if (rc == 0) {
        mark_loader_blocks(&k, &loader);
        for (size_t i = 0; i < mods.n; i++)
            scan_range(&k, &mods.r[i]);
        for (int i = 0; i < nregs; i++)
            visit(&k, self_regs[i], 1);
        drain(&k);
        sa_leak_range r;
        if (sa_leak_stack_range(&maps, self_sp, &r)) {
            r.lo = self_sp;
            scan_range(&k, &r);
        }
        if (sa_leak_tls_range(&maps, sa_os_thread_pointer(), &r))
            scan_range(&k, &r);
        for (uint32_t i = 0; i < w.n; i++)
            if (w.threads[i].state == SA_LT_STOPPED)
                mark_thread(&k, &maps, &w.threads[i]);
        rc = mark_mappings(&k, &maps, &w, self_sp);
        for (size_t i = 0; i < k.n; i++)
            if (k.b[i].state == ST_UNREACHED)
                clique(&k, i);
    }
    out->threads_stopped = w.stopped;
    out->threads_skipped = w.skipped;
    sa_leak_world_resume(&w);
    if (rc == 0)
        rc = aggregate(&k, out);
    scan_free(&k);
    sa_leak_ranges_free(&mods);
    sa_leak_ranges_free(&maps);
    return rc;
}

SA_NOINLINE int sa_leak_scan(sa_leak_result *out)
{
    /* The caller's callee-saved registers go to this frame (unwind_init)
     * and into regs; the stack is scanned from here up, so the scanner's
     * own frames below, full of block addresses, are not roots. */
    __builtin_unwind_init();
    uintptr_t regs[8] = {0};
    int nregs = 0;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
                     "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
                     : : "r"(regs) : "memory");
    nregs = 6;
#endif
    /* At exit, the exiting thread's stack as the program left it: from
     * its call of exit, _exit or _Exit (or libc's, after main returned),
     * with the registers of that moment (preload/override_exit.c).  The frames
     * below, of the exit path and of this checker, hold stale copies of
     * the program's pointers from its earlier, deeper calls. */
    uintptr_t from = (uintptr_t)__builtin_dwarf_cfa();   /* our caller's sp: not our frame */
    const uintptr_t *from_regs = regs;
    if (sa_exit_point.sp > from && sa_exit_point.tp == sa_os_thread_pointer()) {
        from = sa_exit_point.sp;
        from_regs = sa_exit_point.regs;
        nregs = SA_EXIT_NREGS;
    }
    int g = sa_trace_guard_enter();
    int saved = errno;
    int rc = scan_impl(out, from, from_regs, nregs);
    errno = saved;
    sa_trace_guard_leave(g);
    return rc;
}

void sa_leak_result_free(sa_leak_result *r)
{
    if (r->entries)
        sa_os_unmap(r->entries, r->mapped);
    r->entries = NULL;
}

/* ---- The files ---------------------------------------------------------- */

static const char *const class_names[SA_LEAK_NCLASSES] = {
    NULL, "definite", "indirect", "possible", "reachable",
};

/* "DIR/PID.SUFFIX" into dst (SA_PATH_MAX); -1 if too long. */
static int make_path(char *dst, const char *dir, const char *prefix, const char *suffix)
{
    char pid[21];
    sa_fmt_u64(pid, (uint64_t)getpid());
    size_t n = 0;
    const char *parts[] = { dir, "/", prefix, pid, ".", suffix };
    for (unsigned i = 0; i < 6; i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= SA_PATH_MAX)
            return -1;
        memcpy(dst + n, parts[i], l);
        n += l;
    }
    dst[n] = '\0';
    return 0;
}

typedef struct class_iter {
    const sa_leak_result *r;
    size_t i;
    uint32_t cls;
} class_iter;

static int class_next(void *ctx, sa_snap_wstack *out)
{
    class_iter *it = ctx;
    while (it->i < it->r->nentries) {
        const sa_leak_entry *e = &it->r->entries[it->i++];
        if (e->cls != it->cls)
            continue;
        sa_stack *s = e->stack ? sa_stack_get(e->stack) : NULL;
        out->nframes = s ? s->nframes : 0;
        out->frames = s ? s->frames : NULL;
        out->size = e->size;
        out->count = e->count;
        return 1;
    }
    return 0;
}

static void report_write(const char *path, int err)
{
    sa_trigger_report(path, err);
}

/* An existing PID.done that is an empty regular file of ours. */
static int done_is_ours(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
           st.st_size == 0;
}

int sa_leak_write(const char *dir, const sa_leak_result *r)
{
    char path[SA_PATH_MAX];
    size_t cur = 0, peak = 0;
    snapalloc_get_traced_memory(&cur, &peak);
    int rc = 0;
    /* The four classes, then "heuristic-NAME.snap" for each heuristic
     * that reached a block (the analyzer's "reachable via heuristic"). */
    for (uint32_t c = SA_LEAK_DEFINITE; c < SA_LEAK_HEUR_CLASS + SA_LEAK_NHEUR; c++) {
        char suffix[64];
        if (c >= SA_LEAK_HEUR_CLASS && !r->heur_blocks[c - SA_LEAK_HEUR_CLASS])
            continue;
        const char *name = c < SA_LEAK_HEUR_CLASS ? class_names[c]
                                                  : sa_leak_heur_names[c - SA_LEAK_HEUR_CLASS];
        size_t l = 0;
        if (c >= SA_LEAK_HEUR_CLASS) {
            memcpy(suffix, "heuristic-", 10);
            l = 10;
        }
        memcpy(suffix + l, name, strlen(name));
        l += strlen(name);
        memcpy(suffix + l, ".snap", 6);
        if (make_path(path, dir, "", suffix) != 0)
            return -ENAMETOOLONG;
        sa_snap_winfo info = {
            .frame_limit = (uint32_t)snapalloc_get_traceback_limit(),
            .traced_current = cur,
            .traced_peak = peak,
            .trigger = SA_SNAP_TRIGGER_LEAK,
            .sequence = c,
        };
        class_iter it = { r, 0, c };
        int w = sa_snapshot_write(path, &info, class_next, &it);
        if (w < 0) {
            report_write(path, w);
            rc = w;
        }
    }
    if (rc)
        return rc;   /* no .done: the set is incomplete */
    /* The marker is empty: created new (O_EXCL), it appears whole.  A
     * FIFO or anything else planted at its path is never opened. */
    if (make_path(path, dir, "", "done") != 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    int err = fd < 0 ? errno : close(fd) != 0 ? errno : 0;
    if (err == EEXIST && done_is_ours(path))
        return 0;   /* a stale marker of an earlier process with our pid */
    if (err) {
        rc = -err;
        report_write(path, rc);
    }
    return rc;
}

/* ---- The directory ------------------------------------------------------ */

static char private_dir[SA_PATH_MAX];
static pid_t private_pid;

/* Why the leak check of this process cannot run; printed once. */
static void dir_failed(const char *where, int err)
{
    static int said;
    if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        return;
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: leak check: cannot create a directory in ");
    sa_buf_str(&b, where);
    sa_buf_str(&b, ": ");
    const char *why = sa_config_errno_text(err);
    sa_buf_str(&b, why ? why : "error");
    sa_buf_str(&b, "; the program is not checked\n");
    sa_buf_flush(&b);
}

/* A directory "snapalloc-check.PID.XXXXXX" of ours in base that an earlier
 * image of this process (before an exec) made: its path into out, 1; else
 * 0.  Read with getdents64: opendir would allocate. */
static int find_own_dir(const char *base, const char *prefix, char *out)
{
    int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    char buf[4096] __attribute__((aligned(8)));
    long n;
    int found = 0;
    size_t plen = strlen(prefix), blen = strlen(base);
    while (!found && (n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n && !found;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            off += reclen;
            struct stat st;
            if (strncmp(name, prefix, plen) != 0 || strlen(name) != plen + 6 ||
                blen + 1 + plen + 7 > SA_PATH_MAX ||
                fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
                st.st_uid != geteuid())
                continue;
            memcpy(out, base, blen);
            out[blen] = '/';
            memcpy(out + blen + 1, name, plen + 7);
            found = 1;
        }
    }
    close(dfd);
    return found;
}

/* The directory of this process's files, created on first use in
 * standalone mode (again in a fork child: it gets its own) in $TMPDIR,
 * else /tmp.  Its name carries the pid, so that after an exec the new
 * image takes over the directory the old one made (for a baseline) rather
 * than leaving it behind; the old image's baseline is not the new one's
 * and is removed. */
static const char *check_dir(void)
{
    if (sa_leak_cfg.dir_given)
        return sa_leak_cfg.dir;
    pid_t me = getpid();
    if (private_pid == me)
        return private_dir;
    const char *base = secure_getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char prefix[48] = "snapalloc-check.";
    size_t p = strlen(prefix);
    p += sa_fmt_u64(prefix + p, (uint64_t)me);
    prefix[p++] = '.';
    prefix[p] = '\0';
    size_t l = strlen(base);
    if (l + 1 + p + 7 > sizeof private_dir) {
        dir_failed(base, ENAMETOOLONG);
        return NULL;
    }
    if (find_own_dir(base, prefix, private_dir)) {
        char stale[SA_PATH_MAX];
        if (make_path(stale, private_dir, "", "baseline.snap") == 0)
            unlink(stale);
        private_pid = me;
        return private_dir;
    }
    memcpy(private_dir, base, l);
    private_dir[l] = '/';
    memcpy(private_dir + l + 1, prefix, p);
    memcpy(private_dir + l + 1 + p, "XXXXXX", 7);
    if (!mkdtemp(private_dir)) {
        dir_failed(base, errno);
        return NULL;
    }
    private_pid = me;
    return private_dir;
}

static void remove_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        char buf[4096] __attribute__((aligned(8)));
        long n;
        while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                unsigned short reclen;
                memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char *name = buf + off + 19;
                off += reclen;
                if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
                    unlinkat(dfd, name, 0);
            }
        }
        close(dfd);
    }
    rmdir(dir);
}

void sa_leak_baseline(void)
{
    if (!sa_leak_cfg.enabled)
        return;
    int g = sa_trace_guard_enter();
    int saved = errno;
    const char *dir = check_dir();
    char path[SA_PATH_MAX];
    if (dir && make_path(path, dir, "", "baseline.snap") == 0) {
        int rc = sa_trace_dump(path, SA_SNAP_TRIGGER_BASELINE, 1, NULL);
        if (rc < 0 && rc != -EINVAL)
            report_write(path, rc);
    }
    errno = saved;
    sa_trace_guard_leave(g);
}

/* ---- The standalone analyzer -------------------------------------------- */

static void summary_line(sa_buf *b, const char *what, uint64_t bytes, uint64_t blocks)
{
    sa_buf_str(b, "snapalloc: ");
    sa_buf_str(b, what);
    sa_buf_str(b, ": ");
    sa_buf_u64(b, bytes);
    sa_buf_str(b, " bytes in ");
    sa_buf_u64(b, blocks);
    sa_buf_str(b, " blocks\n");
}

/* The analyzer could not run: a summary of our own; 23 if it found
 * definite or indirect leaks, else SA_LEAK_NOT_CHECKED (without the
 * analyzer, the options and suppressions were not applied: fail closed). */
static int builtin_summary(const sa_leak_result *r)
{
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    summary_line(&b, "definitely lost", r->bytes[SA_LEAK_DEFINITE], r->blocks[SA_LEAK_DEFINITE]);
    summary_line(&b, "indirectly lost", r->bytes[SA_LEAK_INDIRECT], r->blocks[SA_LEAK_INDIRECT]);
    summary_line(&b, "possibly lost", r->bytes[SA_LEAK_POSSIBLE], r->blocks[SA_LEAK_POSSIBLE]);
    summary_line(&b, "still reachable", r->bytes[SA_LEAK_REACHABLE], r->blocks[SA_LEAK_REACHABLE]);
    if (r->blocks[SA_LEAK_DEFINITE] + r->blocks[SA_LEAK_INDIRECT]) {
        sa_buf_flush(&b);
        return 23;
    }
    sa_buf_str(&b, "snapalloc: leak check: not checked without the analyzer (exit status 24)\n");
    sa_buf_flush(&b);
    return SA_LEAK_NOT_CHECKED;
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Run `CMD check --analyze DIR OPTIONS...`; its exit status, or -errno if
 * it could not be started. */
static int run_analyzer(const char *dir)
{
    char cmd[SA_PATH_MAX];
    const char *env_cmd = secure_getenv("SNAPALLOC_CMD");
    if (env_cmd && *env_cmd && strlen(env_cmd) < sizeof cmd) {
        strcpy(cmd, env_cmd);
    } else {
        const char *bin = SNAPALLOC_BINDIR "/snapalloc";
        if (strlen(bin) >= sizeof cmd)
            return -ENAMETOOLONG;
        strcpy(cmd, bin);
    }
    size_t nenv = 0;
    for (char **e = environ; e && *e; e++)
        nenv++;
    size_t optlen = strlen(sa_leak_cfg.options);
    size_t nargs = 4 + optlen / 2 + 2;
    size_t bytes = sa_os_page_round((nenv + 1 + nargs) * sizeof(char *) + optlen + 1);
    char **mem = sa_os_map(bytes, SA_OS_PAGE);
    if (!mem)
        return -ENOMEM;
    char **envp = mem, **argv = mem + nenv + 1;
    char *opts = (char *)(argv + nargs);
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!has_prefix(*e, "LD_PRELOAD=") && !has_prefix(*e, "SNAPALLOC_"))
            envp[k++] = *e;
    envp[k] = NULL;
    size_t a = 0;
    argv[a++] = "snapalloc";
    argv[a++] = "check";
    argv[a++] = "--analyze";
    argv[a++] = (char *)dir;
    memcpy(opts, sa_leak_cfg.options, optlen + 1);
    for (char *p = opts; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        argv[a++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv[a] = NULL;
    pid_t pid;
    /* The analyzer reports on the program's stderr, even if the program
     * closed fd 2 at exit (coreutils do). */
    posix_spawn_file_actions_t fa;
    int have_fa = sa_os_stderr() != 2 && posix_spawn_file_actions_init(&fa) == 0;
    if (have_fa)
        posix_spawn_file_actions_adddup2(&fa, sa_os_stderr(), 2);
    int rc = posix_spawn(&pid, cmd, have_fa ? &fa : NULL, NULL, argv, envp);
    if (have_fa)
        posix_spawn_file_actions_destroy(&fa);
    sa_os_unmap(mem, bytes);
    if (rc != 0)
        return -rc;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
}

static void analyzer_failed(int err)
{
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: cannot run the leak analyzer: ");
    const char *why = sa_config_errno_text(-err);
    if (why) {
        sa_buf_str(&b, why);
    } else {
        sa_buf_str(&b, "errno ");
        sa_buf_u64(&b, (uint64_t)-err);
    }
    sa_buf_str(&b, "; built-in summary follows\n");
    sa_buf_flush(&b);
}

/* ---- At exit ------------------------------------------------------------ */

int sa_leak_exit_check(void)
{
    return sa_leak_cfg.enabled ? sa_leak_at_exit() : 0;
}

int sa_leak_at_exit(void)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
        return 0;
    int g = sa_trace_guard_enter();
    int saved = errno;
    int status = 0;
    const char *dir = check_dir();
    char path[SA_PATH_MAX];
    if (!dir) {
        fflush(NULL);   /* the gate fails closed: the program was not checked */
        _exit(SA_LEAK_NOT_CHECKED);
    }
    if (make_path(path, dir, "", "exit.snap") == 0) {
        int rc = sa_trace_dump(path, SA_SNAP_TRIGGER_EXIT, 1, NULL);
        if (rc < 0 && rc != -EINVAL)
            report_write(path, rc);
    }
    sa_leak_result res;
    if (sa_leak_scan(&res) != 0) {
        static const char msg[] = "snapalloc: leak check: out of memory; no check\n";
        sa_os_write_all(sa_os_stderr(), msg, sizeof msg - 1);
        goto out;
    }
    int wrc = sa_leak_write(dir, &res);
    if (!sa_leak_cfg.dir_given) {
        status = wrc == 0 ? run_analyzer(dir) : -EIO;
        if (status < 0) {
            if (wrc == 0)
                analyzer_failed(status);
            status = builtin_summary(&res);
        }
        remove_dir(dir);
    }
    sa_leak_result_free(&res);
out:
    errno = saved;
    sa_trace_guard_leave(g);
    return status;
}

/* ---- Warmup and start-up ------------------------------------------------ */

static void *warmup_main(void *arg)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t ns = sa_leak_cfg.warmup_ns;
    uint64_t sum = (uint64_t)t.tv_nsec + ns % 1000000000ull;
    t.tv_sec += (time_t)(ns / 1000000000ull + sum / 1000000000ull);
    t.tv_nsec = (long)(sum % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
    sa_leak_baseline();
    return arg;
}

/* The warmup baseline is written by a thread of its own, started here: a
 * detached sleeper that takes no signal but the stop signal of the check
 * (which can stop it like any other thread). */
static void warmup_start(void)
{
    int g = sa_trace_guard_enter();
    int ok = sa_thread_start_detached(warmup_main, 64 * 1024) == 0;
    sa_trace_guard_leave(g);
    if (!ok) {
        static const char msg[] = "snapalloc: cannot start the warmup thread; "
                                  "SNAPALLOC_CHECK_WARMUP is ignored\n";
        sa_os_write_all(sa_os_stderr(), msg, sizeof msg - 1);
    }
}

void sa_leak_start(void)
{
    if (!sa_leak_cfg.enabled)
        return;
    sa_trace_baseline_hook = sa_leak_baseline;   /* PID.baseline.snap */
    if (sa_leak_cfg.warmup_ns)
        warmup_start();
}
