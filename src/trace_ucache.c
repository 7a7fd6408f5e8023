/* trace_ucache.c - the validated per-thread unwind cache (see
 * trace_ucache.h). */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "trace_ucache.h"

#include "internal.h"
#include "os.h"

#define UCACHE_ENTRIES 64   /* direct-mapped, per thread (35 KiB) */

/* A fill steps libunwind's cursor frame by frame (to learn where each
 * return address sits), several times the cost of unw_backtrace.  It pays
 * off only for call sites that come back, so an entry is filled the second
 * time its key is seen, and fills spend credit that hits earn: a thread
 * whose stacks never repeat (an interpreter's deep, varied recursion) stops
 * filling and loses nothing. */
#define CREDIT_START 256
#define CREDIT_MAX   4096
#define FILL_COST    8

typedef struct ucache {
    sa_ucache_entry e[UCACHE_ENTRIES];
    int credit;
} ucache;

static SA_TLS ucache *my_ucache;

static inline sa_ucache_entry *entry_for(ucache *c, uintptr_t ra, uintptr_t sp)
{
    uintptr_t h = (ra ^ (sp >> 4)) * 0x9e3779b97f4a7c15ull;
    return &c->e[h >> (64 - 6)];
}

sa_ucache_entry *sa_ucache_lookup(uintptr_t ra, uintptr_t sp, int limit)
{
    ucache *c = my_ucache;
    if (!c)
        return NULL;
    sa_ucache_entry *e = entry_for(c, ra, sp);
    if (e->n == 0 || e->ra != ra || e->sp != sp || e->limit != limit)
        return NULL;
    for (uint32_t i = 1; i < e->n; i++)
        if (*(const volatile uintptr_t *)e->slot[i] != e->frame[i])
            return NULL;
    if (c->credit < CREDIT_MAX)
        c->credit++;
    return e;
}

SA_NOINLINE sa_ucache_entry *sa_ucache_fill(uintptr_t ra, uintptr_t sp, int limit)
{
    if (limit <= 0 || limit > SA_UCACHE_FRAMES)
        return NULL;
    ucache *c = my_ucache;
    if (!c) {
        size_t bytes = (sizeof(ucache) + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
        if (!(c = sa_os_map(bytes, SA_OS_PAGE)))
            return NULL;
        c->credit = CREDIT_START;
        my_ucache = c;
    }
    sa_ucache_entry *e = entry_for(c, ra, sp);
    if (e->ra != ra || e->sp != sp || e->limit != limit) {
        /* First sighting of this key: remember it, unwind the cheap way. */
        e->n = 0;
        e->ra = ra;
        e->sp = sp;
        e->limit = limit;
        return NULL;
    }
    if (c->credit < FILL_COST)
        return NULL;
    c->credit -= FILL_COST;
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return NULL;
    /* Step out of our own frames to the program's: ip == ra, sp == sp. */
    unw_word_t ip = 0, fsp = 0;
    int found = 0;
    for (int k = 0; k < 16 && unw_step(&cur) > 0; k++) {
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &fsp);
        if (ip == ra && fsp == sp) {
            found = 1;
            break;
        }
    }
    if (!found)
        return NULL;
    e->n = 0;   /* invalid while being rewritten */
    sa_ucache_entry tmp;
    tmp.frame[0] = ra;
    tmp.slot[0] = sp - sizeof(uintptr_t);
    uint32_t n = 1;
    while ((int)n < limit) {
        if (unw_is_signal_frame(&cur) > 0)
            return NULL;
        if (unw_step(&cur) <= 0)
            break;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &fsp);
        /* The return address into this frame must sit just below its
         * stack pointer (the caller's CFA - 8): else not cacheable. */
        if (fsp < sizeof(uintptr_t) || *(const uintptr_t *)(fsp - sizeof(uintptr_t)) != ip)
            return NULL;
        tmp.frame[n] = ip;
        tmp.slot[n] = fsp - sizeof(uintptr_t);
        n++;
    }
    for (uint32_t i = 0; i < n; i++) {
        e->frame[i] = tmp.frame[i];
        e->slot[i] = tmp.slot[i];
    }
    e->ra = ra;
    e->sp = sp;
    e->limit = limit;
    e->id = 0;
    e->n = n;
    return e;
}
