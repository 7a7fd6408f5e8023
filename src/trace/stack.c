/* trace/stack.c - the interned stack table: each distinct stack stored
 * once, with the live size and count found by the last recount.
 *
 *   index (open addressing)        stack records (chunks of 64Ki)     frame arena (1 MiB chunks)
 *   +---+---+---+---+---+           chunk[idx >> 16][idx & 0xffff]     +------------------------+
 *   | 0 | 7 | 0 | 3 | 0 |  ---idx-> { size, count, frames, hash,  ---> | f0 f1 f2 ... | f0 f1 ...|
 *   +---+---+---+---+---+             nframes, gen }                   +------------------------+
 *
 * Lookup of a known stack, the common case, takes no lock: hash the
 * frames, probe the index (an array of uint32 stack indexes, linear
 * probing), compare.  A miss takes the insertion lock, probes again and
 * appends a record; nothing under the lock allocates (memory comes from
 * sa_os_map).  Slots are published with a release store after the record
 * is complete, so a reader that sees an index sees the record.
 *
 * Growth: the index doubles (4Ki .. 32Mi slots, load <= 1/2) into a new
 * mapping; the old one is emptied with sa_os_discard but stays mapped, so a
 * reader still probing it reads zeros and falls back to the locked path.
 * Records and arena chunks are never unmapped either, for the same reason:
 * a reset (new generation) rewinds them and reuses the memory.  A reader
 * racing a reset may compare against a record being rewritten: arena
 * chunks carry a tail of SNAPALLOC_MAX_FRAMES words so such a read stays
 * inside mapped memory, and the tracer re-checks the generation after
 * counting (trace/trace.c).
 */
#include "trace/stack.h"
#include "trace/sample.h"

#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "common/assert.h"
#include "common/lock.h"
#include "common/os.h"
#include "snapalloc.h"

#define REC_BITS      SA_STACK_REC_BITS
#define REC_PER_CHUNK (1u << REC_BITS)
#define REC_CHUNKS    SA_STACK_REC_CHUNKS
#define REC_CHUNK_BYTES (REC_PER_CHUNK * sizeof(sa_stack))

#define ARENA_BYTES   (1u << 20)
#define ARENA_WORDS   (ARENA_BYTES / sizeof(uintptr_t))
#define ARENA_MAP     (ARENA_BYTES + SNAPALLOC_MAX_FRAMES * sizeof(uintptr_t) + SA_OS_PAGE)
#define ARENA_MAX     16384   /* 16 GiB of frames: 16Mi stacks of 128 frames */

#define INDEX_MIN_BITS 12
#define INDEX_LEVELS   (SA_STACK_INDEX_BITS + 2 - INDEX_MIN_BITS)   /* up to 2^25 slots */

_Static_assert(sizeof(sa_stack) == 32, "stack records are 32 bytes");
_Static_assert(REC_CHUNK_BYTES % SA_OS_PAGE == 0, "record chunks are whole pages");

static sa_lock stack_lock = SA_LOCK_INIT;

sa_stack *sa_stack_chunks[REC_CHUNKS];
static uintptr_t *arena[ARENA_MAX];
static uint32_t arena_cur, arena_used;   /* chunk being filled, words used in it */

static struct { uint32_t *slots; uint32_t mask; } index_tab[INDEX_LEVELS];
static int index_level;          /* atomic: the level readers use */
uint32_t sa_stack_last;          /* atomic: last index handed out */
uint8_t sa_stack_gen_now = 1;    /* atomic; 1..255 */
static size_t mapped;            /* atomic */

static void table_check(void);
static void entry_check(uint32_t idx);

/* ---- Per-thread caches of the traced current -------------------------
 *
 * A thread's cache is folded into the total and put up for reuse when the
 * thread exits; caches are never unmapped, so a reader can always walk
 * the list.
 */

static sa_stack_tc *all_caches;     /* atomic push only */
static sa_stack_tc *free_caches;    /* under stack_lock */
SA_TLS sa_stack_tc *sa_stack_my_tc;
static pthread_key_t cache_key;
static int cache_key_state;      /* 0 unset, 1 ok, -1 failed */

int sa_stack_tc_live;

