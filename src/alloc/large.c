/* alloc/large.c - directly mapped blocks and their cache (see alloc/large.h).
 *
 * Threads: a range leaves us (munmap, or mremap moving or shrinking a
 * block) only after its page-map entries stopped naming a live block;
 * once it is gone another thread may map and register a block there,
 * which a later clear would unregister.  doc/design.md, "Large blocks
 * across threads", lists every path reviewed against that rule. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/tunables.h"
#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/arena.h"
#include "alloc/check.h"
#include "common/lock.h"
#include "alloc/meta.h"
#include "common/os.h"
#include "alloc/pagemap.h"

static sa_lock large_lock = SA_LOCK_INIT;
static sa_large *cache[SA_LARGE_CACHE_SLOTS];  /* most recent last */
static unsigned ncached;
static size_t cached_bytes, resident_bytes;
/* The growth clock (alloc/arena.h) when the cache was last used. */
static uint64_t used_at;
/* The most live large bytes so far: the cache keeps dirty pages up to
 * peak - live (resident_budget).  When decay last looked (ms). */
static uint64_t live_peak, decay_checked_at;
/* The growth clock when the arenas' growth was last charged to the cache
 * (sa_large_heap_grew). */
static uint64_t shed_at;

static void grew(size_t bytes);
static int grow_in_place(sa_large *d, size_t n, size_t size, int populate);
static void *move_pages(sa_large *d, size_t n, size_t size, int populate);
static uint64_t live_blocks, live_bytes, total_allocs, total_frees;
static sa_large *all_large;   /* every descriptor (live or cached) */
static void registry_check(void);
static void cache_check(void);
static void cache_put(sa_large *d);

static void registry_add(sa_large *d)
{
    sa_lock_acquire(&large_lock);
    d->prev = NULL;
    d->next = all_large;
    if (all_large)
        all_large->prev = d;
    all_large = d;
    sa_check(registry_check());
    sa_lock_release(&large_lock);
}

static void registry_remove(sa_large *d)
{
    sa_lock_acquire(&large_lock);
    if (d->prev)
        d->prev->next = d->next;
    else
        all_large = d->next;
    if (d->next)
        d->next->prev = d->prev;
    sa_check(registry_check());
    sa_lock_release(&large_lock);
}

static void account(long blocks, long bytes)
{
    __atomic_fetch_add(&live_blocks, (uint64_t)blocks, __ATOMIC_RELAXED);
    uint64_t live = __atomic_add_fetch(&live_bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
    /* A hint: a racing update may lose a few bytes of peak. */
    if (live > __atomic_load_n(&live_peak, __ATOMIC_RELAXED))
        __atomic_store_n(&live_peak, live, __ATOMIC_RELAXED);
}

/* Dirty bytes the cache may keep: a share of what the live blocks could
 * grow back to without passing their peak, so cached pages never add to
 * the peak (beyond the floor), capped.  The share: with all of that room
 * a program calloc'ing partly written arrays of 64 KiB..8 MiB (bufgrow)
 * faulted in 62% fewer pages than glibc but peaked at 1.55x its RSS (the
 * room counts the arrays' whole size, of which a part is resident); with
 * half, 32% fewer at 1.16x; a third, 15% fewer at 1.08x. */
static size_t resident_budget(void)
{
    uint64_t live = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&live_peak, __ATOMIC_RELAXED);
    uint64_t room = peak > live ? (peak - live) / SA_LARGE_DIRTY_SHARE : 0;
    if (room > SA_LARGE_DIRTY_MAX)
        room = SA_LARGE_DIRTY_MAX;
    return room > SA_LARGE_CACHE_RESIDENT ? (size_t)room : SA_LARGE_CACHE_RESIDENT;
}

/* Under large_lock: cache[i] gives its pages back, keeping its range. */
static void cache_discard(unsigned i)
{
    sa_os_discard(cache[i]->base, cache[i]->size);
    cache[i]->resident = 0;
    resident_bytes -= cache[i]->size;
}

/* Under large_lock: oldest first, entries beyond the budget give their
 * pages back, and so do those that kept them for SA_LARGE_DECAY_MS
 * (looked at every quarter of that at most): a program that shrank for
 * good gets the memory back, one whose footprint swings reuses it.  Under
 * the lock: once listed, an entry may be taken by any thread, so its
 * pages must not be released behind that thread. */
