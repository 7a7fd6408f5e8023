/* alloc/arena.c - arenas: page runs, the fullest-first ordering, and giving
 * wholly free arenas back to the OS (see alloc/arena.h for the model). */
#include <errno.h>
#include <string.h>

#include "alloc/arena.h"
#include "alloc/alloc.h"
#include "alloc/check.h"
#include "common/lock.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"

#define MAX_FREE   (SA_ARENA_PAGES - 1)      /* 63 */

static sa_lock arena_lock = SA_LOCK_INIT;
/* buckets[k]: arenas with exactly k free pages.  nonempty bit k <=> buckets[k]. */
static sa_arena *buckets[SA_ARENA_PAGES];
static uint64_t nonempty;
static sa_arena_counts counts;
static unsigned next_color;
/* The growth clock (alloc/arena.h): pages faulted in by the arenas and the
 * large path, and its reading when the arenas last reused a dirty run. */
static uint64_t growth_clock;
static uint64_t dirty_used_at;
/* The arenas with dirty pages (alloc/arena.h), the most recently dirtied first. */
static sa_arena *dirty_head;
/* The invariants (alloc/check.h), at the end of this file. */
static void arena_check(const sa_arena *a);

uint64_t sa_growth_now(void)
{
    return __atomic_load_n(&growth_clock, __ATOMIC_RELAXED);
}

uint64_t sa_growth_advance(uint64_t pages)
{
    return __atomic_add_fetch(&growth_clock, pages, __ATOMIC_RELAXED);
}

static void bucket_unlink(sa_arena *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else if (!(buckets[a->bucket] = a->next))
        nonempty &= ~((uint64_t)1 << a->bucket);
    if (a->next)
        a->next->prev = a->prev;
}

static void bucket_push(sa_arena *a)
{
    a->bucket = a->nfree;
    a->prev = NULL;
    a->next = buckets[a->bucket];
    if (a->next)
        a->next->prev = a;
    buckets[a->bucket] = a;
    nonempty |= (uint64_t)1 << a->bucket;
}

/* Set a's dirty pages to mask, keeping the dirty list to the arenas that
 * have some. */
static void dirty_set(sa_arena *a, uint64_t mask)
{
    uint64_t old = a->dirty_mask;
    a->dirty_mask = mask;
    if (!old && mask) {
        a->dprev = NULL;
        a->dnext = dirty_head;
        if (dirty_head)
            dirty_head->dprev = a;
        __atomic_store_n(&dirty_head, a, __ATOMIC_RELAXED);   /* sa_arena_decay_tick */
    } else if (old && !mask) {
        if (a->dprev)
            a->dprev->dnext = a->dnext;
        else
            __atomic_store_n(&dirty_head, a->dnext, __ATOMIC_RELAXED);
        if (a->dnext)
            a->dnext->dprev = a->dprev;
    }
}

/* Arenas are cut in order from SA_ARENA_RESERVE-sized mappings: one
 * mapping per arena left a 256 KiB hole beside each (the alignment trim),
 * so every arena was a VMA of its own and the page tables were half
 * empty; contiguous arenas are one VMA and share page-table pages.  The
 * untouched rest of a reserve costs address space only. */
static char *reserve_cur, *reserve_end;

int sa_arena_thp;

static char *arena_map(void)
{
    if (reserve_cur == reserve_end) {
        char *r = sa_os_map(SA_ARENA_RESERVE, sa_arena_thp ? SA_HUGE_PAGE : SA_ARENA_SIZE);
        if (!r)
            return sa_os_map(SA_ARENA_SIZE, SA_ARENA_SIZE);
        if (sa_arena_thp)
            sa_os_hugepages(r, SA_ARENA_RESERVE);
        reserve_cur = r;
        reserve_end = r + SA_ARENA_RESERVE;
    }
    char *base = reserve_cur;
    reserve_cur += SA_ARENA_SIZE;
    return base;
}