int64_t sa_stack_pending_current(uint8_t gen)
{
    int64_t sum = 0;
    for (sa_stack_tc *c = __atomic_load_n(&all_caches, __ATOMIC_ACQUIRE); c; c = c->next)
        if (__atomic_load_n(&c->current_gen, __ATOMIC_ACQUIRE) == gen)
            sum += __atomic_load_n(&c->current, __ATOMIC_RELAXED);
    return sum;
}

static void tc_thread_exit(void *arg)
{
    sa_stack_tc *c = arg;
    sa_trace_current_fold(c);
    sa_stack_my_tc = NULL;
    __atomic_fetch_sub(&sa_stack_tc_live, 1, __ATOMIC_RELAXED);
    sa_lock_acquire(&stack_lock);
    c->in_use = 0;
    c->next_free = free_caches;
    free_caches = c;
    sa_lock_release(&stack_lock);
}

sa_stack_tc *sa_stack_tc_get(void)
{
    sa_stack_tc *c = sa_stack_my_tc;
    if (c)
        return c;
    sa_lock_acquire(&stack_lock);
    if (!cache_key_state)
        cache_key_state = pthread_key_create(&cache_key, tc_thread_exit) == 0 ? 1 : -1;
    if ((c = free_caches) != NULL) {
        free_caches = c->next_free;
        c->in_use = 1;
    }
    sa_lock_release(&stack_lock);
    if (!c) {
        c = sa_os_map(SA_OS_PAGE, SA_OS_PAGE);
        if (!c)
            return NULL;
        __atomic_fetch_add(&mapped, SA_OS_PAGE, __ATOMIC_RELAXED);
        c->in_use = 1;
        sa_stack_tc *head = __atomic_load_n(&all_caches, __ATOMIC_RELAXED);
        do {
            c->next = head;
        } while (!__atomic_compare_exchange_n(&all_caches, &head, c, 1,
                                              __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    }
    sa_stack_my_tc = c;
    __atomic_fetch_add(&sa_stack_tc_live, 1, __ATOMIC_RELAXED);
    /* May allocate (the caller holds the tracer's reentrancy guard). */
    if (cache_key_state == 1)
        pthread_setspecific(cache_key, c);
    return c;
}
_Static_assert(sizeof(sa_stack_tc) <= SA_OS_PAGE, "a thread's cache fits a page");

static inline uint32_t hash_frames(const uintptr_t *f, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ f[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    return (uint32_t)h;
}

static void *map_counted(size_t size)
{
    void *p = sa_os_map(size, SA_OS_PAGE);
    if (p)
        __atomic_fetch_add(&mapped, size, __ATOMIC_RELAXED);
    return p;
}

static size_t index_bytes(int level)
{
    return ((size_t)1 << (INDEX_MIN_BITS + level)) * sizeof(uint32_t);
}

/* Probe the current index for frames; 0 if absent. */
static uint32_t lookup(const uintptr_t *frames, uint32_t n, uint32_t h, uint8_t gen)
{
    int level = __atomic_load_n(&index_level, __ATOMIC_ACQUIRE);
    uint32_t *slots = index_tab[level].slots;
    uint32_t mask = index_tab[level].mask;
    if (!slots)
        return 0;
    for (uint32_t i = h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
        uint32_t idx = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
        if (idx == 0)
            return 0;
        const sa_stack *s = sa_stack_at(idx);
        if (s->hash == h && s->nframes == n
            && __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) == gen
            && memcmp(s->frames, frames, n * sizeof *frames) == 0)
            return idx;
    }
    return 0;
}

static void slot_insert(uint32_t *slots, uint32_t mask, uint32_t h, uint32_t idx)
{
    uint32_t i = h & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    __atomic_store_n(&slots[i], idx, __ATOMIC_RELEASE);
}

/* Under stack_lock: make sure the index has room for n stacks at load
 * <= 1/2.  Returns 0 or -1. */
static int index_reserve(uint32_t n)
{
    int level = index_level;
    if (index_tab[level].slots && (uint64_t)n * 2 <= (uint64_t)index_tab[level].mask + 1)
        return 0;
    int next = index_tab[level].slots ? level + 1 : level;
    if (next >= INDEX_LEVELS)
        return -1;
    if (!index_tab[next].slots) {
        uint32_t *slots = map_counted(index_bytes(next));
        if (!slots)
            return -1;
        index_tab[next].slots = slots;
        index_tab[next].mask = (1u << (INDEX_MIN_BITS + next)) - 1;
    }
    if (next != level) {
        uint32_t *slots = index_tab[next].slots, mask = index_tab[next].mask;
        for (uint32_t idx = 1; idx <= sa_stack_last; idx++)
            slot_insert(slots, mask, sa_stack_at(idx)->hash, idx);
        __atomic_store_n(&index_level, next, __ATOMIC_RELEASE);
        sa_os_discard(index_tab[level].slots, index_bytes(level));
        sa_check(table_check());   /* every stack rehashed: amortised O(1) */
    }
    return 0;
}

/* Under stack_lock: room for n frames in the arena. */
static uintptr_t *arena_take(uint32_t n)
{
    if (arena[arena_cur] && arena_used + n > ARENA_WORDS) {
        if (arena_cur + 1 >= ARENA_MAX)
            return NULL;
        arena_cur++;
        arena_used = 0;
    }
    if (!arena[arena_cur]) {
        arena[arena_cur] = map_counted(ARENA_MAP & ~(size_t)(SA_OS_PAGE - 1));
        if (!arena[arena_cur])
            return NULL;
        arena_used = 0;
    }
    uintptr_t *p = arena[arena_cur] + arena_used;
    arena_used += n;
    return p;
}

static uint32_t insert(const uintptr_t *frames, uint32_t n, uint32_t h, uint8_t gen)
{
    uint32_t idx = sa_stack_last + 1;
    if (idx >= SA_STACK_INDEX_MASK)   /* the last index is SA_TRACE_OWN's */
        return 0;
    if (index_reserve(idx) != 0)
        return 0;
    if (!sa_stack_chunks[idx >> REC_BITS]) {
        sa_stack *chunk = map_counted(REC_CHUNK_BYTES);
        if (!chunk)
            return 0;
        __atomic_store_n(&sa_stack_chunks[idx >> REC_BITS], chunk, __ATOMIC_RELEASE);
    }
    uintptr_t *copy = arena_take(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, frames, n * sizeof *frames);
    sa_stack *s = sa_stack_at(idx);
    __atomic_store_n(&s->gen, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->size, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
    s->frames = copy;
    s->hash = h;
    s->nframes = (uint16_t)n;
    __atomic_store_n(&s->gen, gen, __ATOMIC_RELEASE);
    __atomic_store_n(&sa_stack_last, idx, __ATOMIC_RELEASE);
    int level = index_level;
    slot_insert(index_tab[level].slots, index_tab[level].mask, h, idx);
    sa_check(entry_check(idx));
    return idx;
}

uint32_t sa_stack_intern(const uintptr_t *frames, uint32_t n)
{
    if (n > SNAPALLOC_MAX_FRAMES)
        n = SNAPALLOC_MAX_FRAMES;
    uint32_t h = hash_frames(frames, n);
    uint8_t gen = __atomic_load_n(&sa_stack_gen_now, __ATOMIC_ACQUIRE);
    uint32_t idx = lookup(frames, n, h, gen);
    if (SA_UNLIKELY(idx == 0)) {
        sa_lock_acquire(&stack_lock);
        gen = sa_stack_gen_now;
        idx = lookup(frames, n, h, gen);
        if (idx == 0)
            idx = insert(frames, n, h, gen);
        sa_assert(idx <= sa_stack_last);
        sa_lock_release(&stack_lock);
        if (idx == 0)
            return 0;
    }
    return ((uint32_t)gen << SA_STACK_INDEX_BITS) | idx;
}

void sa_stack_reset(void)
{
    sa_lock_acquire(&stack_lock);
    uint8_t gen = sa_stack_gen_now == 255 ? 1 : (uint8_t)(sa_stack_gen_now + 1);
    __atomic_store_n(&sa_stack_gen_now, gen, __ATOMIC_RELEASE);
    __atomic_store_n(&sa_stack_last, 0, __ATOMIC_RELEASE);
    arena_cur = 0;
    arena_used = 0;
    int level = index_level;
    if (index_tab[level].slots)
        sa_os_discard(index_tab[level].slots, index_bytes(level));
    sa_check(table_check());
    sa_lock_release(&stack_lock);
}

void sa_stack_clear_totals(void)
{
    uint8_t gen = __atomic_load_n(&sa_stack_gen_now, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&sa_stack_last, __ATOMIC_ACQUIRE);
    for (uint32_t idx = 1; idx <= n; idx++) {
        sa_stack *s = sa_stack_at(idx);
        if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) == gen) {
            __atomic_store_n(&s->size, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
        }
    }
}

int sa_stack_next(uint32_t *cursor, sa_snap_wstack *out)
{
    uint8_t gen = __atomic_load_n(&sa_stack_gen_now, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&sa_stack_last, __ATOMIC_ACQUIRE);
    while (*cursor < n) {
        uint32_t idx = ++*cursor;
        const sa_stack *s = sa_stack_at(idx);
        if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != gen)
            continue;
        int64_t count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
        int64_t size = __atomic_load_n(&s->size, __ATOMIC_RELAXED);
        if (count <= 0)
            continue;
        out->nframes = s->nframes;
        out->frames = s->frames;
        out->size = size > 0 ? (uint64_t)size : 0;
        out->count = (uint64_t)count;
        if (__atomic_load_n(&sa_trace_sample, __ATOMIC_RELAXED))   /* fixed point: sample.h */
            out->count = (out->count + SA_SAMPLE_ONE / 2) / SA_SAMPLE_ONE;
        if (!out->count)
            out->count = 1;
        return 1;
    }
    return 0;
}

uint32_t sa_stack_count(void)
{
    return __atomic_load_n(&sa_stack_last, __ATOMIC_ACQUIRE);
}

size_t sa_stack_mapped_bytes(void)
{
    return __atomic_load_n(&mapped, __ATOMIC_RELAXED);
}

/* ---- invariants (trace/stack.h) -------------------------------------- */

/* Whether the frames at f lie in a filled part of the frame arena. */
static int in_arena(const uintptr_t *f, uint32_t n)
{
    for (uint32_t k = 0; k <= arena_cur && k < ARENA_MAX; k++) {
        uint32_t used = k == arena_cur ? arena_used : ARENA_WORDS;
        if (arena[k] && f >= arena[k] && f + n <= arena[k] + used)
            return 1;
    }
    return 0;
}

/* Under stack_lock: stack idx is a complete record of the current
 * generation whose hash is its frames', and the probe chain from its hash
 * reaches its slot with no empty slot before it (so lookup finds it). */
static void entry_check(uint32_t idx)
{
    sa_assert(idx >= 1 && idx <= sa_stack_last && idx < SA_STACK_INDEX_MASK);
    const sa_stack *s = sa_stack_at(idx);
    sa_assert(s->gen == sa_stack_gen_now);
    sa_assert(s->nframes <= SNAPALLOC_MAX_FRAMES);
    sa_assert(in_arena(s->frames, s->nframes ? s->nframes : 1));
    sa_assert(s->hash == hash_frames(s->frames, s->nframes));
    const uint32_t *slots = index_tab[index_level].slots;
    uint32_t mask = index_tab[index_level].mask, i = s->hash & mask, probes = 0;
    while (slots[i] != idx) {
        sa_assert(slots[i] != 0 && ++probes <= mask);   /* the chain breaks */
        i = (i + 1) & mask;
    }
}

/* Under stack_lock: the index's level and load; every occupied slot holds
 * an id in range (1..sa_stack_last), and there are as many as stacks; each
 * stack is found on its probe chain.  So the slots and the stacks match
 * one to one. */
static void table_check(void)
{
    sa_assert(index_level >= 0 && index_level < INDEX_LEVELS);
    uint32_t last = sa_stack_last, occupied = 0;
    const uint32_t *slots = index_tab[index_level].slots;
    uint32_t mask = index_tab[index_level].mask;
    sa_assert(slots || last == 0);
    if (!slots)
        return;
    sa_assert(mask + 1 == 1u << (INDEX_MIN_BITS + index_level));
    sa_assert((uint64_t)last * 2 <= (uint64_t)mask + 1);
    for (uint32_t i = 0; i <= mask; i++) {
        sa_assert(slots[i] <= last);
        occupied += slots[i] != 0;
    }
    sa_assert(occupied == last);
    for (uint32_t idx = 1; idx <= last; idx++)
        entry_check(idx);
}

void sa_stack_table_check(void)
{
    sa_lock_acquire(&stack_lock);
    table_check();
    sa_lock_release(&stack_lock);
}

void sa_stack_prefork(void) { sa_lock_acquire(&stack_lock); }
void sa_stack_postfork_parent(void) { sa_lock_release(&stack_lock); }
void sa_stack_postfork_child(void) { sa_lock_reinit(&stack_lock); }