static void cache_shed(void)
{
    size_t budget = resident_budget();
    /* The block freed last keeps its pages if the room under the peak
     * holds it whole: a program replacing big blocks one at a time (5..25
     * MiB, mimalloc-bench's malloc-large) frees a block that only the
     * whole room can hold, and the share alone made every replacement
     * fault its pages in again. */
    uint64_t live = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&live_peak, __ATOMIC_RELAXED);
    const sa_large *newest = ncached ? cache[ncached - 1] : NULL;
    int keep_newest = newest && newest->resident && newest->size <= SA_LARGE_DIRTY_MAX &&
                      peak > live && newest->size <= peak - live;
    for (unsigned i = 0; i < ncached && resident_bytes > budget; i++)
        if (cache[i]->resident && !(keep_newest && cache[i] == newest))
            cache_discard(i);
    if (!resident_bytes)
        return;
    uint64_t now = sa_os_now_ms();
    if (now - decay_checked_at < SA_LARGE_DECAY_MS / 4)
        return;
    decay_checked_at = now;
    for (unsigned i = 0; i < ncached; i++)
        if (cache[i]->resident && now - cache[i]->cached_ms >= SA_LARGE_DECAY_MS)
            cache_discard(i);
}

/* sa_os_map, once more after giving back the cached and free memory if
 * it failed: a program that freed its small blocks under a ulimit -v
 * should not be refused a large one that fits once those arenas are gone
 * (glibc's heap would serve it). */
static void *map_retry(size_t size, size_t align)
{
    void *p = sa_os_map(size, align);
    if (!p && sa_release_cached_memory())
        p = sa_os_map(size, align);
    return p;
}

/* Unmap d's block, leaving a tombstone so a later free(base) is caught. */
static void unmap_block(sa_large *d)
{
    registry_remove(d);
    sa_pagemap_set((uintptr_t)d->base, d->size, (uintptr_t)d->base | SA_PM_FREED);
    sa_os_unmap(d->base, d->size);
    sa_meta_free(d, sizeof *d);
}

/* Under large_lock: take cache[i] out of the cache, live. */
static sa_large *cache_remove(unsigned i)
{
    sa_large *c = cache[i];
    memmove(&cache[i], &cache[i + 1], (ncached - i - 1) * sizeof cache[0]);
    ncached--;
    cached_bytes -= c->size;
    if (c->resident)
        resident_bytes -= c->size;
    c->live = 1;
    c->sampled = 0;
    c->tag.id = 0;
    __atomic_store_n(&used_at, sa_growth_now(), __ATOMIC_RELAXED);
    return c;
}

/* The end of a search of the cache under large_lock: remove cache[best]
 * (none if best is ncached), check the cache, and release the lock. */
static sa_large *take_unlock(unsigned best)
{
    sa_large *d = best < ncached ? cache_remove(best) : NULL;
    sa_check(cache_check());
    sa_lock_release(&large_lock);
    return d;
}

/* A cached block of at least size bytes and at most 1/4 more, or up to
 * twice as big if it kept its pages: a program that callocs and frees
 * buffers of varied sizes reuses resident pages instead of faulting in
 * fresh ones, as glibc reuses the top of its heap (the realloc bench:
 * 69k page faults a run -> 57k; glibc 22k).  The smallest that kept its
 * pages, else the most recent without. */
static sa_large *cache_take(size_t size, size_t align)
{
    sa_lock_acquire(&large_lock);
    unsigned best = ncached, bare = ncached;
    for (unsigned i = ncached; i-- > 0;) {
        sa_large *c = cache[i];
        size_t room = c->resident ? size : size / 4;
        if (c->size < size || c->size - size > room ||
            ((uintptr_t)c->base & (align - 1)) != 0)
            continue;
        if (!c->resident) {
            if (bare == ncached)
                bare = i;
        } else if (best == ncached || c->size < cache[best]->size) {
            best = i;
        }
    }
    if (best == ncached)
        best = bare;
    return take_unlock(best);
}

/* For a block growing by realloc: the smallest cached block of at least
 * size bytes that still has its pages, up to 4 times that: its pages are
 * resident already, and a growing block tends to keep growing (but a
 * buffer of 100 KiB should not take the 32 MiB block a later calloc
 * wants back). */
