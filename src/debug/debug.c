/* debug/debug.c - debug mode's block layer (debug/debug_mode.h has the block's
 * picture): making a debug block around the allocator's, checking it when
 * it is released, in the quarantine and at exit, and telling a pointer the
 * program may release (a live debug block, or a block allocated before
 * debug mode started) from one it may not.  The reports are
 * debug/report.c's; the stacks the tracer's (the block's tag holds its
 * allocation stack, interned as for a snapshot).
 */
#include "debug/debug_mode.h"

#include <errno.h>
#include <string.h>
#include <sys/single_threaded.h>

#include "alloc/alloc.h"
#include "alloc/alloc_inline.h"
#include "alloc/arena.h"
#include "alloc/large.h"
#include "alloc/sizeclass.h"
#include "alloc/walk.h"
#include "common/config.h"
#include "common/os.h"
#include "debug/debug_int.h"
#include "debug/guard.h"
#include "snapalloc.h"
#include "trace/config.h"
#include "trace/stack.h"
#include "trace/trace.h"
#include "trace/tracer.h"
#include "trace/unwind.h"

sa_debug_config sa_debug_cfg;
int sa_debug_on;

/* ---- Blocks ------------------------------------------------------------- */

/* The usable bytes of b if it is a live allocator block start, else 0;
 * *tag: the tracer's tag of b, if the same page-map lookup found it
 * (a small block whose pool has tags), else sa_tag_slot's answer is
 * still to be asked (tag_found 0).  Never reports, never allocates. */
SA_INLINE size_t live_block(const void *b, sa_tag **tag, int *tag_found)
{
    *tag_found = 0;
    sa_pm_leaf *leaf = sa_pagemap_leaf(b);
    if (!leaf)
        return 0;
    unsigned pe = sa_pagemap_page_get(leaf, b);
    if (pe) {
        unsigned plain = sa_pagemap_page_plain(pe);
        if (!sa_page_block_ok(plain, b))
            return 0;
        *tag = sa_tag_page_slot(leaf, plain, b);
        *tag_found = *tag != NULL;
        return sa_classes[sa_pagemap_page_class(pe)].size;
    }
    uintptr_t e = sa_pagemap_leaf_get(leaf, b);
    if ((e & SA_PM_TAG) == SA_PM_ARENA) {
        uintptr_t pb;
        sa_pool *pool = sa_block_pool((sa_arena *)(e - SA_PM_ARENA), b, &pb);
        if (!pool)
            return 0;
        uint32_t off = (uint32_t)((uintptr_t)b - pb);
        uint64_t prod = (uint64_t)off * pool->recip;
        if (off >= pool->carve || (uint32_t)prod >= pool->recip)
            return 0;
        if (((const sa_block *)b)->key == ((uintptr_t)b ^ sa_secret))
            return 0;
        return sa_classes[pool->cls].size;
    }
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        const sa_large *d = (const sa_large *)(e - SA_PM_LARGE);
        return d->base == b && d->live ? d->size : 0;
    }
    return 0;
}

/* The usable bytes of b if it is a live allocator block start, else 0. */
static size_t live_block_bytes(const void *b)
{
    sa_tag *tag;
    int found;
    return live_block(b, &tag, &found);
}

typedef struct dblock {
    unsigned char *user, *base;
    size_t size, hdr, bytes;   /* requested; header; the allocator block's */
    int api, freed;
    sa_tag *tag;               /* dblock_get: the tracer's tag of base, if tag_found */
    int tag_found;
} dblock;

/* Whether u is a debug block's user pointer (live or quarantined): fills
 * *d.  Reads nothing outside our own memory. */
SA_INLINE int dblock_get(void *u, dblock *d)
{
    unsigned char *p = u;
    if (((uintptr_t)p & 15) || !sa_pagemap_leaf(p - 8))
        return 0;
    unsigned l = p[-7];
    if (l < 4 || l > SA_DEBUG_MAX_LOG2)
        return 0;
    d->user = p;
    d->hdr = (size_t)1 << l;
    d->base = p - d->hdr;
    d->bytes = live_block(d->base, &d->tag, &d->tag_found);
    if (!d->bytes)
        return 0;
    memcpy(&d->size, p - 16, sizeof d->size);
    d->api = p[-8] & ~SA_DEBUG_FREED;
    d->freed = (p[-8] & SA_DEBUG_FREED) != 0;
    return d->api >= SA_API_MALLOC && d->api <= SA_API_NEW_ARRAY_ALIGNED &&
           d->size <= d->bytes - d->hdr - SA_DEBUG_TAIL;
}

