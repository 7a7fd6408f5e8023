/* arena.c - arenas: page runs, the fullest-first ordering, and giving
 * wholly free arenas back to the OS (see arena.h for the model). */
#include <errno.h>
#include <string.h>

#include "arena.h"
#include "lock.h"
#include "meta.h"
#include "os.h"
#include "pagemap.h"
#include "sizeclass.h"

#define MAX_FREE   (SA_ARENA_PAGES - 1)      /* 63 */

static sa_lock arena_lock = SA_LOCK_INIT;
/* buckets[k]: arenas with exactly k free pages.  nonempty bit k <=> buckets[k]. */
static sa_arena *buckets[SA_ARENA_PAGES];
static uint64_t nonempty;
static sa_arena_counts counts;
static unsigned next_color;

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

static sa_arena *arena_new(void)
{
    char *base = sa_os_map(SA_ARENA_SIZE, SA_ARENA_SIZE);
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
    a->free_mask = ~((uint64_t)1 << color);
    a->nfree = MAX_FREE;
    bucket_push(a);
    counts.allocated_total++;
    if (++counts.current > counts.highwater)
        counts.highwater = counts.current;
    return a;
}

static void arena_release(sa_arena *a)
{
    bucket_unlink(a);
    char *base = sa_arena_base(a);
    sa_pagemap_set((uintptr_t)base, SA_ARENA_SIZE, 0);
    sa_os_unmap(base, SA_ARENA_SIZE);
    counts.reclaimed++;
    counts.current--;
}

/* First page of a run of n free pages in a, or SA_NO_RUN. */
static unsigned find_run(const sa_arena *a, unsigned n)
{
    uint64_t m = a->free_mask;
    for (unsigned i = 1; i < n && m; i++)
        m &= a->free_mask >> i;
    return m ? (unsigned)__builtin_ctzll(m) : SA_NO_RUN;
}

static sa_arena *pick_arena(unsigned n, unsigned *first)
{
    unsigned looked = 0;
    uint64_t cand = nonempty & ~(((uint64_t)1 << n) - 1);
    while (cand) {
        unsigned k = (unsigned)__builtin_ctzll(cand);
        cand &= cand - 1;
        for (sa_arena *a = buckets[k]; a; a = a->next) {
            if ((*first = find_run(a, n)) != SA_NO_RUN)
                return a;
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

sa_pool *sa_arena_take_pool(unsigned cls)
{
    unsigned n = sa_classes[cls].pages, first = SA_NO_RUN;
    sa_lock_acquire(&arena_lock);
    sa_arena *a = pick_arena(n, &first);
    if (!a) {
        sa_lock_release(&arena_lock);
        return NULL;
    }
    uint64_t run = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << first;
    bucket_unlink(a);
    a->free_mask &= ~run;
    a->nfree -= n;
    bucket_push(a);
    for (unsigned i = 0; i < n; i++)
        a->run_start[first + i] = (uint8_t)first;
    sa_pool *pool = &a->pools[first];
    pool->free = NULL;
    pool->next = pool->prev = NULL;
    pool->heap = NULL;
    pool->trace = NULL;
    pool->carve = 0;
    pool->limit = sa_classes[cls].capacity * sa_classes[cls].size;
    pool->used = 0;
    pool->cls = (uint8_t)cls;
    pool->state = SA_POOL_USED;
    sa_lock_release(&arena_lock);
    return pool;
}

void sa_arena_return_pool(sa_pool *pool)
{
    sa_arena *a = sa_pool_arena(pool);
    unsigned first = (unsigned)(pool - a->pools);
    unsigned cls = pool->cls, n = sa_classes[cls].pages;
    sa_trace_rec *trace = pool->trace;
    uint64_t run = (((uint64_t)1 << n) - 1) << first;

    sa_lock_acquire(&arena_lock);
    pool->state = SA_POOL_EMPTY;
    pool->heap = NULL;
    pool->trace = NULL;
    pool->free = NULL;
    for (unsigned i = 0; i < n; i++)
        a->run_start[first + i] = SA_NO_RUN;
    bucket_unlink(a);
    a->free_mask |= run;
    a->nfree += n;
    bucket_push(a);
    /* Keep SA_SPARE_ARENAS wholly free arenas: the next one goes back. */
    if (a->nfree == MAX_FREE && a->next)
        arena_release(a);
    sa_lock_release(&arena_lock);
    if (trace)
        sa_meta_free(trace, sa_classes[cls].capacity * sizeof(sa_trace_rec));
}

int sa_arena_trim(void)
{
    int released = 0;
    sa_lock_acquire(&arena_lock);
    while (buckets[MAX_FREE]) {
        arena_release(buckets[MAX_FREE]);
        released = 1;
    }
    for (unsigned k = 1; k < MAX_FREE; k++)
        for (sa_arena *a = buckets[k]; a; a = a->next) {
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
    sa_lock_release(&arena_lock);
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

void sa_arena_prefork(void) { sa_lock_acquire(&arena_lock); }
void sa_arena_postfork_parent(void) { sa_lock_release(&arena_lock); }
void sa_arena_postfork_child(void) { sa_lock_reinit(&arena_lock); }