static sa_large *cache_take_resident(size_t size)
{
    if (!__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED))
        return NULL;
    sa_lock_acquire(&large_lock);
    unsigned best = ncached;
    for (unsigned i = 0; i < ncached; i++)
        if (cache[i]->resident && cache[i]->size >= size && cache[i]->size / 4 <= size &&
            (best == ncached || cache[i]->size < cache[best]->size))
            best = i;
    return take_unlock(best);
}

/* Whether len bytes (a multiple of 64) at p are all zero. */
static int all_zero(const char *p, size_t len)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    for (size_t i = 0; i < len / 8; i += 8)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
            return 0;
    return 1;
}

/* calloc's clearing of a cached block that kept its pages, without
 * writing where writing would fault: a page present (mincore) is
 * written only if it is not zero already (a read mapped the zero page,
 * or the program never wrote it: writing either faults in a private
 * copy); a page not present is discarded instead, which costs nothing if
 * it was never touched and is what makes a swapped-out page (mincore
 * says 0 for it too) read as zeros.  A big array written in part and
 * calloc'd again is cleared in the part that was written. */
void sa_large_zero_dirty(char *base, size_t n)
{
    unsigned char vec[1024];
    size_t pages = (n + SA_PAGE - 1) / SA_PAGE, absent_from = SIZE_MAX;
    for (size_t first = 0; first < pages; first += sizeof vec) {
        size_t count = pages - first < sizeof vec ? pages - first : sizeof vec;
        if (mincore(base + first * SA_PAGE, count * SA_PAGE, vec) != 0)
            memset(vec, 1, count);
        for (size_t i = 0; i < count; i++) {
            size_t page = first + i;
            if (!(vec[i] & 1)) {
                if (absent_from == SIZE_MAX)
                    absent_from = page;
                continue;
            }
            if (absent_from != SIZE_MAX) {
                sa_os_discard(base + absent_from * SA_PAGE, (page - absent_from) * SA_PAGE);
                absent_from = SIZE_MAX;
            }
            char *at = base + page * SA_PAGE;
            size_t len = page + 1 == pages ? n - page * SA_PAGE : SA_PAGE;
            if (len < SA_PAGE || !all_zero(at, SA_PAGE))
                memset(at, 0, len);
        }
    }
    if (absent_from != SIZE_MAX)
        sa_os_discard(base + absent_from * SA_PAGE, (pages - absent_from) * SA_PAGE);
}

/* The first granules of a cached block that kept its pages and is more
 * than twice the size asked for; the rest (if it is big enough for a
 * large request) goes back to the cache as a block of its own, its pages
 * too.  A program that callocs arrays of
 * varied sizes (64 KiB..8 MiB) found a cached block too big for 1 in 8
 * of its requests, and faulted in a fresh one; the budget then made the
 * cached one give its pages back: the same memory faulted in twice. */
static sa_large *cache_take_split(size_t size, size_t align)
{
    size_t head = (size + SA_ARENA_SIZE - 1) & ~(size_t)(SA_ARENA_SIZE - 1);
    if (!__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED))
        return NULL;
    sa_lock_acquire(&large_lock);
    unsigned best = ncached;
    for (unsigned i = 0; i < ncached; i++) {
        const sa_large *c = cache[i];
        if (c->resident && c->size > head + SA_MEDIUM_MAX &&
            ((uintptr_t)c->base & (align - 1)) == 0 &&
            (best == ncached || c->size < cache[best]->size))
            best = i;
    }
    sa_large *d = take_unlock(best);
    if (!d)
        return NULL;
    /* d is ours (live): nobody looks its tail up until it is cached. */
    sa_large *tail = sa_meta_alloc(sizeof *tail);
    if (!tail)
        return d;   /* whole, then: the caller discards the excess */
    memset(tail, 0, sizeof *tail);
    tail->base = d->base + head;
    tail->size = d->size - head;
    if (sa_pagemap_set((uintptr_t)tail->base, tail->size, (uintptr_t)tail | SA_PM_LARGE) != 0) {
        sa_meta_free(tail, sizeof *tail);
        return d;
    }
    d->size = head;
    registry_add(tail);
    cache_put(tail);
    return d;
}

/* The biggest cached block that kept its pages and is smaller than size
 * bytes but at least half of it, for a request of a big block
 * (SA_LARGE_POPULATE_MAX and up) that no cached block holds: or NULL. */