static sa_arena *arena_new(void)
{
    char *base = arena_map();
    if (!base)
        return NULL;
    unsigned color = next_color++ % SA_ARENA_COLORS;
    sa_arena *a = (sa_arena *)(base + (size_t)color * SA_PAGE);
    if (sa_pagemap_set((uintptr_t)base, SA_ARENA_SIZE, (uintptr_t)a | SA_PM_ARENA) != 0) {
        sa_os_unmap(base, SA_ARENA_SIZE);
        errno = ENOMEM;
        return NULL;
    }
    memset(a->run_start, SA_NO_RUN, sizeof a->run_start);
    for (unsigned i = 0; i < SA_ARENA_PAGES; i++)
        a->pools[i].cls = SA_CLS_NONE;
    a->free_mask = ~((uint64_t)1 << color);
    a->run_bound = SA_ARENA_PAGES;
    a->dirty_mask = 0;   /* fresh pages: not even faulted in; not listed */
    a->nfree = MAX_FREE;
    bucket_push(a);
    counts.allocated_total++;
    if (++counts.current > counts.highwater)
        counts.highwater = counts.current;
    return a;
}

/* run_hint[n]: the arena where the last search for a run of n pages
 * succeeded (pick_arena), which a search would find again until pages are
 * freed in a fuller arena (forget_hints) or it goes.  hint_mask: bit n
 * set <=> run_hint[n]. */
static sa_arena *run_hint[SA_ARENA_PAGES];
static uint64_t hint_mask;

/* Pages were freed in a (or a goes): forget the hints that a search might
 * no longer return, those of arenas emptier than a (a may now have the
 * run, and is fuller) and a's own if it goes. */
static void forget_hints(const sa_arena *a, int going)
{
    for (uint64_t m = hint_mask; m; m &= m - 1) {
        unsigned n = (unsigned)__builtin_ctzll(m);
        sa_arena *h = run_hint[n];
        if (going ? h == a : (h != a && h->nfree >= a->nfree)) {
            run_hint[n] = NULL;
            hint_mask &= ~((uint64_t)1 << n);
        }
    }
}

static void arena_release(sa_arena *a)
{
    forget_hints(a, 1);
    counts.dirty_pages -= (uint64_t)__builtin_popcountll(a->dirty_mask);
    dirty_set(a, 0);
    bucket_unlink(a);
    char *base = sa_arena_base(a);
    sa_pagemap_set((uintptr_t)base, SA_ARENA_SIZE, 0);
    sa_os_unmap(base, SA_ARENA_SIZE);
    counts.reclaimed++;
    counts.current--;
}

/* Starts of the runs of n pages all set in mask (bit i: pages i..i+n-1). */
static uint64_t run_starts(uint64_t mask, unsigned n)
{
    uint64_t m = mask;
    for (unsigned i = 1; i < n && m; i++)
        m &= mask >> i;
    return m;
}

