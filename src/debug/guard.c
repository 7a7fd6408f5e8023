/* debug/guard.c - sampled guard pages (SNAPALLOC_GUARD; debug/guard.h says
 * what they catch): the pool of slots, the sampled allocation and its
 * release, and the fault handler that reports a fault in the pool.
 *
 * The pool, one mapping, granule-aligned (alloc/pagemap.h: its granules
 * get a page-map leaf and entry 0, so free() of a guarded block leaves its
 * fast path for sa_free_other, which asks sa_guard_free):
 *
 *     | guard | slot 0 (16 pages) | guard | slot 1 | guard | ... | guard |
 *
 * Everything is PROT_NONE but the slots of live blocks.  A block lies at
 * the end of its slot (its end as near the next guard page as its
 * alignment allows; the few bytes between are filled with 0xFD and
 * checked at free), or at its start under SNAPALLOC_GUARD_UNDERFLOW=1.
 * A freed slot is PROT_NONE again (a block of more than one page gives its
 * pages back; a one-page block keeps its page, a syscall less); free slots
 * wait in a FIFO, so a freed block stays inaccessible as long as the
 * pool allows.  A full pool leaves the allocation to the allocator.
 *
 * The slots' records (size, api, stacks, threads) are in memory from
 * sa_os_map, never from malloc; the stacks are raw frames captured by the
 * tracer's unwinder (trace/unwind.h), which guard mode starts on its own.
 */
#include "debug/guard.h"
#include "trace/budget.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/pagemap.h"
#include "alloc/tunables.h"
#include "common/fmt.h"
#include "common/lock.h"
#include "common/os.h"
#include "debug/debug_int.h"
#include "debug/debug_mode.h"
#include "trace/config.h"
#include "trace/sample.h"
#include "trace/trace.h"
#include "trace/unwind.h"

#define SLOT_BYTES SA_MEDIUM_MAX              /* the largest block sampled */
#define STRIDE (SLOT_BYTES + SA_PAGE)         /* a slot and the guard page before it */
#define SLACK_FILL 0xFD                       /* between a block's end and its slot's */

enum { SLOT_UNUSED, SLOT_LIVE, SLOT_FREED };

typedef struct guard_slot {
    uintptr_t user;
    size_t size;
    uint8_t api, state;
    uint8_t nalloc, nfree;
    int alloc_tid, free_tid;
    sa_tag tag;                               /* the tracer's record, when it runs */
    uintptr_t alloc_frames[SA_GUARD_FRAMES];
    uintptr_t free_frames[SA_GUARD_FRAMES];
} guard_slot;

SA_TLS int64_t sa_guard_left;
static SA_TLS uint64_t rng;                   /* this thread's xorshift state */

static uintptr_t pool_lo, pool_hi;            /* the slots: [lo, hi) */
static uint32_t nslots;
static guard_slot *slots;
static uint32_t *fifo;                        /* free slots, oldest first */
static uint32_t fifo_head, fifo_len;
static sa_lock pool_lock = SA_LOCK_INIT;
static struct sigaction old_segv, old_bus;
static int reporting;

/* ---- Sampling ------------------------------------------------------------ */