static sa_large *cache_take_smaller(size_t size)
{
    if (size <= SA_LARGE_POPULATE_MAX || !__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED))
        return NULL;
    sa_lock_acquire(&large_lock);
    unsigned best = ncached;
    for (unsigned i = 0; i < ncached; i++)
        if (cache[i]->resident && cache[i]->size < size && cache[i]->size >= size / 2 &&
            (best == ncached || cache[i]->size > cache[best]->size))
            best = i;
    return take_unlock(best);
}

/* A big malloc'd block made of a smaller cached one that kept its pages,
 * grown by mremap (in place, or its pages moved: no copy): the program
 * writes its start first, where the pages are resident.  A program
 * replacing 5..25 MiB blocks one at a time (the suite's malloc-large)
 * found the block it had just freed too small for the next one half the
 * time, and faulted every page it wrote in afresh: 239k -> 204k page
 * faults (glibc 140k, at 1.56x our peak RSS).  Not for calloc: a big
 * calloc'd array is often written in part (bufgrow: +1% peak RSS, the
 * old block's pages it never wrote), and a fresh one stays lazy.  NULL
 * if there is no such block or mremap refused (then the block is cached
 * again). */
/* A malloc'd block of SA_LARGE_HUGE_MIN or more is backed by transparent
 * huge pages where the system allows it (MADV_HUGEPAGE; Debian's default
 * THP mode is madvise): a program writing a 25 MiB buffer takes 13 page
 * faults, not 6,400, each a few microseconds on this VM (mimalloc-bench's
 * malloc-large: 1.82 M page faults and 5.2 s, glibc 0.37 M and 2.5 s;
 * with huge pages 0.24 M and 3.3-4.3 s, peak RSS 285 -> 320 MB, glibc's
 * 440 MB).  Not calloc's: big calloc'd arrays are often sparse, and a
 * huge page makes a touched byte cost 2 MiB (bufgrow's partly written
 * arrays peaked at 1.25-1.34x glibc's RSS with them).  The cost for a
 * malloc'd buffer written in part is at most one huge page past its
 * written end. */
static void huge_advice(void *base, size_t size)
{
    if (size >= SA_LARGE_HUGE_MIN)
        sa_os_hugepages(base, size);
}

static void *alloc_grown(size_t n, size_t size, size_t align)
{
    if (align > SA_ARENA_SIZE)
        return NULL;
    sa_large *d = cache_take_smaller(size);
    if (!d)
        return NULL;
    size_t old = d->size;
    account(1, (long)old);
    if (!grow_in_place(d, n, size, 0) && !move_pages(d, n, size, 0)) {
        account(-1, -(long)old);
        d->live = 0;
        cache_put(d);
        return NULL;
    }
    huge_advice(d->base, size);
    __atomic_fetch_add(&total_allocs, 1, __ATOMIC_RELAXED);
    grew(size - old);
    return d->base;
}

/* Whether a fresh calloc'd block of up to SA_LARGE_POPULATE_MAX is
 * faulted in by one system call.  A program that reads its calloc'd
 * arrays and writes them (the realloc bench checks them for zeros, then
 * fills them) takes two faults a page on a lazy block, and populating
 * saves both; one that uses them sparsely (git's 512 KiB hash tables;
 * bufgrow's arrays, written in part) pays for pages it never touches:
 * git status faulted in 385 pages to glibc's 196, bufgrow peaked at
 * 1.24x glibc's RSS.  So the program shows which it does: every 8th such
 * calloc (the first too) is left lazy and sampled, and its free counts
 * the pages touched (mincore); a sample touched in 3/4 or more raises the
 * score, another lowers it (within +-4), and the blocks in between are
 * populated while the score is positive. */
static int calloc_score;
static unsigned calloc_count;

static int calloc_populates(sa_large *d)
{
    unsigned k = __atomic_fetch_add(&calloc_count, 1, __ATOMIC_RELAXED);
    if (k % SA_CALLOC_SAMPLE != 0 && __atomic_load_n(&calloc_score, __ATOMIC_RELAXED) > 0)
        return 1;
    d->sampled = 1;
    return 0;
}