static uint64_t run_mask(unsigned first, unsigned n)
{
    return (n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << first;
}

/* The run of n free pages of a that holds the most dirty pages (the
 * first of those), or SA_NO_RUN; *ndirty gets how many it holds.  A run
 * wholly dirty costs no page fault; one partly dirty costs fewer than a
 * clean one, and each dirty page it takes is a page the heap does not
 * add to its resident set.  The suite's rptest (runs of 1..16 pages)
 * leaves dirty holes shorter than the next run, and the first free run
 * was often a clean one while a dirty page bordered other clean ones:
 * single-threaded, 2% fewer page faults and 2.5% less peak RSS. */
static unsigned best_run(const sa_arena *a, unsigned n, unsigned *ndirty)
{
    uint64_t m = run_starts(a->free_mask, n);
    unsigned best = SA_NO_RUN, best_dirty = 0;
    if (!a->dirty_mask) {
        *ndirty = 0;
        return m ? (unsigned)__builtin_ctzll(m) : SA_NO_RUN;
    }
    while (m) {
        unsigned i = (unsigned)__builtin_ctzll(m);
        unsigned d = (unsigned)__builtin_popcountll(a->dirty_mask & run_mask(i, n));
        if (best == SA_NO_RUN || d > best_dirty) {
            best = i;
            best_dirty = d;
            if (d == n)
                break;
        }
        m &= m - 1;
    }
    *ndirty = best_dirty;
    return best;
}

/* First page of a run of n free pages in a, or SA_NO_RUN: the one with
 * the most dirty pages, as jemalloc prefers dirty pages, since they are
 * resident already (no page fault) and reusing them keeps the clean ones
 * clean. */
static unsigned find_run(const sa_arena *a, unsigned n)
{
    unsigned ndirty;
    return best_run(a, n, &ndirty);
}

/* The fullest arena with a run of n free pages (a new one if none of the
 * first SA_RUN_SEARCH_LIMIT candidates has one). */
static sa_arena *search_arena(unsigned n, unsigned *first)
{
    unsigned looked = 0;
    uint64_t cand = nonempty & ~(((uint64_t)1 << n) - 1);
    while (cand) {
        unsigned k = (unsigned)__builtin_ctzll(cand);
        cand &= cand - 1;
        for (sa_arena *a = buckets[k]; a; a = a->next) {
            if (n <= a->run_bound) {
                if ((*first = find_run(a, n)) != SA_NO_RUN)
                    return a;
                a->run_bound = n - 1;
            }
            if (n == 1 || ++looked >= SA_RUN_SEARCH_LIMIT)
                goto fresh;
        }
    }
fresh:;
    sa_arena *a = arena_new();
    if (a)
        *first = find_run(a, n);
    return a;
}

/* Of the first SA_DIRTY_SEARCH_LIMIT arenas on the dirty list, the one
 * whose best run of n free pages (best_run) holds the most dirty pages,
 * the fullest of those; NULL if none holds any.  A wholly dirty run costs
 * no fault; a run partly dirty, fewer pages added to the resident set
 * than the fullest arena's clean run would. */
static sa_arena *dirty_search(unsigned n, unsigned *first)
{
    if (!counts.dirty_pages)
        return NULL;
    sa_arena *best = NULL;
    unsigned looked = 0, best_dirty = 0;
    for (sa_arena *a = dirty_head; a && looked < SA_DIRTY_SEARCH_LIMIT; a = a->dnext, looked++) {
        unsigned d, i = best_run(a, n, &d);
        if (i != SA_NO_RUN && d &&
            (d > best_dirty || (d == best_dirty && a->nfree < best->nfree))) {
            best = a;
            best_dirty = d;
            *first = i;
        }
    }
    return best;
}

/* The arena for a run of n pages.  Arenas fragmented by one-page pools
 * rarely have a long run: sqlite3's 9-page pools looked at 17 arenas per
 * pool, and found the same arenas short every time, a header read each.
 * So each arena remembers a bound on its runs, and a run is first looked
 * for in the arena that served the last run of its length (run_hint), as
 * it usually has room for the next pool of the class.  The fullest-first
 * order holds for one-page pools, and nearly for runs: the hint was the
 * fullest arena with room when a search found it.  Before either, a dirty
 * run anywhere (alloc/arena.h). */
static sa_arena *pick_arena(unsigned n, unsigned *first)
{
    sa_arena *dirty = dirty_search(n, first);
    if (dirty)
        return dirty;
    if (n == 1 || n >= SA_ARENA_PAGES)
        return search_arena(n, first);
    sa_arena *hint = run_hint[n];
    if (hint && n <= hint->run_bound && (*first = find_run(hint, n)) != SA_NO_RUN)
        return hint;
    sa_arena *a = search_arena(n, first);
    run_hint[n] = a;
    hint_mask = a ? hint_mask | (uint64_t)1 << n : hint_mask & ~((uint64_t)1 << n);
    return a;
}

/* Discard the pages of mask (dirty pages of a), one madvise per run of
 * adjacent pages. */
static void discard(sa_arena *a, uint64_t m)
{
    unsigned npages = (unsigned)__builtin_popcountll(m);
    counts.dirty_pages -= npages;
    counts.purged_pages += npages;
    dirty_set(a, a->dirty_mask & ~m);
    while (m) {
        unsigned i = (unsigned)__builtin_ctzll(m);
        uint64_t rest = ~(m >> i);   /* first clear bit at or after i */
        unsigned len = rest ? (unsigned)__builtin_ctzll(rest) : SA_ARENA_PAGES - i;
        sa_os_discard(sa_arena_base(a) + (size_t)i * SA_PAGE, (size_t)len * SA_PAGE);
        m &= i + len >= SA_ARENA_PAGES ? 0 : ~(((uint64_t)1 << (i + len)) - 1);
    }
}

/* The growth path's purge (sa_arena_heap_grew): the dirty pages of the
 * arenas that have had some for SA_GROWTH_PURGE_MS at least.  Pages that
 * became dirty moments ago stay for the time decay: threads that return
 * multi-page runs and take new ones all the time (the suite's rptest, 4
 * threads, blocks of 16 B..16 KiB) left holes their next runs did not
 * fit, the heap grew past them, and every such growth discarded them and
 * the next pool faulted them in again: 46k madvise calls a second, each
 * a TLB flush of the other cores, 0.8 s where 0.3 s do. */
static void purge_dirty_settled(void)
{
    uint64_t now = sa_os_now_ms();
    for (sa_arena *a = dirty_head, *next; a; a = next) {
        next = a->dnext;
        if (now - a->dirty_since >= SA_GROWTH_PURGE_MS)
            discard(a, a->dirty_mask);
    }
}

/* When decay_dirty last looked (ms): it looks at most every
 * SA_DIRTY_DECAY_MS / 4. */
static uint64_t decay_checked_at;

/* Time decay, checked at most every SA_DIRTY_DECAY_MS / 4 from the
 * returns of pools and from the threads' slow paths
 * (sa_arena_decay_tick): the dirty pages of an arena that has had some for
 * SA_DIRTY_DECAY_MS are discarded (jemalloc's dirty decay, without its
 * background thread), and wholly free arenas beyond SA_SPARE_ARENAS whose
 * pages decayed go back to the OS.  A program whose footprint swings
 * within a second reuses them; one that shrank for good gives them back. */
static void decay_dirty(void)
{
    uint64_t now = sa_os_now_ms();
    if (now - decay_checked_at < SA_DIRTY_DECAY_MS / 4)
        return;
    __atomic_store_n(&decay_checked_at, now, __ATOMIC_RELAXED);
    unsigned kept = 0;
    for (sa_arena *a = buckets[MAX_FREE], *next; a; a = next) {
        next = a->next;
        int decayed = !a->dirty_mask || now - a->dirty_since >= SA_DIRTY_DECAY_MS;
        if (decayed && kept >= SA_SPARE_ARENAS)
            arena_release(a);
        else
            kept++;
    }
    for (sa_arena *a = dirty_head, *next; a; a = next) {
        next = a->dnext;
        if (now - a->dirty_since >= SA_DIRTY_DECAY_MS)
            discard(a, a->dirty_mask);
    }
}

/* A program that shrank and goes on allocating from its thread caches
 * and pools returns no pool, which is where decay_dirty is otherwise
 * asked: the threads' slow paths (a cache refilled or flushed, a page
 * carved) ask here.  Without dirty pages that is one load; with some, a
 * read of the coarse clock (the vDSO) too, and the lock only when a
 * decay is due and nobody holds it. */
void sa_arena_decay_tick(void)
{
    if (!__atomic_load_n(&dirty_head, __ATOMIC_RELAXED))
        return;
    if (sa_os_now_ms() - __atomic_load_n(&decay_checked_at, __ATOMIC_RELAXED) <
        SA_DIRTY_DECAY_MS / 4)
        return;
    if (pthread_mutex_trylock(&arena_lock) != 0)
        return;
    decay_dirty();
    sa_check(arena_check(NULL));
    sa_lock_release(&arena_lock);
}

static int dirty_idle(uint64_t now)
{
    return __atomic_load_n(&counts.dirty_pages, __ATOMIC_RELAXED) &&
           now - __atomic_load_n(&dirty_used_at, __ATOMIC_RELAXED) >= SA_IDLE_PAGES;
}

void sa_arena_heap_grew(uint64_t now)
{
    if (!dirty_idle(now))
        return;
    sa_lock_acquire(&arena_lock);
    if (dirty_idle(now))
        purge_dirty_settled();
    sa_check(arena_check(NULL));
    sa_lock_release(&arena_lock);
}

/* The pages a growing class's new pool will fault in, faulted in now by
 * one system call (sa_os_populate): a page fault costs far more than the
 * zeroing it exists for (4-10 us a page under virtualisation, half of it
 * the fault itself).  A one-page pool also populates the free pages that
 * follow it (up to SA_POPULATE_PAGES in all), which become dirty: the
 * next pool of any class takes them (dirty runs first, pick_arena).
 * Returns the number of pages beyond the run made dirty; *len gets the
 * bytes to populate from the run's first page (0: none). */
static unsigned populate_plan(sa_arena *a, unsigned first, unsigned n, size_t *len)
{
    unsigned end = first + n;
    if (n == 1) {
        uint64_t clean = a->free_mask & ~a->dirty_mask;
        while (end < SA_ARENA_PAGES && end - first < SA_POPULATE_PAGES && (clean >> end & 1))
            end++;
    }
    unsigned ahead = end - first - n;
    if (ahead) {
        uint64_t m = (((uint64_t)1 << ahead) - 1) << (first + n);
        if (!a->dirty_mask)
            a->dirty_since = sa_os_now_ms();
        dirty_set(a, a->dirty_mask | m);
        __atomic_store_n(&counts.dirty_pages, counts.dirty_pages + ahead, __ATOMIC_RELAXED);
    }
    *len = (size_t)(end - first) * SA_PAGE;
    return ahead;
}

sa_pool *sa_arena_take_pool(unsigned cls, int growing)
{
    unsigned n = sa_classes[cls].pages, first = SA_NO_RUN;
    sa_lock_acquire(&arena_lock);
    sa_arena *a = pick_arena(n, &first);
    if (!a) {
        /* No arena could be mapped: once more after giving back what
         * malloc_trim would (sa_release_cached_memory). */
        sa_lock_release(&arena_lock);
        if (!sa_release_cached_memory())
            return NULL;
        sa_lock_acquire(&arena_lock);
        if (!(a = pick_arena(n, &first))) {
            sa_lock_release(&arena_lock);
            return NULL;
        }
    }
    uint64_t run = run_mask(first, n);
    bucket_unlink(a);
    a->free_mask &= ~run;
    a->nfree -= n;
    uint64_t reused = (uint64_t)__builtin_popcountll(a->dirty_mask & run);
    uint64_t untouched = n - reused, now = 0;
    __atomic_store_n(&counts.dirty_pages, counts.dirty_pages - reused, __ATOMIC_RELAXED);
    dirty_set(a, a->dirty_mask & ~run);
    size_t populate = 0;
    unsigned ahead = growing && untouched ? populate_plan(a, first, n, &populate) : 0;
    if (untouched)
        now = sa_growth_advance(untouched + ahead);
    /* Pages populated ahead count as reused: they are, by the next pool. */
    if (reused || ahead)
        __atomic_store_n(&dirty_used_at, sa_growth_now(), __ATOMIC_RELAXED);
    counts.active_pages += n;
    bucket_push(a);
    for (unsigned i = 0; i < n; i++) {
        a->run_start[first + i] = (uint8_t)first;
        a->pools[first + i].cls = SA_CLS_CONT;
        a->pools[first + i].used = (uint16_t)first;
    }
    sa_pool *pool = &a->pools[first];
    pool->free = NULL;
    pool->next = pool->prev = NULL;
    pool->heap = NULL;
    pool->tags = NULL;
    pool->carve = 0;
    pool->limit = sa_classes[cls].capacity * sa_classes[cls].size;
    pool->recip = sa_classes[cls].recip;
    pool->used = 0;
    pool->cls = (uint8_t)cls;
    pool->state = SA_POOL_USED;
    sa_check(arena_check(a));
    sa_lock_release(&arena_lock);
    /* Outside the lock: the arena cannot go while it holds this pool, and
     * populating pages another thread takes meanwhile is harmless (the
     * kernel faults a page in once; present pages are left as they are). */
    if (populate)
        sa_os_populate(sa_arena_base(a) + (size_t)first * SA_PAGE, populate);
    /* The arenas grow into pages to fault in: idle dirty pages, here or in
     * the large cache, would only add to the peak (the large lock after
     * arena_lock: the fork handlers take it first). */
    if (untouched) {
        sa_arena_heap_grew(now);
        sa_large_heap_grew(now);
    }
    return pool;
}

void sa_arena_return_pool(sa_pool *pool)
{
    /* Its owner's last look: every block back on its free list. */
    sa_assert(pool->used == 0);
    sa_check(sa_pool_check(pool));
    sa_check(sa_pagemap_check_pool(pool));
    sa_arena *a = sa_pool_arena(pool);
    unsigned first = (unsigned)(pool - a->pools);
    unsigned cls = pool->cls, n = sa_classes[cls].pages;
    sa_tag *tags = pool->tags;
    uint64_t run = (((uint64_t)1 << n) - 1) << first;

    if (tags)
        sa_pagemap_set_pool_tags((uintptr_t)sa_pool_base(pool), NULL);
    sa_lock_acquire(&arena_lock);
    pool->state = SA_POOL_EMPTY;
    pool->heap = NULL;
    pool->tags = NULL;
    pool->free = NULL;
    for (unsigned i = 0; i < n; i++) {
        a->run_start[first + i] = SA_NO_RUN;
        a->pools[first + i].cls = SA_CLS_NONE;
        sa_pagemap_page_set((uintptr_t)sa_arena_base(a) + (uintptr_t)(first + i) * SA_PAGE, 0);
    }
    bucket_unlink(a);
    a->free_mask |= run;
    a->run_bound = SA_ARENA_PAGES;
    if (!a->dirty_mask)
        a->dirty_since = sa_os_now_ms();
    dirty_set(a, a->dirty_mask | run);
    __atomic_store_n(&dirty_used_at, sa_growth_now(), __ATOMIC_RELAXED);
    a->nfree += n;
    forget_hints(a, 0);
    __atomic_store_n(&counts.dirty_pages, counts.dirty_pages + n, __ATOMIC_RELAXED);
    counts.active_pages -= n;
    bucket_push(a);
    /* A wholly free arena stays mapped until its pages decay, and then
     * goes back to the OS unless it is the spare: unmapping and mapping
     * again at every swing of the program's footprint costs a fault per
     * page (pymalloc keeps one spare, bpo-37257; a program of many arenas
     * swings by many). */
    sa_check(arena_check(a));   /* before decay_dirty, which may unmap a */
    if (counts.dirty_pages)
        decay_dirty();
    sa_check(arena_check(NULL));
    sa_lock_release(&arena_lock);
    if (tags) {
        size_t bytes = sa_classes[cls].capacity * sizeof(sa_tag);
        sa_meta_free(tags, bytes);
        __atomic_fetch_sub(&sa_tag_mem, bytes, __ATOMIC_RELAXED);
    }
}

int sa_arena_trim(void)
{
    int released = 0;
    sa_lock_acquire(&arena_lock);
    while (buckets[MAX_FREE]) {
        arena_release(buckets[MAX_FREE]);
        released = 1;
    }
    /* The reserve's arenas not cut yet: address space only, which is
     * what a failed mmap under a limit (ulimit -v) needs back. */
    if (reserve_cur != reserve_end) {
        sa_os_unmap(reserve_cur, (size_t)(reserve_end - reserve_cur));
        reserve_cur = reserve_end = NULL;
        released = 1;
    }
    for (unsigned k = 1; k < MAX_FREE; k++)
        for (sa_arena *a = buckets[k]; a; a = a->next) {
            counts.dirty_pages -= (uint64_t)__builtin_popcountll(a->dirty_mask);
            dirty_set(a, 0);
            uint64_t m = a->free_mask;
            while (m) {
                unsigned i = (unsigned)__builtin_ctzll(m);
                unsigned j = i;
                while (j < SA_ARENA_PAGES && (m >> j & 1))
                    j++;
                sa_os_discard(sa_arena_base(a) + (size_t)i * SA_PAGE, (size_t)(j - i) * SA_PAGE);
                released = 1;
                m &= j == SA_ARENA_PAGES ? 0 : ~(((uint64_t)1 << j) - 1);
            }
        }
    sa_check(arena_check(NULL));
    sa_lock_release(&arena_lock);
    return released;
}

int sa_release_cached_memory(void)
{
    int released = sa_large_trim();
    released |= sa_arena_trim();
    return released;
}

void sa_arena_get_counts(sa_arena_counts *out)
{
    sa_lock_acquire(&arena_lock);
    *out = counts;
    sa_lock_release(&arena_lock);
}

void sa_arena_foreach(void (*fn)(sa_arena *a, void *ctx), void *ctx)
{
    sa_lock_acquire(&arena_lock);
    for (unsigned k = 0; k < SA_ARENA_PAGES; k++)
        for (sa_arena *a = buckets[k]; a; a = a->next)
            fn(a, ctx);
    sa_lock_release(&arena_lock);
}

/* ---- invariants (alloc/check.h) -------------------------------------- */

/* The longest run of pages set in mask. */
static unsigned longest_run(uint64_t mask)
{
    unsigned n = 0;
    for (; mask; n++)
        mask &= mask >> 1;
    return n;
}

/* One arena's masks and the counters it adds to *active, *dirty. */
static void arena_masks_check(const sa_arena *a, unsigned k, uint64_t *active, uint64_t *dirty)
{
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) >> SA_PAGE_SHIFT);
    sa_assert(color < SA_ARENA_COLORS && a->bucket == k && a->nfree == k);
    sa_assert((unsigned)__builtin_popcountll(a->free_mask) == a->nfree);
    sa_assert(!(a->free_mask >> color & 1));            /* the header is never free */
    sa_assert((a->dirty_mask & ~a->free_mask) == 0);    /* dirty pages are free */
    sa_assert(longest_run(a->free_mask) <= a->run_bound);
    sa_assert(sa_pagemap_get(sa_arena_base(a)) == ((uintptr_t)a | SA_PM_ARENA));
    *active += MAX_FREE - a->nfree;
    *dirty += (uint64_t)__builtin_popcountll(a->dirty_mask);
}