/* The first byte of [p, p + n) that is not c, or NULL (short runs: the
 * guards, and where a fill check found damage). */
static const unsigned char *first_not(const unsigned char *p, size_t n, unsigned char c)
{
    uint64_t pattern = 0x0101010101010101ull * c, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        if (w != pattern)
            break;
    }
    for (; i < n; i++)
        if (p[i] != c)
            return p + i;
    return NULL;
}

/* Runs of the fill and guard bytes, to compare with: libc's memcmp reads
 * 32 or 64 bytes a step, several times faster than a loop of words (the
 * fill check of every block leaving the quarantine was a quarter of
 * debug mode's time on churn, byte by byte). */
#define RUN 1024
static const unsigned char dead_run[RUN] = {[0 ... RUN - 1] = SA_DEBUG_DEAD};
static const unsigned char forbidden_run[RUN] = {[0 ... RUN - 1] = SA_DEBUG_FORBIDDEN};

/* The first byte of [p, p + n) that is not run's byte c, or NULL. */
static const unsigned char *run_damage(const unsigned char *p, size_t n,
                                       const unsigned char *run, unsigned char c)
{
    for (size_t i = 0; i < n; i += RUN) {
        size_t len = n - i < RUN ? n - i : RUN;
        if (memcmp(p + i, run, len) != 0)
            return first_not(p + i, len, c);
    }
    return NULL;
}

/* Freed blocks up to this size have their whole fill checked; larger ones
 * (doc/debug.md) the first and last FILL_ENDS bytes and the first line of
 * every page between: reading megabytes back at every large free cost
 * more than the program's own work on the realloc workload. */
#define FILL_WHOLE 4096
#define FILL_ENDS 1024
#define FILL_STRIDE 4096
#define FILL_LINE 64

/* The first byte of a freed block's fill (n bytes at p) found changed, or
 * NULL: fill_damage, below, for blocks over RUN bytes. */
static SA_NOINLINE const unsigned char *fill_damage_large(const unsigned char *p, size_t n)
{
    if (n <= FILL_WHOLE)
        return run_damage(p, n, dead_run, SA_DEBUG_DEAD);
    const unsigned char *bad = run_damage(p, FILL_ENDS, dead_run, SA_DEBUG_DEAD);
    for (size_t i = FILL_STRIDE; !bad && i < n - FILL_ENDS; i += FILL_STRIDE) {
        size_t len = n - FILL_ENDS - i < FILL_LINE ? n - FILL_ENDS - i : FILL_LINE;
        bad = run_damage(p + i, len, dead_run, SA_DEBUG_DEAD);
    }
    return bad ? bad : run_damage(p + n - FILL_ENDS, FILL_ENDS, dead_run, SA_DEBUG_DEAD);
}

SA_INLINE const unsigned char *fill_damage(const unsigned char *p, size_t n)
{
    /* Most freed blocks: one memcmp, no loop or call around it (they cost
     * as much as the compare on churn's 16..512-byte blocks). */
    if (SA_LIKELY(n <= RUN))
        return SA_LIKELY(memcmp(p, dead_run, n) == 0) ? NULL : first_not(p, n, SA_DEBUG_DEAD);
    return fill_damage_large(p, n);
}

/* The first damaged byte of the 16 guard bytes after the block, or NULL. */
static const unsigned char *tail_damage(const dblock *d)
{
    const unsigned char *t = d->user + d->size;
    uint64_t w0, w1, pattern = 0x0101010101010101ull * SA_DEBUG_FORBIDDEN;
    memcpy(&w0, t, 8);
    memcpy(&w1, t + 8, 8);
    if (SA_LIKELY(w0 == pattern && w1 == pattern))
        return NULL;
    return first_not(t, SA_DEBUG_TAIL, SA_DEBUG_FORBIDDEN);
}