/* At the free of a sampled block: how much of it the program touched. */
static void calloc_learn(sa_large *d)
{
    unsigned char vec[SA_LARGE_POPULATE_MAX / SA_PAGE];
    size_t pages = (d->want + SA_PAGE - 1) / SA_PAGE, touched = 0;
    d->sampled = 0;
    int saved = errno, failed = pages > sizeof vec || mincore(d->base, pages * SA_PAGE, vec) != 0;
    errno = saved;
    if (failed)
        return;
    for (size_t i = 0; i < pages; i++)
        touched += vec[i] & 1;
    int score = __atomic_load_n(&calloc_score, __ATOMIC_RELAXED);
    score += touched * 4 >= pages * 3 ? 1 : -1;
    if (score >= -4 && score <= 4)
        __atomic_store_n(&calloc_score, score, __ATOMIC_RELAXED);
}

void *sa_large_alloc(size_t n, size_t align, int zero)
{
    if (n > PTRDIFF_MAX - 2 * (size_t)SA_ARENA_SIZE || align > ((size_t)1 << 40)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t size = sa_os_page_round(n ? n : 1);
    if (align < SA_ARENA_SIZE)
        align = SA_ARENA_SIZE;
    int fresh = 0;
    sa_large *d = cache_take(size, align);
    if (!d)
        d = cache_take_split(size, align);
    if (!d && !zero) {
        void *p = alloc_grown(n, size, align);
        if (p)
            return p;
    }
    int resident = d && d->resident;
    if (resident) {
        if (zero)   /* released pages read as zeros */
            sa_large_zero_dirty(d->base, n);
        /* A big block up to twice the size asked for: its pages past the
         * size would stay resident unused (1.2 MB of bufgrow's peak).
         * Small ones keep them: a program that callocs arrays of up to
         * 256 KiB at random sizes (the realloc bench) faulted them in
         * again at the next bigger one, 3.4 times the page faults. */
        if (size > SA_LARGE_POPULATE_MAX && d->size > size)
            sa_os_discard(d->base + size, d->size - size);
    } else if (!d) {
        d = sa_meta_alloc(sizeof *d);
        if (!d) {
            errno = ENOMEM;
            return NULL;
        }
        d->base = map_retry(size, align);
        if (!d->base) {
            sa_meta_free(d, sizeof *d);
            errno = ENOMEM;
            return NULL;
        }
        if (!zero)
            huge_advice(d->base, size);
        d->size = size;
        d->live = 1;
        d->sampled = 0;
        if (sa_pagemap_set((uintptr_t)d->base, size, (uintptr_t)d | SA_PM_LARGE) != 0) {
            sa_os_unmap(d->base, size);
            sa_meta_free(d, sizeof *d);
            errno = ENOMEM;
            return NULL;
        }
        registry_add(d);
        fresh = 1;
    }
    /* calloc'd memory is read (the zero page mapped in, a fault a page)
     * and then written (a copy-on-write fault a page): one system call
     * does both for blocks the size of those glibc serves from its heap,
     * where calloc would clear them and make them resident anyway.  Bigger
     * ones stay lazy: sparse tables rely on that. */
    if (zero && !resident && size <= SA_LARGE_POPULATE_MAX && calloc_populates(d))
        sa_os_populate(d->base, size);
    d->tag.id = 0;
    d->want = n;
    account(1, (long)d->size);
    __atomic_fetch_add(&total_allocs, 1, __ATOMIC_RELAXED);
    if (fresh)
        grew(size);
    return d->base;
}

void sa_large_free(sa_large *d, void *p)
{
    if (SA_UNLIKELY(p != d->base))
        sa_misuse("free()", "invalid pointer", p);
    if (SA_UNLIKELY(!__atomic_exchange_n(&d->live, 0, __ATOMIC_ACQ_REL)))
        sa_misuse("free()", "double free detected", p);
    account(-1, -(long)d->size);
    __atomic_fetch_add(&total_frees, 1, __ATOMIC_RELAXED);
    if (d->sampled)
        calloc_learn(d);
    if (d->size > SA_LARGE_CACHE_MAXBLK) {
        unmap_block(d);
        return;
    }
    cache_put(d);
}

/* Cache d (not live, its pages resident), the oldest entries unmapped if
 * the cache is full. */
static void cache_put(sa_large *d)
{
    sa_large *evict[SA_LARGE_CACHE_SLOTS];
    unsigned nevict = 0;
    sa_lock_acquire(&large_lock);
    while (ncached && (ncached == SA_LARGE_CACHE_SLOTS ||
                       cached_bytes + d->size > SA_LARGE_CACHE_BYTES)) {
        evict[nevict++] = cache[0];
        cached_bytes -= cache[0]->size;
        if (cache[0]->resident)
            resident_bytes -= cache[0]->size;
        memmove(&cache[0], &cache[1], --ncached * sizeof cache[0]);
    }
    cache[ncached++] = d;
    cached_bytes += d->size;
    __atomic_store_n(&used_at, sa_growth_now(), __ATOMIC_RELAXED);
    d->resident = 1;
    d->cached_ms = sa_os_now_ms();
    resident_bytes += d->size;
    cache_shed();
    sa_check(cache_check());
    sa_lock_release(&large_lock);
    /* Syscalls outside the lock. */
    while (nevict)
        unmap_block(evict[--nevict]);
}

/* The arenas grew by `pages` fresh pages while the cache sat unused:
 * as many of its resident bytes go (oldest first), keeping the mappings.
 * The cache's pages could not serve that growth, and kept on top of it
 * they add to the peak; shedding all of them at once (as before) made a
 * program that mixes small blocks with large calloc'd arrays fault in
 * every array each round. */
static void cache_release(uint64_t now)
{
    sa_lock_acquire(&large_lock);
    uint64_t since = used_at > shed_at ? used_at : shed_at;
    if (now > since && now - since >= SA_IDLE_PAGES) {
        uint64_t owed = now - since >= UINT64_MAX / SA_PAGE ? UINT64_MAX : (now - since) * SA_PAGE;
        for (unsigned i = 0; i < ncached && owed && resident_bytes; i++)
            if (cache[i]->resident) {
                owed = owed > cache[i]->size ? owed - cache[i]->size : 0;
                cache_discard(i);
            }
        shed_at = now;
    }
    sa_check(cache_check());
    sa_lock_release(&large_lock);
}

void sa_large_heap_grew(uint64_t now)
{
    /* Cheap when there is nothing to do: this runs whenever an arena run
     * is taken on fresh pages. */
    uint64_t used = __atomic_load_n(&used_at, __ATOMIC_RELAXED);
    uint64_t shed = __atomic_load_n(&shed_at, __ATOMIC_RELAXED);
    if (__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED) &&
        now - (used > shed ? used : shed) >= SA_IDLE_PAGES)
        cache_release(now);
}