/* The buckets, the nonempty bits and the counters over every arena. */
static void buckets_check(void)
{
    uint64_t arenas = 0, active = 0, dirty = 0;
    for (unsigned k = 0; k < SA_ARENA_PAGES; k++) {
        sa_assert(!(nonempty >> k & 1) == !buckets[k]);
        for (const sa_arena *a = buckets[k], *prev = NULL; a; prev = a, a = a->next) {
            sa_assert(a->prev == prev);
            sa_assert(++arenas <= counts.current);       /* no cycle */
            arena_masks_check(a, k, &active, &dirty);
        }
    }
    sa_assert(arenas == counts.current);
    sa_assert(active == counts.active_pages);
    sa_assert(dirty == counts.dirty_pages);
}

/* The dirty list holds the arenas with dirty pages, and only those. */
static void dirty_list_check(void)
{
    uint64_t listed = 0, with_dirty = 0;
    for (const sa_arena *a = dirty_head, *prev = NULL; a; prev = a, a = a->dnext) {
        sa_assert(a->dprev == prev && a->dirty_mask != 0);
        sa_assert(++listed <= counts.current);
    }
    for (unsigned k = 0; k < SA_ARENA_PAGES; k++)
        for (const sa_arena *a = buckets[k]; a; a = a->next)
            with_dirty += a->dirty_mask != 0;
    sa_assert(listed == with_dirty);
}