static uint64_t next_random(void)
{
    if (SA_UNLIKELY(rng == 0))
        rng = (sa_os_random() ^ sa_os_thread_pointer()) | 1;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The next count: uniform in [1, 2N - 1], mean N (GWP-ASan draws the
 * same way); N = 1 guards every allocation. */
static void draw(void)
{
    uint64_t n = sa_debug_cfg.guard;
    sa_guard_left = n <= 1 ? 1 : (int64_t)(1 + next_random() % (2 * n - 1));
}

/* ---- The pool ------------------------------------------------------------ */

static uintptr_t slot_start(uint32_t i)
{
    return pool_lo + (uintptr_t)i * STRIDE + SA_PAGE;
}

static int slot_take(uint32_t *out)
{
    sa_lock_acquire(&pool_lock);
    int ok = fifo_len > 0;
    if (ok) {
        *out = fifo[fifo_head];
        fifo_head = (fifo_head + 1) % nslots;
        fifo_len--;
    }
    sa_lock_release(&pool_lock);
    return ok;
}

static void slot_put(uint32_t i)
{
    sa_lock_acquire(&pool_lock);
    fifo[(fifo_head + fifo_len) % nslots] = i;
    fifo_len++;
    sa_lock_release(&pool_lock);
}

/* The slot whose data pages hold p, or NULL (a guard page, or not ours). */
static guard_slot *slot_of(uintptr_t p, uint32_t *index)
{
    if (p < pool_lo + SA_PAGE || p >= pool_hi)
        return NULL;
    uintptr_t off = p - pool_lo;
    if (off % STRIDE < SA_PAGE)
        return NULL;
    *index = (uint32_t)(off / STRIDE);
    return &slots[*index];
}

int sa_guard_owns(const void *p)
{
    return (uintptr_t)p >= pool_lo && (uintptr_t)p < pool_hi;
}

/* This thread's id, asked of the kernel once (glibc 2.36's gettid() is a
 * system call every time: two per guarded block); a fork child's one
 * thread asks again (sa_guard_postfork_child). */
static SA_TLS int my_tid;

static int gettid_now(void)
{
    if (SA_UNLIKELY(my_tid == 0))
        my_tid = (int)syscall(SYS_gettid);
    return my_tid;
}

/* ---- Allocation and release ---------------------------------------------- */

/* The end of the accessible pages of a block at user of n bytes in the
 * slot starting at start: the slot's end (right-aligned), or the end of
 * the block's last page (left-aligned). */
static uintptr_t open_end(uintptr_t start, uintptr_t user, size_t n)
{
    if (!sa_debug_cfg.guard_underflow)
        return start + SLOT_BYTES;
    return (user + (n ? n : 1) + SA_PAGE - 1) & ~(uintptr_t)(SA_PAGE - 1);
}

/* Open the pages of an n-byte block in slot i and fill the bytes after
 * it up to the guard page (or its last page's end): its address, or NULL. */
static void *place(uint32_t i, size_t n, size_t align)
{
    uintptr_t start = slot_start(i);
    size_t a = align > SA_ALIGNMENT ? align : SA_ALIGNMENT;
    uintptr_t user = start;
    if (!sa_debug_cfg.guard_underflow)
        user = (start + SLOT_BYTES - (n ? n : 1)) & ~(uintptr_t)(a - 1);
    uintptr_t lo = user & ~(uintptr_t)(SA_PAGE - 1), hi = open_end(start, user, n);
    if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
        return NULL;
    /* Zero (calloc's blocks come here too): a slot of one page keeps it
     * when freed (sa_guard_free). */
    memset((void *)user, 0, n);
    memset((void *)(user + n), SLACK_FILL, hi - (user + n));
    return (void *)user;
}

/* The bound on guarded blocks a second (SNAPALLOC_GUARD_PER_SEC), so
 * that guard pages cost a program that mallocs tens of millions of times a
 * second what they cost any other.  A guarded block costs two mprotect
 * calls (and, in a threaded process, the other cores' TLB flush at its
 * free) and two stack walks, 10-25 us; at one in 5000, churn (20 M
 * mallocs a second) paid 1.05x and larson (4 threads) 1.16x.  Windows of
 * 1/8 s, each taking an eighth of the bound (at least one block); not
 * for SNAPALLOC_GUARD=all, which asks for every block. */
static uint64_t window;        /* atomic: the current window, in 1/8 s */
static uint32_t window_taken;  /* atomic: guarded blocks in it */

static int within_bound(void)
{
    uint32_t per_sec = (uint32_t)sa_debug_cfg.guard_per_sec;
    if (per_sec == 0 || sa_debug_cfg.guard == SA_GUARD_EVERY)
        return 1;
    uint64_t now = sa_os_now_ms() / 125, cur = __atomic_load_n(&window, __ATOMIC_RELAXED);
    if (cur != now &&
        __atomic_compare_exchange_n(&window, &cur, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        __atomic_store_n(&window_taken, 0, __ATOMIC_RELAXED);
    uint32_t quota = per_sec / 8 ? per_sec / 8 : 1;
    return __atomic_fetch_add(&window_taken, 1, __ATOMIC_RELAXED) < quota;
}

void *sa_guard_sampled(size_t n, size_t align, int api)
{
    /* A thread's first allocation only starts its count (it would
     * otherwise always be guarded: a program whose threads come and go
     * paid for a guarded block and a first unwind per thread). */
    int first = rng == 0 && sa_debug_cfg.guard > SA_GUARD_EVERY;
    draw();
    if (first || n > SLOT_BYTES || align > SA_PAGE || !within_bound())
        return NULL;
    int prev = sa_trace_guard_enter();
    uint32_t i;
    void *u = NULL;
    if (!prev && slot_take(&i)) {
        int saved = errno;
        u = place(i, n, align);
        if (u) {
            guard_slot *s = &slots[i];
            s->user = (uintptr_t)u;
            s->size = n;
            s->api = (uint8_t)api;
            s->alloc_tid = gettid_now();
            s->nfree = 0;
            s->tag.id = 0;
            int k = sa_unwind_capture_shared(s->alloc_frames, SA_GUARD_FRAMES);
            s->nalloc = (uint8_t)(k > 0 ? k : 0);
            __atomic_store_n(&s->state, SLOT_LIVE, __ATOMIC_RELEASE);
        } else {
            slot_put(i);
        }
        errno = saved;
    }
    sa_trace_guard_leave(prev);
    return u;
}

size_t sa_guard_usable(const void *p)
{
    uint32_t i;
    guard_slot *s = slot_of((uintptr_t)p, &i);
    return s && s->user == (uintptr_t)p && s->state == SLOT_LIVE ? s->size : 0;
}

sa_tag *sa_guard_tag(const void *p)
{
    uint32_t i;
    guard_slot *s = slot_of((uintptr_t)p, &i);
    return s && s->user == (uintptr_t)p && s->state == SLOT_LIVE ? &s->tag : NULL;
}

static void report_at_free(const guard_slot *s, const char *kind, const char *how, long offset,
                           int has_offset);

/* The first byte after s's block, up to its guard page (or its last
 * page's end), that is not the fill, or 0. */
static uintptr_t slack_damage(const guard_slot *s, uint32_t i)
{
    uintptr_t stop = open_end(slot_start(i), s->user, s->size);
    for (uintptr_t q = s->user + s->size; q < stop; q++)
        if (*(const unsigned char *)q != SLACK_FILL)
            return q;
    return 0;
}

int sa_guard_free(void *p)
{
    if (!sa_guard_owns(p))
        return 0;
    int saved = errno;
    uint32_t i;
    guard_slot *s = slot_of((uintptr_t)p, &i);
    if (!s || s->user != (uintptr_t)p || s->state != SLOT_LIVE) {
        if (s && s->user == (uintptr_t)p && s->state == SLOT_FREED)
            report_at_free(s, "double free", ": the block is already free", 0, 0);
        sa_misuse("free()", "invalid pointer", p);
    }
    int prev = sa_trace_guard_enter();
    int k = prev ? 0 : sa_unwind_capture_shared(s->free_frames, SA_GUARD_FRAMES);
    s->nfree = (uint8_t)(k > 0 ? k : 0);
    s->free_tid = gettid_now();
    sa_trace_guard_leave(prev);
    uintptr_t bad = slack_damage(s, i);
    if (bad)
        report_at_free(s, "buffer overflow",
                       ": the bytes between the block's end and its guard page were overwritten",
                       (long)(bad - s->user), 1);
    __atomic_store_n(&s->state, SLOT_FREED, __ATOMIC_RELEASE);
    uintptr_t start = slot_start(i);
    /* Inaccessible again.  The pages of a block of more than one page go
     * back; one page stays (a syscall less on the common case: at most
     * one resident page per slot). */
    uintptr_t first = s->user & ~(uintptr_t)(SA_PAGE - 1);
    uintptr_t end = open_end(start, s->user, s->size);
    mprotect((void *)first, end - first, PROT_NONE);
    if (end - first > SA_PAGE)
        madvise((void *)first, end - first, MADV_DONTNEED);
    slot_put(i);
    errno = saved;
    return 1;
}

void *sa_guard_realloc(void *p, size_t n)
{
    size_t old = sa_guard_usable(p);
    if (!old && !sa_guard_owns(p))
        return NULL;
    if (n == 0) {
        free(p);
        return NULL;
    }
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, old < n ? old : n);
        free(p);
    }
    return q;
}

/* ---- Reports --------------------------------------------------------------- */

#define PFX "snapalloc: debug: "


/* What a report says besides the slot's stacks. */
typedef struct guard_finding {
    const char *kind, *how;     /* "use after free", ": a read of the freed block" */
    const guard_slot *slot;     /* or NULL: no block there */
    long offset;                /* from the block's start */
    int has_offset;
    uintptr_t addr;             /* the faulting address, or 0 (found at free) */
    const char *here_title;     /* "accessed at" / "detected at" */
    const uintptr_t *here;
    unsigned nhere;
} guard_finding;

static void block_lines(sa_buf *b, const guard_finding *f)
{
    const guard_slot *s = f->slot;
    sa_buf_str(b, PFX "block ");
    sa_buf_hex(b, s->user);
    sa_buf_str(b, " of ");
    sa_buf_u64(b, s->size);
    sa_buf_str(b, " bytes, allocated by ");
    sa_buf_str(b, sa_debug_api_name(s->api));
    sa_buf_str(b, "\n" PFX "allocated by thread ");
    sa_buf_u64(b, (uint64_t)s->alloc_tid);
    if (s->state == SLOT_FREED || s->nfree) {
        sa_buf_str(b, ", freed by thread ");
        sa_buf_u64(b, (uint64_t)s->free_tid);
    }
    sa_buf_char(b, '\n');
    if (f->addr) {
        sa_buf_str(b, PFX "faulting address ");
        sa_buf_hex(b, f->addr);
        sa_buf_str(b, " at offset ");
        sa_buf_i64(b, f->offset);
        sa_buf_char(b, '\n');
    } else if (f->has_offset) {
        sa_buf_str(b, PFX "first bad byte at offset ");
        sa_buf_i64(b, f->offset);
        sa_buf_str(b, ": ");
        sa_buf_hex(b, ((const unsigned char *)s->user)[f->offset]);
        sa_buf_str(b, " (expected 0xfd)\n");
    }
}

/* One whole report, async-signal-safe: a buffer on the stack, write(2),
 * dladdr1 for the frames' modules (debug/report.c). */
static void write_report(const guard_finding *f)
{
    sa_buf b;
    sa_buf_init(&b, sa_debug_report_fd());
    sa_buf_str(&b, PFX);
    sa_buf_str(&b, f->kind);
    sa_buf_str(&b, f->how);
    sa_buf_str(&b, " (guard pages)\n");
    if (f->slot) {
        block_lines(&b, f);
        sa_debug_report_frames(&b, "allocated at", f->slot->alloc_frames, f->slot->nalloc);
        if (f->slot->state == SLOT_FREED || f->slot->nfree)
            sa_debug_report_frames(&b, "freed at", f->slot->free_frames, f->slot->nfree);
    } else {
        sa_buf_str(&b, PFX "faulting address ");
        sa_buf_hex(&b, f->addr);
        sa_buf_str(&b, " (no block there)\n");
    }
    sa_debug_report_frames(&b, f->here_title, f->here, f->nhere);
    sa_buf_str(&b, PFX "end of report\n");
    sa_buf_flush(&b);
}

/* Damage found when the program frees a guarded block: report, abort. */
static void report_at_free(const guard_slot *s, const char *kind, const char *how, long offset,
                           int has_offset)
{
    uintptr_t here[SA_GUARD_FRAMES];
    int prev = sa_trace_guard_enter();
    int n = prev ? 0 : sa_unwind_capture(here, SA_GUARD_FRAMES);
    sa_trace_guard_leave(prev);
    guard_finding f = {kind, how, s, offset, has_offset, 0, "detected at", here,
                       n > 0 ? (unsigned)n : 0};
    write_report(&f);
    abort();
}

/* The block nearest the guard page at stride g: the one before it (an
 * overflow) or after it (an underflow); NULL if neither was ever used. */
static const guard_slot *nearest(uint32_t g, uintptr_t a, int *overflow)
{
    const guard_slot *before = g > 0 && slots[g - 1].state != SLOT_UNUSED ? &slots[g - 1] : NULL;
    const guard_slot *after = g < nslots && slots[g].state != SLOT_UNUSED ? &slots[g] : NULL;
    if (before && after)
        *overflow = a - (before->user + before->size) <= after->user - a;
    else
        *overflow = before != NULL;
    return *overflow ? before : after;
}

/* Which defect a fault at a (in the pool) is. */
static void classify(uintptr_t a, int access, guard_finding *f)
{
    static const char *const of_freed[] = {": an access of the freed block",
                                           ": a read of the freed block",
                                           ": a write to the freed block"};
    static const char *const past[] = {": an access past the block's end",
                                       ": a read past the block's end",
                                       ": a write past the block's end"};
    static const char *const before[] = {": an access before the block's start",
                                         ": a read before the block's start",
                                         ": a write before the block's start"};
    uint32_t i;
    const guard_slot *s = slot_of(a, &i);
    int overflow = 0;
    if (!s)
        s = nearest((uint32_t)((a - pool_lo) / STRIDE), a, &overflow);
    else if (s->state == SLOT_LIVE)
        overflow = a >= s->user + s->size;
    else if (s->state == SLOT_UNUSED)
        s = NULL;
    f->slot = s;
    f->addr = a;
    if (!s) {
        f->kind = "invalid access";
        f->how = ": no block there";
        return;
    }
    f->offset = (long)(a - s->user);
    if (s->state == SLOT_FREED && s->user <= a && a < s->user + (s->size ? s->size : 1)) {
        f->kind = "use after free";
        f->how = of_freed[access];
    } else if (overflow) {
        f->kind = "buffer overflow";
        f->how = past[access];
    } else {
        f->kind = "buffer underflow";
        f->how = before[access];
    }
}

/* The access that faulted: 1 read, 2 write, 0 unknown; and its pc. */
static int fault_access(const void *ucv, uintptr_t *pc)
{
    const ucontext_t *uc = ucv;
#if defined(__x86_64__)
    *pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    return uc->uc_mcontext.gregs[REG_ERR] & 2 ? 2 : 1;   /* the page fault's W bit */
#elif defined(__aarch64__)
    *pc = (uintptr_t)uc->uc_mcontext.pc;
    return 0;
#else
    (void)uc;
    *pc = 0;
    return 0;
#endif
}

/* The faulting stack: the pc, then its callers (the unwinder's walk from
 * here, from the pc's frame on when it is found there). */
static unsigned fault_stack(uintptr_t pc, uintptr_t *out, unsigned max)
{
    uintptr_t walk[SA_GUARD_FRAMES + SA_UNWIND_SLACK];
    int prev = sa_trace_guard_enter();
    int n = prev ? 0 : sa_unwind_capture(walk, (int)(sizeof walk / sizeof walk[0]));
    sa_trace_guard_leave(prev);
    int from = -1;
    for (int k = 0; k < n && from < 0; k++)
        if (walk[k] == pc)
            from = k + 1;
    unsigned m = 0;
    out[m++] = pc;
    for (int k = from < 0 ? n : from; k < n && m < max; k++)
        out[m++] = walk[k];
    return m;
}

static void chain(int sig, siginfo_t *si, void *uc)
{
    struct sigaction *o = sig == SIGBUS ? &old_bus : &old_segv;
    if (o->sa_flags & SA_SIGINFO) {
        o->sa_sigaction(sig, si, uc);
    } else if (o->sa_handler == SIG_IGN) {
        if (si->si_code > 0)
            signal(sig, SIG_DFL);   /* a real fault cannot be ignored: it comes back */
    } else if (o->sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        if (si->si_code <= 0)
            raise(sig);   /* sent, not a fault: delivered again on return */
    } else {
        o->sa_handler(sig);
    }
}

/* SIGSEGV and SIGBUS: a fault in the pool is reported once; the default
 * action is then restored and the faulting instruction, run again on
 * return, ends the program with the signal it would have got.  Any
 * other goes to the handler that was there before ours. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    if (si->si_code <= 0 || !sa_guard_owns((void *)a)) {
        chain(sig, si, uc);
        return;
    }
    int saved = errno;
    if (!__atomic_exchange_n(&reporting, 1, __ATOMIC_ACQ_REL)) {
        uintptr_t pc, here[SA_GUARD_FRAMES];
        guard_finding f;
        memset(&f, 0, sizeof f);
        classify(a, fault_access(uc, &pc), &f);
        f.here_title = "accessed at";
        f.here = here;
        f.nhere = fault_stack(pc, here, SA_GUARD_FRAMES);
        write_report(&f);
    }
    signal(sig, SIG_DFL);
    errno = saved;
}

static void install(int sig, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(sig, &sa, old);
}

/* ---- Start-up and fork ------------------------------------------------------ */

/* bytes of address space, granule-aligned (alloc/pagemap.h: no other
 * region shares its granules), PROT_NONE: no memory is committed until a
 * slot opens. */
static void *map_inaccessible(size_t bytes)
{
    size_t span = bytes + SA_ARENA_SIZE;
    char *raw = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + SA_ARENA_SIZE - 1) & ~(uintptr_t)(SA_ARENA_SIZE - 1);
    size_t head = start - (uintptr_t)raw;
    if (head)
        munmap(raw, head);
    munmap((char *)start + bytes, span - head - bytes);
    return (void *)start;
}

