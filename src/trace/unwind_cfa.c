/* trace/unwind_cfa.c - the default stack walker's fast path: frame
 * shapes learnt from libunwind, then walked without it.
 *
 * At a call site (a return address) the caller's frame starts (its CFA)
 * either a fixed distance above the stack pointer, CFA = sp + off, or, in
 * a function that keeps a frame pointer (those with alloca or variable-
 * length arrays must), at CFA = rbp + 16.  The next return address sits at
 * CFA - 8 (the x86-64 ABI), and the caller's rbp either is the same or was
 * saved at a fixed place below the CFA.  So once that shape is known per
 * return address, a walk is a table lookup and two loads per frame,
 * libunwind's own x86-64 "trace" fast path without its set-up cost:
 *
 *     ip = ra0, sp = sp0, rbp = rbp0    the program's frame calling malloc
 *     loop:  shape = rule[ip]          (hash table, lock-free, global)
 *            cfa = (shape.rbp_based ? rbp : sp) + shape.off
 *            if shape.rbp_saved: rbp = *(cfa + shape.rbp_at)
 *            ip = *(cfa - 8); sp = cfa
 *
 * libunwind's unw_backtrace does the same with its own per-thread cache of
 * frame shapes, but pays a register-context save, a cursor set-up and a
 * signal-mask change per walk: 40% of a traced Python run at 8 frames.
 *
 * Rules are learnt from libunwind itself: when a walk meets a return
 * address it does not know, it brings libunwind's cursor up to that frame
 * and steps it, which gives the frame's stack pointer and rbp before and
 * after, and where rbp was saved; the walk goes on from the cursor's
 * values.  The cursor only moves outwards, so a walk pays libunwind steps
 * up to its deepest unknown frame (a new call site near the top of a deep
 * interpreter stack costs a few steps, not the whole depth).  A rule is
 * used only after two sightings agreed on it; one that ever disagrees, or
 * belongs to a signal frame, or whose CFA is neither sp + k nor rbp + 16,
 * or whose return address is not at CFA - 8, is marked unsafe, and walks
 * through it are left to unw_backtrace.  The frame where libunwind's walk
 * ended is marked as the end.  So the walker returns exactly libunwind's
 * frames, or says it cannot.
 *
 * Every load is checked against the thread's stack bounds first (a signal
 * handler on an alternate stack, or a wrong rule, ends the fast walk: the
 * caller falls back to libunwind).
 */
#include <string.h>

#include "alloc/alloc.h"
#include "common/os.h"
#include "trace/libunwind.h"
#include "trace/unwind.h"

enum { RULE_NONE = 0, RULE_ONCE = 1, RULE_TRUSTED = 2, RULE_UNSAFE = 3, RULE_END = 4 };

#define RULE_BITS   16                      /* 65536 rules, 1 MiB of address space
                                               (few pages, for the TLB); a full
                                               neighbourhood sends walks to
                                               unw_backtrace */
#define RULE_PROBES 16

/* A rule word: bits 0-7 state, bit 8 CFA from rbp (else sp), bit 9 rbp
 * saved in the frame (else unchanged), bits 16-31 where it was saved
 * (int16, from the CFA), bits 32-63 the CFA offset (int32).  Two
 * observations must agree on bits 8-63. */
#define SHAPE_RBP_BASED  (1ull << 8)
#define SHAPE_RBP_SAVED  (1ull << 9)
#define SHAPE_MASK       (~(uint64_t)0xff)

typedef struct cfa_rule {
    uintptr_t ip;                           /* 0: free; set once by CAS */
    uint64_t word;
} cfa_rule;

static cfa_rule *rules;

static inline unsigned rule_home(uintptr_t ip)
{
    return (unsigned)((ip * 0x9e3779b97f4a7c15ull) >> (64 - RULE_BITS));
}

static inline uint64_t rule_get(uintptr_t ip)
{
    cfa_rule *t = rules;
    unsigned h = rule_home(ip);
    for (unsigned i = 0; i < RULE_PROBES; i++) {
        cfa_rule *r = &t[(h + i) & ((1u << RULE_BITS) - 1)];
        uintptr_t k = __atomic_load_n(&r->ip, __ATOMIC_ACQUIRE);
        if (k == ip)
            return __atomic_load_n(&r->word, __ATOMIC_RELAXED);
        if (k == 0)
            return 0;
    }
    return 0;
}