/* The large path faulted in pages: let go of idle memory (no lock held).
 * The arenas' idle pages go by the growth clock; the cache's by its budget
 * (live + cached dirty <= the live peak), which the growth lowered: a
 * fresh block that no cached one could serve must not make the cached
 * ones go (every miss of 256 KiB or more emptied the cache of its pages,
 * and a program calloc'ing arrays of varied sizes faulted in all of them
 * every round). */
static void grew(size_t bytes)
{
    uint64_t now = sa_growth_advance(bytes / SA_PAGE);
    sa_arena_heap_grew(now);
    if (!__atomic_load_n(&resident_bytes, __ATOMIC_RELAXED))
        return;
    sa_lock_acquire(&large_lock);
    cache_shed();
    sa_check(cache_check());
    sa_lock_release(&large_lock);
}

/* A block grown by realloc from old to size bytes: the program is about
 * to write past its old end, so the pages there are faulted in by one
 * system call instead of a fault each (half the cost a page in a VM).
 * At most old / 4: a block grown by 1.25x (a buffer appended to) is
 * filled whole, one doubled (a vector's capacity) may not be, and its
 * untouched pages should not count in the resident set (sqlite3's sorter
 * doubles its buffer and fills the last one partly: 2,700 pages populated
 * for nothing when the whole growth was). */
static void populate_growth(char *base, size_t old, size_t size)
{
    size_t len = size - old, cap = (old / 4) & ~(size_t)(SA_PAGE - 1);
    sa_os_populate(base + old, len < cap ? len : cap);
}

/* realloc's shrink of d by at least half, in place: the freed tail
 * granules are no longer ours.  Their entries are cleared before the
 * pages are unmapped: once unmapped, another thread may map a block there
 * and register it, and clearing after that made its free() and realloc()
 * take it for a foreign pointer (a leak, and a realloc that kept one page
 * of the contents). */
