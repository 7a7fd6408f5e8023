/* debug/quarantine.c - the debug mode's quarantine: a ring of freed blocks
 * that are not given back to the allocator until SNAPALLOC_DEBUG_QUARANTINE
 * bytes (or RING_CAP blocks) of later frees have pushed them out, so that
 * a write after free lands in a block still filled with 0xDD, and a double
 * free finds the block and its free stack.  One lock, never held while
 * calling the allocator or the unwinder: evicted blocks are handed back
 * one at a time and checked and freed by the caller (debug/debug.c).
 */
#include <string.h>

#include "common/lock.h"
#include "common/os.h"
#include "debug/debug_int.h"

/* 2^16 entries of 24 bytes, mapped once, touched as used. */
#define RING_CAP (1u << 16)

static sa_lock q_lock = SA_LOCK_INIT;
static sa_debug_qentry *ring;
static uint32_t head, count;   /* oldest entry, entries held */
static uint64_t held, limit;   /* bytes held, the bound */

void sa_debug_quarantine_init(uint64_t bytes)
{
    limit = bytes;
    ring = sa_os_map((size_t)RING_CAP * sizeof *ring, SA_OS_PAGE);
}

static int over(void)
{
    return count > 0 && (held > limit || count >= RING_CAP);
}

static void pop(sa_debug_qentry *out)
{
    *out = ring[head];
    head = (head + 1) % RING_CAP;
    count--;
    held -= out->bytes;
}

int sa_debug_quarantine_push(const sa_debug_qentry *e, sa_debug_qentry *out)
{
    int got = 0;
    sa_lock_acquire(&q_lock);
    if (!ring) {
        /* no ring (out of memory): the block leaves at once */
        sa_lock_release(&q_lock);
        if (e)
            *out = *e;
        return e != NULL;
    }
    if (e) {
        if (count >= RING_CAP)
            pop(out), got = 1;
        ring[(head + count) % RING_CAP] = *e;
        count++;
        held += e->bytes;
    }
    if (!got && over())
        pop(out), got = 1;
    sa_lock_release(&q_lock);
    return got;
}

int sa_debug_quarantine_find(const void *user, sa_debug_qentry *out)
{
    int found = 0;
    sa_lock_acquire(&q_lock);
    for (uint32_t i = 0; ring && i < count && !found; i++) {
        const sa_debug_qentry *e = &ring[(head + i) % RING_CAP];
        if (e->user == user) {
            *out = *e;
            found = 1;
        }
    }
    sa_lock_release(&q_lock);
    return found;
}

void sa_debug_quarantine_prefork(void)
{
    sa_lock_acquire(&q_lock);
}

void sa_debug_quarantine_postfork_parent(void)
{
    sa_lock_release(&q_lock);
}

void sa_debug_quarantine_postfork_child(void)
{
    sa_lock_reinit(&q_lock);
}