static int map_pool(uint32_t n)
{
    size_t bytes = (size_t)n * STRIDE + SA_PAGE;
    size_t mapped = (bytes + SA_ARENA_SIZE - 1) & ~(size_t)(SA_ARENA_SIZE - 1);
    size_t meta = (size_t)n * (sizeof(guard_slot) + sizeof(uint32_t));
    void *pool = map_inaccessible(mapped);
    void *m = pool ? sa_os_map(meta, SA_PAGE) : NULL;
    if (!m || sa_pagemap_set((uintptr_t)pool, mapped, 0) != 0)
        return -1;
    slots = m;
    fifo = (uint32_t *)(slots + n);
    for (uint32_t i = 0; i < n; i++)
        fifo[i] = i;
    fifo_len = nslots = n;
    pool_lo = (uintptr_t)pool;
    pool_hi = pool_lo + bytes;
    return 0;
}

void sa_guard_start(void)
{
    if (!sa_debug_cfg.guard)
        return;
    int err = sa_os_stderr();
    if (sa_debug_on) {
        sa_buf b;
        sa_buf_init(&b, err);
        sa_buf_str(&b, "snapalloc: SNAPALLOC_GUARD is off in debug mode (SNAPALLOC_DEBUG "
                       "checks every block)\n");
        sa_buf_flush(&b);
        return;
    }
    if (map_pool((uint32_t)sa_debug_cfg.guard_slots) != 0) {
        sa_warn_setting(err, "SNAPALLOC_GUARD_SLOTS", "", "the pool cannot be mapped; guard pages off");
        return;
    }
    int prev = sa_trace_guard_enter();
    sa_unwind_init(sa_trace_cfg.unwind);   /* its first-use allocations, here */
    sa_trace_guard_leave(prev);
    sa_debug_report_open();
    static const sa_foreign_ops ops = {sa_guard_free, sa_guard_usable, sa_guard_tag};
    __atomic_store_n(&sa_foreign, &ops, __ATOMIC_RELEASE);
    install(SIGSEGV, &old_segv);
    install(SIGBUS, &old_bus);
    __atomic_fetch_or(&sa_trace_on, SA_TRACE_ON_GUARD, __ATOMIC_RELEASE);
    /* malloc asks at its next call, and then spends a budget armed from
     * the guard count (trace/budget.h). */
    sa_budget_reset_all();
}

void sa_guard_prefork(void)
{
    sa_lock_acquire(&pool_lock);
}

void sa_guard_postfork_parent(void)
{
    sa_lock_release(&pool_lock);
}

void sa_guard_postfork_child(void)
{
    sa_lock_reinit(&pool_lock);
    rng = 0;   /* the child draws its own counts */
    my_tid = 0;
}