/* The guard byte nearest the block that is not 0xFD before it, or NULL. */
static const unsigned char *head_damage(const dblock *d)
{
    /* The six bytes u-6..u-1 as two loads (u-8, u-7: the api and the
     * header's log2). */
    uint32_t w4;
    uint16_t w2;
    memcpy(&w4, d->user - 6, 4);
    memcpy(&w2, d->user - 2, 2);
    if (SA_LIKELY(w4 == 0x01010101u * SA_DEBUG_FORBIDDEN && w2 == 0x0101u * SA_DEBUG_FORBIDDEN) &&
        (d->hdr == SA_DEBUG_HEAD || !run_damage(d->base, d->hdr - 16, forbidden_run,
                                                SA_DEBUG_FORBIDDEN)))
        return NULL;
    for (const unsigned char *q = d->user - 1; q >= d->user - 6; q--)
        if (*q != SA_DEBUG_FORBIDDEN)
            return q;
    for (const unsigned char *q = d->user - 17; q >= d->base; q--)
        if (*q != SA_DEBUG_FORBIDDEN)
            return q;
    return NULL;
}

/* After a report (SNAPALLOC_DEBUG=report): the guards and fill as they
 * should be, so that the damage is reported once, not again at exit. */
static void dblock_repair(const dblock *d)
{
    memset(d->base, SA_DEBUG_FORBIDDEN, d->hdr - 16);
    memset(d->user - 6, SA_DEBUG_FORBIDDEN, 6);
    memset(d->user + d->size, SA_DEBUG_FORBIDDEN, SA_DEBUG_TAIL);
    if (d->freed)
        memset(d->user, SA_DEBUG_DEAD, d->size);
}

static void finding_init(sa_debug_finding *f, const dblock *d, const char *what)
{
    memset(f, 0, sizeof *f);
    f->what = what;
    f->user = d->user;
    f->size = d->size;
    f->api = d->api;
    sa_tag *tag = sa_tag_slot(d->base, 0);
    f->alloc_id = tag ? tag->id : 0;
}

/* Whether d's guards are intact, in a few compares: the six bytes
 * before the block (u-6..u-1 as two loads), the 16 after as two words,
 * the run before the header of an aligned block.  Every release and
 * every block leaving the quarantine asks; only a damaged block goes on
 * to head_damage and tail_damage, which find the byte. */
SA_INLINE int guards_intact(const dblock *d)
{
    uint64_t w0, w1, pattern = 0x0101010101010101ull * SA_DEBUG_FORBIDDEN;
    uint32_t w4;
    uint16_t w2;
    memcpy(&w4, d->user - 6, 4);
    memcpy(&w2, d->user - 2, 2);
    memcpy(&w0, d->user + d->size, 8);
    memcpy(&w1, d->user + d->size + 8, 8);
    return ((w4 ^ (uint32_t)pattern) | (uint16_t)(w2 ^ (uint16_t)pattern) | (w0 ^ pattern) |
            (w1 ^ pattern)) == 0 &&
           (d->hdr == SA_DEBUG_HEAD ||
            !run_damage(d->base, d->hdr - 16, forbidden_run, SA_DEBUG_FORBIDDEN));
}

static int dblock_report(const dblock *d, const sa_debug_qentry *q, int at_exit);

/* Check d's guards (and, if freed, its fill); 1 if intact, else one
 * report.  q: its quarantine entry, for the stacks, or NULL. */
SA_INLINE int dblock_check(const dblock *d, const sa_debug_qentry *q, int at_exit)
{
    if (SA_LIKELY(guards_intact(d) && (!d->freed || !fill_damage(d->user, d->size))))
        return 1;
    return dblock_report(d, q, at_exit);
}

/* dblock_check's finding: which byte, and the report. */
static SA_NOINLINE int dblock_report(const dblock *d, const sa_debug_qentry *q, int at_exit)
{
    const unsigned char *bad = NULL;
    const char *what = NULL;
    if ((bad = head_damage(d)))
        what = "buffer underflow (the guard bytes before the block were overwritten)";
    else if ((bad = tail_damage(d)))
        what = "buffer overflow (the guard bytes after the block were overwritten)";
    else if (d->freed && (bad = fill_damage(d->user, d->size)))
        what = "write after free (the freed block's 0xDD fill was overwritten)";
    if (!bad)
        return 1;
    sa_debug_finding f;
    finding_init(&f, d, what);
    if (q) {
        f.alloc_id = q->alloc_id;
        f.free_id = q->free_id;
    }
    f.has_offset = 1;
    f.offset = (long)(bad - d->user);
    f.at_exit = at_exit;
    sa_debug_report(&f);
    dblock_repair(d);
    return 0;
}