/* Record one observation of return address ip: its frame has shape
 * (state RULE_ONCE), or the state is RULE_UNSAFE / RULE_END.  -1 if the
 * table has no room left near ip (the ip stays unknown). */
static int rule_learn(uintptr_t ip, int state, uint64_t shape)
{
    unsigned h = rule_home(ip);
    cfa_rule *r = NULL;
    for (unsigned i = 0; i < RULE_PROBES && !r; i++) {
        cfa_rule *c = &rules[(h + i) & ((1u << RULE_BITS) - 1)];
        uintptr_t k = __atomic_load_n(&c->ip, __ATOMIC_ACQUIRE);
        if (k == 0 && __atomic_compare_exchange_n(&c->ip, &k, ip, 0, __ATOMIC_ACQ_REL,
                                                  __ATOMIC_ACQUIRE))
            k = ip;
        if (k == ip)
            r = c;
    }
    if (!r)
        return -1;   /* neighbourhood full: this ip stays unknown */
    shape &= SHAPE_MASK;
    uint64_t old = __atomic_load_n(&r->word, __ATOMIC_RELAXED), new;
    do {
        int was = (int)(old & 0xff);
        if (was == RULE_UNSAFE || (was == RULE_END && state == RULE_END))
            return 0;
        if (state == RULE_UNSAFE)
            new = RULE_UNSAFE;
        else if (state == RULE_END)
            new = was == RULE_NONE ? RULE_END : RULE_UNSAFE;
        else if (was == RULE_NONE)
            new = shape | RULE_ONCE;
        else if ((was == RULE_ONCE || was == RULE_TRUSTED) && (old & SHAPE_MASK) == shape)
            new = shape | RULE_TRUSTED;
        else
            new = RULE_UNSAFE;   /* two shapes, or a frame both ending and not */
    } while (!__atomic_compare_exchange_n(&r->word, &old, new, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return 0;
}

int sa_unwind_cfa_setup(void)
{
    if (__atomic_load_n(&rules, __ATOMIC_ACQUIRE))
        return 0;
    cfa_rule *t = sa_os_map(sizeof(cfa_rule) << RULE_BITS, SA_OS_PAGE);
    if (!t)
        return -1;
    cfa_rule *none = NULL;
    if (!__atomic_compare_exchange_n(&rules, &none, t, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        sa_os_unmap(t, sizeof(cfa_rule) << RULE_BITS);
    return 0;
}

/* The shape of the frame libunwind just stepped out of: at ip it had
 * stack pointer sp and rbp; its caller has CFA cfa (= the caller's sp) and
 * rbp nrbp, restored from loc.  0 if the shape is not one we can walk. */
static uint64_t frame_shape(uintptr_t sp, uintptr_t rbp, uintptr_t cfa, uintptr_t nrbp,
                            const unw_save_loc_t *loc)
{
    uint64_t shape;
    if (cfa == rbp + 16 && rbp >= sp)
        shape = SHAPE_RBP_BASED | ((uint64_t)16 << 32);
    else if (cfa > sp && cfa - sp <= INT32_MAX)
        shape = (uint64_t)(uint32_t)(cfa - sp) << 32;
    else
        return 0;
    if (loc->type == UNW_SLT_MEMORY && loc->u.addr >= sp && loc->u.addr < cfa) {
        /* Saved in this frame: from where, relative to the CFA. */
        intptr_t at = (intptr_t)(loc->u.addr - cfa);
        if (at < INT16_MIN || *(const uintptr_t *)loc->u.addr != nrbp)
            return 0;
        shape |= SHAPE_RBP_SAVED | ((uint64_t)(uint16_t)(int16_t)at << 16);
    } else if (nrbp != rbp) {
        return 0;   /* changed, but not saved in the frame: not ours to follow */
    }
    return shape;
}

/* Step cur (which is at or below the frame) up to the frame whose return
 * address is ip and whose stack pointer is sp.  0 if found. */
static int cursor_reach(unw_cursor_t *cur, uintptr_t ip, uintptr_t sp, int budget)
{
    unw_word_t cip = 0, csp = 0;
    sa_unw.get_reg(cur, UNW_REG_SP, &csp);
    while (csp < sp && budget-- > 0) {
        if (sa_unw.step(cur) <= 0)
            return -1;
        sa_unw.get_reg(cur, UNW_REG_SP, &csp);
    }
    sa_unw.get_reg(cur, UNW_REG_IP, &cip);
    return csp == sp && cip == ip ? 0 : -1;
}

/* Frame j of the last walk is frame n - 1 of this one (same slot, same
 * return address): append the last walk's frames above it, up to max, if
 * their slots still hold them.  The new count, or -1 if the last walk
 * cannot finish this one. */
static int finish_from_last(const sa_unwind_last *last, int j, uintptr_t *frames,
                            uintptr_t *slots, int n, int max, uintptr_t hi)
{
    int want = max - n, have = last->n - (j + 1);
    if (have < want && !last->complete)
        return -1;   /* it stopped at its limit, short of ours */
    int take = have < want ? have : want;
    if (take > 0 && last->slot[j + take] > hi - sizeof(uintptr_t))
        return -1;   /* another stack's */
    for (int k = j + 1; k <= j + take; k++)
        if (*(const volatile uintptr_t *)last->slot[k] != last->frame[k])
            return -1;
    memcpy(frames + n, last->frame + j + 1, (size_t)take * sizeof *frames);
    memcpy(slots + n, last->slot + j + 1, (size_t)take * sizeof *slots);
    return n + take;
}

static void remember(sa_unwind_last *last, const uintptr_t *frames, const uintptr_t *slots,
                     int n, int complete, int reused)
{
    if (n > SA_UNWIND_LAST_FRAMES) {
        last->n = 0;
        return;
    }
    memcpy(last->frame, frames, (size_t)n * sizeof *frames);
    memcpy(last->slot, slots, (size_t)n * sizeof *slots);
    last->n = n;
    last->complete = complete;
    last->reused = reused;
}

/* One step outwards by a trusted rule w of the frame at (*ra, *sp, *rbp):
 * 0, or SA_CFA_UNSAFE when the rule leads outside the stack [lo, hi]. */
static inline int rule_step(uint64_t w, uintptr_t lo, uintptr_t hi, uintptr_t *ra,
                            uintptr_t *sp, uintptr_t *rbp)
{
    uintptr_t base = (w & SHAPE_RBP_BASED) ? *rbp : *sp;
    uintptr_t cfa = base + (uintptr_t)(intptr_t)(int32_t)(w >> 32);
    if (*sp < lo || *sp > hi || cfa <= *sp || cfa > hi || base > hi || base < lo)
        return SA_CFA_UNSAFE;
    if (w & SHAPE_RBP_SAVED) {
        uintptr_t at = cfa + (uintptr_t)(intptr_t)(int16_t)(w >> 16);
        if (at < *sp || at > cfa - sizeof(uintptr_t))
            return SA_CFA_UNSAFE;
        *rbp = *(const uintptr_t *)at;
    }
    *sp = cfa;
    *ra = *(const uintptr_t *)(cfa - sizeof(uintptr_t));
    return *ra == 0 ? SA_CFA_UNSAFE : 0;   /* libunwind would have ended: let it */
}

/* One step outwards from a frame without a rule yet: libunwind's cursor
 * (already at the frame) steps, and the frame's shape is learnt.  0 and
 * the caller's frame in (*ra, *sp, *rbp); 1 at the outermost frame; or
 * SA_CFA_UNSAFE.  *learnt counts the frames libunwind stepped. */
static int learn_step(unw_cursor_t *cur, uintptr_t hi, uintptr_t *ra, uintptr_t *sp,
                      uintptr_t *rbp, int *learnt)
{
    if (sa_unw.is_signal_frame(cur) > 0) {
        rule_learn(*ra, RULE_UNSAFE, 0);
        return SA_CFA_UNSAFE;
    }
    (*learnt)++;
    if (sa_unw.step(cur) <= 0) {
        rule_learn(*ra, RULE_END, 0);
        return 1;
    }
    unw_word_t nip = 0, nsp = 0, nrbp = 0;
    unw_save_loc_t loc;
    sa_unw.get_reg(cur, UNW_REG_IP, &nip);
    sa_unw.get_reg(cur, UNW_REG_SP, &nsp);
    sa_unw.get_reg(cur, UNW_X86_64_RBP, &nrbp);
    if (sa_unw.get_save_loc(cur, UNW_X86_64_RBP, &loc) != 0)
        loc.type = UNW_SLT_REG;
    uint64_t shape = nsp <= *sp || nsp > hi ||
                     *(const uintptr_t *)(nsp - sizeof(uintptr_t)) != nip
                         ? 0 : frame_shape(*sp, *rbp, nsp, nrbp, &loc);
    if (!shape) {
        rule_learn(*ra, RULE_UNSAFE, 0);
        return SA_CFA_UNSAFE;
    }
    /* No room to remember it: every walk through here would step
     * libunwind's cursor again, dearer than unw_backtrace's own cache. */
    if (rule_learn(*ra, RULE_ONCE, shape) != 0)
        return SA_CFA_UNSAFE;
    *ra = nip;
    *sp = nsp;
    *rbp = nrbp;
    return 0;
}

static int cfa_walk(uintptr_t ra, uintptr_t sp, uintptr_t rbp, uintptr_t *frames,
                    uintptr_t *slots, int max, int *learnt, sa_unwind_last *last)
{
    *learnt = 0;
    if (!rules)
        return SA_CFA_UNSAFE;
    uintptr_t lo, hi;
    sa_unwind_stack_bounds(&lo, &hi);
    unw_context_t uc;
    unw_cursor_t cur;
    int have_cursor = 0, n = 0, j = 0;
    int old_n = last ? last->n : 0;   /* last walk's frames still to match */
    while (n < max) {
        uintptr_t slot = sp - sizeof(uintptr_t);
        frames[n] = ra;
        slots[n] = slot;
        n++;
        /* The last walk's slots increase outwards, as ours: one pass. */
        while (j < old_n && last->slot[j] < slot)
            j++;
        if (j < old_n && last->slot[j] == slot && last->frame[j] == ra) {
            int m = finish_from_last(last, j, frames, slots, n, max, hi);
            if (m > 0) {
                int complete = last->complete && m - n == last->n - (j + 1);
                remember(last, frames, slots, m, complete, m - n);
                return m;
            }
            old_n = 0;   /* its outer frames changed: walk on */
        }
        uint64_t w = rule_get(ra);
        int state = (int)(w & 0xff), rc;
        if (state == RULE_TRUSTED) {
            if (rule_step(w, lo, hi, &ra, &sp, &rbp) != 0)
                return SA_CFA_UNSAFE;
            continue;
        }
        if (state == RULE_UNSAFE)
            return SA_CFA_UNSAFE;
        if (state != RULE_END) {
            /* Not known yet: take libunwind's cursor up to this frame (it
             * only ever moves outwards, so a walk costs libunwind steps up
             * to its deepest unknown frame, not its whole depth), step it,
             * learn. */
            if (!have_cursor) {
                if (sa_unw.getcontext(&uc) != 0 || sa_unw.init_local(&cur, &uc) != 0)
                    return SA_CFA_UNSAFE;
                have_cursor = 1;
            }
            if (cursor_reach(&cur, ra, sp, n + 16) != 0)
                return SA_CFA_UNSAFE;
            if ((rc = learn_step(&cur, hi, &ra, &sp, &rbp, learnt)) == 0)
                continue;
            if (rc != 1)
                return rc;
        }
        if (last)   /* the outermost frame */
            remember(last, frames, slots, n, 1, 0);
        return n;
    }
    if (last)
        remember(last, frames, slots, n, 0, 0);
    return n;
}

SA_NOINLINE int sa_unwind_cfa_walk(uintptr_t ra, uintptr_t sp, uintptr_t rbp, uintptr_t *frames,
                                   uintptr_t *slots, int max, int *learnt, sa_unwind_last *last)
{
    sa_unw_quiet++;   /* libunwind's steps skip their signal masking */
    int n = cfa_walk(ra, sp, rbp, frames, slots, max, learnt, last);
    sa_unw_quiet--;
    return n;
}