static void shrink_in_place(sa_large *d, size_t n, size_t size)
{
    size_t old = d->size;
    uintptr_t keep = ((uintptr_t)d->base + size + SA_ARENA_SIZE - 1) & ~(uintptr_t)(SA_ARENA_SIZE - 1);
    uintptr_t end = (uintptr_t)d->base + old;
    if (end > keep)
        sa_pagemap_set(keep, end - keep, 0);
    d->size = size;
    sa_os_unmap(d->base + size, old - size);
    d->want = n;
    account(0, -(long)(old - size));
}

/* realloc's growth of d to size bytes when the neighbouring pages are
 * free: 1 done, 0 not possible (d unchanged).  populate: fault in the
 * start of the growth (populate_growth), as for a realloc. */
static int grow_in_place(sa_large *d, size_t n, size_t size, int populate)
{
    size_t old = d->size;
    if (sa_os_remap_inplace(d->base, old, size) != 0)
        return 0;
    if (sa_pagemap_set((uintptr_t)d->base, size, (uintptr_t)d | SA_PM_LARGE) != 0) {
        sa_os_remap_inplace(d->base, size, old);
        return 0;
    }
    if (populate)
        populate_growth(d->base, old, size);
    d->size = size;
    d->want = n;
    account(0, (long)(size - old));
    return 1;
}

/* realloc's growth of d by moving its pages to a fresh aligned place: no
 * copy.  The old range's entries are cleared before mremap unmaps it, for
 * the reason shrink_in_place clears the tail's first (the block is the
 * caller's: no other thread may look it up meanwhile).  The destination
 * is mapped accountable, not reserved PROT_NONE: the kernel refuses a size
 * it cannot back here, before the page map is asked to describe it (a
 * realloc to 2^46 bytes mapped 174 GB of page-map leaves and wrote 2 GB
 * of entries before mremap refused it).  The new address, or NULL (d
 * unchanged). */
static void *move_pages(sa_large *d, size_t n, size_t size, int populate)
{
    size_t old = d->size;
    void *dest = map_retry(size, SA_ARENA_SIZE);
    if (!dest)
        return NULL;
    if (sa_pagemap_set((uintptr_t)dest, size, (uintptr_t)d | SA_PM_LARGE) == 0) {
        sa_pagemap_set((uintptr_t)d->base, old, 0);
        if (sa_os_remap_to(d->base, old, size, dest) == dest) {
            if (populate)
                populate_growth(dest, old, size);
            d->base = dest;
            d->size = size;
            d->want = n;
            account(0, (long)(size - old));
            return dest;
        }
        /* The old range is still mapped, ours, and its leaves exist: this
         * cannot fail. */
        sa_pagemap_set((uintptr_t)d->base, old, (uintptr_t)d | SA_PM_LARGE);
    }
    sa_pagemap_set((uintptr_t)dest, size, 0);
    sa_os_unmap(dest, size);
    return NULL;
}

void *sa_large_realloc(sa_large *d, void *p, size_t n)
{
    if (n > PTRDIFF_MAX - 2 * (size_t)SA_ARENA_SIZE) {
        errno = ENOMEM;   /* before sa_os_page_round, which would wrap */
        return NULL;
    }
    size_t old = d->size, size = sa_os_page_round(n);
    d->sampled = 0;   /* no longer the calloc'd block it was */
    if (size <= old && (n >= d->want || size >= old / 2)) {
        /* Growing into the block's room (it may have come bigger from
         * the cache, below), or shrinking by less than half: stay. */
        d->want = n;
        return p;
    }
    if (size < old) {
        shrink_in_place(d, n, size);
        return p;
    }
    /* Growing: a cached block that kept its pages takes the contents.  A
     * copy costs less than the page faults of fresh pages, and a program
     * that builds a buffer by realloc over and over (CPython's string and
     * list growth: 19k page faults against glibc's 4.6k, which reuses its
     * freed chunks) reuses the buffer of the last time. */
    sa_large *c = cache_take_resident(size);
    if (c) {
        memcpy(c->base, p, old);
        c->want = n;
        account(1, (long)c->size);
        __atomic_fetch_add(&total_allocs, 1, __ATOMIC_RELAXED);
        sa_large_free(d, p);
        return c->base;
    }
    grew(size - old);
    if (grow_in_place(d, n, size, 1))
        return p;
    void *dest = move_pages(d, n, size, 1);
    if (dest)
        return dest;
    /* mremap refused: under an address-space limit (ulimit -v) it wants
     * room for the reservation and the growth at once.  A fresh block
     * and a copy need only the new block's. */
    void *q = sa_large_alloc(n, 0, 0);
    if (q) {
        memcpy(q, p, old);
        sa_large_free(d, p);
    }
    return q;
}