/* ---- Allocation ----------------------------------------------------------- */

/* A new debug block of n bytes: its bytes from fill_from on are 0xCD, or
 * zeros; the ones before are the caller's to write (realloc's copy: the
 * 0xCD under it was a second pass over every byte moved). */
SA_INLINE void *dblock_new(size_t n, size_t align, sa_debug_api api, int zero, size_t fill_from)
{
    size_t hdr = align > SA_DEBUG_HEAD ? align : SA_DEBUG_HEAD, total;
    if (hdr > ((size_t)1 << SA_DEBUG_MAX_LOG2) ||
        __builtin_add_overflow(n, hdr + SA_DEBUG_TAIL, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    unsigned char *base;
    int zeroed = 0;
    if (SA_LIKELY(hdr == SA_DEBUG_HEAD && !zero))
        base = sa_heap_malloc(total);
    else if (align > SA_DEBUG_HEAD)
        base = sa_aligned(align, total);
    else if (total > SA_MEDIUM_MAX)
        base = sa_large_alloc(total, 0, 1), zeroed = 1;   /* as calloc: fresh pages are zero */
    else
        base = sa_heap_malloc(total);
    if (!base)
        return NULL;
    unsigned char *u = base + hdr;
    if (hdr > SA_DEBUG_HEAD)
        memset(base, SA_DEBUG_FORBIDDEN, hdr - 16);
    memcpy(u - 16, &n, sizeof n);
    u[-8] = (unsigned char)api;
    u[-7] = (unsigned char)__builtin_ctzl(hdr);
    memset(u - 6, SA_DEBUG_FORBIDDEN, 6);
    if (!zeroed && fill_from < n)
        memset(u + fill_from, zero ? 0 : SA_DEBUG_CLEAN, n - fill_from);
    memset(u + n, SA_DEBUG_FORBIDDEN, SA_DEBUG_TAIL);
    return u;
}

void *sa_debug_alloc(size_t n, size_t align, sa_debug_api api, int zero)
{
    return dblock_new(n, align, api, zero, 0);
}

size_t sa_debug_usable_size(void *u)
{
    dblock d;
    if (!u)
        return 0;
    if (dblock_get(u, &d) && !d.freed)
        return d.size;
    return live_block_bytes(u);   /* a block from before debug mode, or 0 */
}

/* ---- Release ------------------------------------------------------------ */

/* Whether a block of api may be released by releaser rel. */
static int api_matches(int api, int rel)
{
    return api == rel || (rel == SA_REL_REALLOC && api == SA_API_MALLOC);
}

/* The stack of the program's call to the entry point (entry_frame, or
 * NULL: unwind from here), interned; 0 inside the tracer itself. */
static uint32_t stack_here(const void *entry_frame)
{
    int limit = __atomic_load_n(&sa_trace_limit, __ATOMIC_ACQUIRE);
    int prev = sa_trace_guard_enter();
    uint32_t id = 0;
    if (!prev && limit > 0) {
        if (entry_frame) {
            id = sa_trace_entry_stack(entry_frame, limit);
        } else {
            uintptr_t frames[SNAPALLOC_MAX_FRAMES];
            int n = sa_unwind_capture(frames, limit);
            if (n > 0)
                id = sa_stack_intern(frames, (uint32_t)n);
        }
    }
    sa_trace_guard_leave(prev);
    return id;
}

/* The debug block of a quarantine entry, from its header: the allocator
 * block is ours until it leaves (no need to ask the page map, as
 * dblock_get does for a pointer from the program).  0 if the header
 * was overwritten (as dblock_get would say). */
static int dblock_of_entry(const sa_debug_qentry *e, dblock *d)
{
    unsigned char *p = e->user;
    unsigned l = p[-7];
    if (l < 4 || l > SA_DEBUG_MAX_LOG2 || p - ((size_t)1 << l) != (unsigned char *)e->base)
        return 0;
    d->user = p;
    d->hdr = (size_t)1 << l;
    d->base = e->base;
    d->bytes = e->bytes;
    memcpy(&d->size, p - 16, sizeof d->size);
    d->api = p[-8] & ~SA_DEBUG_FREED;
    d->freed = (p[-8] & SA_DEBUG_FREED) != 0;
    return d->api >= SA_API_MALLOC && d->api <= SA_API_NEW_ARRAY_ALIGNED &&
           d->size <= d->bytes - d->hdr - SA_DEBUG_TAIL;
}

/* A block leaving the quarantine: check its fill, give it back. */
static void evict(const sa_debug_qentry *e)
{
    dblock d;
    if (dblock_of_entry(e, &d) && d.freed)
        dblock_check(&d, e, 0);
    sa_free_inline(e->base);
}

static void report_bad_pointer(void *u, int rel)
{
    sa_debug_finding f;
    memset(&f, 0, sizeof f);
    f.what = "invalid free (a pointer snapalloc never returned, or a block freed long ago)";
    f.releaser = sa_debug_api_name(rel + 8);
    f.user = u;
    f.size = SIZE_MAX;
    sa_debug_report(&f);
}

static void report_double_free(const dblock *d, int rel)
{
    sa_debug_finding f;
    finding_init(&f, d, "double free (the block is already free, in the quarantine)");
    f.releaser = sa_debug_api_name(rel + 8);
    sa_debug_qentry q;
    if (sa_debug_quarantine_find(d->user, &q)) {
        f.alloc_id = q.alloc_id;
        f.free_id = q.free_id;
    }
    sa_debug_report(&f);
}

static void release(void *u, int rel, const void *entry_frame)
{
    dblock d;
    if (!dblock_get(u, &d)) {
        if (live_block_bytes(u))
            sa_trace_free_block(u);   /* allocated before debug mode started */
        else
            report_bad_pointer(u, rel);
        return;
    }
    if (d.freed) {
        report_double_free(&d, rel);
        return;
    }
    if (!api_matches(d.api, rel)) {
        sa_debug_finding f;
        finding_init(&f, &d, "mismatched release");
        f.releaser = sa_debug_api_name(rel + 8);
        sa_debug_report(&f);
    }
    dblock_check(&d, NULL, 0);
    sa_tag rec = d.tag_found ? sa_trace_detach_slot(d.tag, d.base) : sa_trace_detach(d.base);
    sa_debug_qentry e = {d.user, d.base, d.bytes, rec.id, stack_here(entry_frame)};
    d.user[-8] |= SA_DEBUG_FREED;
    memset(d.user, SA_DEBUG_DEAD, d.size);
    sa_debug_qentry out[SA_DEBUG_EVICT_MAX];
    for (const sa_debug_qentry *in = &e;; in = NULL) {
        unsigned n = sa_debug_quarantine_push(in, out);
        for (unsigned i = 0; i < n; i++)
            evict(&out[i]);
        if (n < SA_DEBUG_EVICT_MAX)
            break;
    }
}

void sa_debug_free(void *u, sa_debug_api api, const void *entry_frame)
{
    if (!u)
        return;
    int saved = errno;
    release(u, (int)api, entry_frame);
    errno = saved;
}

void *sa_debug_realloc(void *u, size_t n, const void *entry_frame)
{
    if (!u)
        return sa_debug_alloc(n, 0, SA_API_MALLOC, 0);
    int saved = errno;
    dblock d;
    size_t old;
    int ours = dblock_get(u, &d);
    if (ours && !d.freed)
        old = d.size;
    else if (!ours && (old = live_block_bytes(u)) != 0)
        ;   /* a block from before debug mode */
    else {
        release(u, SA_REL_REALLOC, entry_frame);   /* reports it */
        errno = saved;
        return NULL;
    }
    if (n == 0) {
        release(u, SA_REL_REALLOC, entry_frame);
        errno = saved;
        return NULL;
    }
    size_t kept = old < n ? old : n;
    void *q = dblock_new(n, 0, SA_API_MALLOC, 0, kept);
    if (!q)
        return NULL;
    memcpy(q, u, kept);
    release(u, SA_REL_REALLOC, entry_frame);
    errno = saved;
    return q;
}

/* ---- Whole-heap checks (at exit, snapalloc_debug_check) ----------------- */

#define MAX_DAMAGED 64

typedef struct damaged {
    void *user[MAX_DAMAGED];
    unsigned n;
} damaged;

/* The user pointer of allocator block b if it holds a debug block. */
static unsigned char *user_of(unsigned char *b, size_t bytes)
{
    if (bytes >= 32 && b[9] == 4)
        return b + 16;
    for (unsigned l = 5; l <= SA_DEBUG_MAX_LOG2 && ((size_t)1 << l) + 16 <= bytes; l++)
        if (b[((size_t)1 << l) - 7] == l)
            return b + ((size_t)1 << l);
    return NULL;
}

void *sa_debug_user_of(void *start, size_t bytes)
{
    unsigned char *u = user_of(start, bytes);
    dblock d;
    return u && dblock_get(u, &d) && !d.freed ? u : NULL;
}

/* Under the allocator's locks: collect, never report. */
static void collect_damaged(const sa_block_info *bi, void *ctx)
{
    damaged *dm = ctx;
    unsigned char *u = user_of(bi->start, bi->size);
    dblock d;
    if (!u || !dblock_get(u, &d) || dm->n >= MAX_DAMAGED)
        return;
    if (head_damage(&d) || tail_damage(&d) || (d.freed && fill_damage(d.user, d.size)))
        dm->user[dm->n++] = u;
}

static unsigned check_heap(int at_exit)
{
    damaged dm;
    dm.n = 0;
    sa_block_foreach(collect_damaged, &dm);
    for (unsigned i = 0; i < dm.n; i++) {
        dblock d;
        sa_debug_qentry q;
        if (!dblock_get(dm.user[i], &d))
            continue;
        int inq = d.freed && sa_debug_quarantine_find(d.user, &q);
        dblock_check(&d, inq ? &q : NULL, at_exit);
    }
    return dm.n;
}

/* Set in a fork child of a process with other threads: their blocks were
 * copied mid-change (a header written, its guards not yet; a fill half
 * done), so the child's exit check would report damage nobody did. */
static int heap_copied_mid_change;
static int forked_threaded;

unsigned long sa_debug_exit_check(void)
{
    if (sa_debug_on && !heap_copied_mid_change)
        check_heap(1);
    return sa_debug_reports();
}

__attribute__((visibility("default"))) int snapalloc_debug_check(void)
{
    if (!sa_debug_on)
        return 0;
    int saved = errno;
    int n = (int)check_heap(0);
    errno = saved;
    return n;
}

/* ---- Start-up and fork ---------------------------------------------------- */

void sa_debug_config_read(int fd, int *trace_depth, int *trace_at_exit)
{
    sa_config_read_group(SA_CONFIG_DEBUG, &sa_debug_cfg, fd);
    if (!sa_debug_cfg.mode)
        return;
    if (*trace_depth == 0) {
        *trace_depth = SA_DEBUG_FRAMES;   /* stacks for the reports only */
        *trace_at_exit = 0;
    }
    sa_os_keep_stderr();
}

void sa_debug_start(void)
{
    if (!sa_debug_cfg.mode || !sa_tracing())
        return;
    sa_debug_quarantine_init(sa_debug_cfg.quarantine);
    sa_debug_report_open();
    __atomic_store_n(&sa_debug_on, 1, __ATOMIC_RELEASE);
    /* The leak check's lazy counting leaves free() alone: debug mode
     * needs it. */
    __atomic_store_n(&sa_trace_free_on, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&sa_trace_malloc_all, 1, __ATOMIC_RELEASE);   /* every malloc comes here */
}

/* Fork: the report lock, then the quarantine's (a report is never
 * written under the quarantine lock). */
void sa_debug_prefork(void)
{
    sa_guard_prefork();
    forked_threaded = !__libc_single_threaded;
    sa_debug_report_prefork();
    sa_debug_quarantine_prefork();
}

void sa_debug_postfork_parent(void)
{
    sa_debug_quarantine_postfork_parent();
    sa_debug_report_postfork_parent();
    sa_guard_postfork_parent();
}

void sa_debug_postfork_child(void)
{
    heap_copied_mid_change |= forked_threaded;
    sa_debug_quarantine_postfork_child();
    sa_debug_report_postfork_child();
    sa_guard_postfork_child();
}