/* The pages of a: a free (or the header) page starts no run and has a zero
 * page entry; any other belongs to the run its run_start names, whose
 * first page holds the pool's class. */
static void arena_pages_check(const sa_arena *a)
{
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) >> SA_PAGE_SHIFT);
    uint64_t taken = ~a->free_mask;
    for (unsigned i = 0; i < SA_ARENA_PAGES; i++) {
        uintptr_t page = (uintptr_t)sa_arena_base(a) + (uintptr_t)i * SA_PAGE;
        unsigned first = a->run_start[i];
        if (!(taken >> i & 1) || i == color) {
            sa_assert(first == SA_NO_RUN && a->pools[i].cls == SA_CLS_NONE);
            sa_assert(sa_pagemap_page_get(sa_pagemap_leaf((void *)page), (void *)page) == 0);
            continue;
        }
        sa_assert(first <= i && a->pools[first].cls < SA_NCLASSES);
        sa_assert(i < first + sa_classes[a->pools[first].cls].pages);
        sa_assert(taken >> first & 1);
        if (i != first)
            sa_assert(a->pools[i].cls == SA_CLS_CONT && a->pools[i].used == first);
    }
}

/* Under arena_lock. */
static void arena_check(const sa_arena *a)
{
    buckets_check();
    dirty_list_check();
    for (unsigned n = 0; n < SA_ARENA_PAGES; n++)
        sa_assert(!(hint_mask >> n & 1) == !run_hint[n]);
    if (a)
        arena_pages_check(a);
}

void sa_arena_check(const sa_arena *a)
{
    sa_lock_acquire(&arena_lock);
    arena_check(a);
    sa_lock_release(&arena_lock);
}

void sa_arena_prefork(void) { sa_lock_acquire(&arena_lock); }
void sa_arena_postfork_parent(void) { sa_lock_release(&arena_lock); }
void sa_arena_postfork_child(void) { sa_lock_reinit(&arena_lock); }