void sa_large_get_counts(sa_large_counts *out)
{
    out->live_blocks = __atomic_load_n(&live_blocks, __ATOMIC_RELAXED);
    out->live_bytes = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    out->total_allocs = __atomic_load_n(&total_allocs, __ATOMIC_RELAXED);
    out->total_frees = __atomic_load_n(&total_frees, __ATOMIC_RELAXED);
    sa_lock_acquire(&large_lock);
    out->cached_blocks = ncached;
    out->cached_bytes = cached_bytes;
    out->resident_bytes = resident_bytes;
    sa_lock_release(&large_lock);
}

int sa_large_trim(void)
{
    sa_large *evict[SA_LARGE_CACHE_SLOTS];
    sa_lock_acquire(&large_lock);
    unsigned n = ncached;
    memcpy(evict, cache, n * sizeof cache[0]);
    ncached = 0;
    cached_bytes = 0;
    resident_bytes = 0;
    sa_check(cache_check());
    sa_lock_release(&large_lock);
    for (unsigned i = 0; i < n; i++)
        unmap_block(evict[i]);
    return n > 0;
}

void sa_large_foreach(void (*fn)(sa_large *d, void *ctx), void *ctx)
{
    sa_lock_acquire(&large_lock);
    for (sa_large *d = all_large; d; d = d->next)
        if (__atomic_load_n(&d->live, __ATOMIC_ACQUIRE))
            fn(d, ctx);
    sa_lock_release(&large_lock);
}

/* ---- invariants (alloc/check.h) -------------------------------------- */

/* Under large_lock: the registry is a doubly linked list (the prev links
 * rule out a cycle) of granule-aligned, page-rounded mappings.  (A live block's fields may
 * change under its owner's realloc without the lock, between values that
 * keep these properties.) */
static void registry_check(void)
{
    for (const sa_large *d = all_large, *prev = NULL; d; prev = d, d = d->next) {
        sa_assert(d->prev == prev);
        const char *base = __atomic_load_n(&d->base, __ATOMIC_RELAXED);
        size_t size = __atomic_load_n(&d->size, __ATOMIC_RELAXED);
        sa_assert(((uintptr_t)base & (SA_ARENA_SIZE - 1)) == 0);
        sa_assert(size != 0 && size % SA_PAGE == 0);
    }
    cache_check();
}

/* Under large_lock: the cache holds blocks that are not live, distinct,
 * within its bounds, still ours in the page map; the byte counts are its
 * entries' sums. */
static void cache_check(void)
{
    size_t bytes = 0, resident = 0;
    sa_assert(ncached <= SA_LARGE_CACHE_SLOTS);
    for (unsigned i = 0; i < ncached; i++) {
        const sa_large *c = cache[i];
        sa_assert(!__atomic_load_n(&c->live, __ATOMIC_RELAXED));
        sa_assert(c->size <= SA_LARGE_CACHE_MAXBLK && c->size % SA_PAGE == 0);
        sa_assert(sa_pagemap_get(c->base) == ((uintptr_t)c | SA_PM_LARGE));
        sa_assert(sa_pagemap_get(c->base + c->size - 1) == ((uintptr_t)c | SA_PM_LARGE));
        /* Distinct and disjoint: a split's head and tail do not overlap. */
        for (unsigned j = 0; j < i; j++)
            sa_assert(cache[j]->base + cache[j]->size <= c->base ||
                      c->base + c->size <= cache[j]->base);
        bytes += c->size;
        resident += c->resident ? c->size : 0;
    }
    sa_assert(bytes == cached_bytes && bytes <= SA_LARGE_CACHE_BYTES);
    sa_assert(resident == resident_bytes && resident <= SA_LARGE_DIRTY_MAX);
}

void sa_large_check(void)
{
    sa_lock_acquire(&large_lock);
    registry_check();
    sa_lock_release(&large_lock);
}

void sa_large_prefork(void) { sa_lock_acquire(&large_lock); }
void sa_large_postfork_parent(void) { sa_lock_release(&large_lock); }
void sa_large_postfork_child(void) { sa_lock_reinit(&large_lock); }
