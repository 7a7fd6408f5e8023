/* leak/scan_roots.c - the scan's run (sa_leak_scan): the roots gathered
 * around stopping the world and marked in leak/scan.c -- blocks the
 * loader and the tracer allocated, the modules' data, the calling
 * thread's registers, stack and TLS, every stopped thread's, and the
 * mappings the program made itself -- then the cliques and the classes.
 *
 * Locks: sa_block_foreach takes the arena and large-block locks, and a
 * stopped thread might hold one.  So the check first takes every lock of
 * the library (the fork prepare handlers'), stops the world, and
 * releases them: no stopped thread is inside a locked section.  A thread
 * stopped inside a lock-free fast path (a pool free list being updated)
 * can make one block read wrongly; LeakSanitizer has the same race.
 *
 * The module roots are collected before the stop: dl_iterate_phdr takes
 * the loader's lock, which a stopped thread may hold.
 */
#include "leak/scan.h"

#include <errno.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/meta.h"
#include "alloc/pagemap.h"
#include "common/os.h"
#include "trace/stack.h"
#include "trace/trace.h"

/* ---- Threads ------------------------------------------------------------ */

/* A stopped thread's registers, its stack from its stack pointer, and its
 * static TLS and descriptor. */
static void mark_thread(sa_leak_scanner *k, const sa_leak_ranges *maps, const sa_leak_thread *t)
{
    sa_leak_range r;
    for (int i = 0; i < SA_LEAK_NREGS; i++)
        sa_leak_visit(k, t->regs[i], 1);
    sa_leak_drain(k);
    if (sa_leak_stack_range(maps, t->sp, &r))
        sa_leak_scan_range(k, &r);
    if (sa_leak_tls_range(maps, t->tp, &r))
        sa_leak_scan_range(k, &r);
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
static void scan_minus_own(sa_leak_scanner *k, uintptr_t lo, uintptr_t hi, const sa_leak_ranges *own)
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
        sa_leak_scan_range(k, &(sa_leak_range){ lo, end, 0 });
        lo = end;
    }
}

/* A mapping of a file: read through a buffer, a page that cannot be read
 * (past the end of the file) skipped. */
static void scan_file_mapping(sa_leak_scanner *k, const sa_leak_range *m)
{
    enum { CHUNK = 64 * 1024 };
    uintptr_t *buf = sa_os_map(CHUNK, SA_OS_PAGE);
    if (!buf)
        return;
    for (uintptr_t a = m->lo; a < m->hi;) {
        size_t want = m->hi - a < CHUNK ? m->hi - a : CHUNK;
        size_t got = sa_leak_read_safe(buf, a, want);
        sa_leak_scan_words(k, (uintptr_t)buf, (uintptr_t)buf + got, 1);
        sa_leak_drain(k);
        a += got ? got : SA_OS_PAGE;
    }
    sa_os_unmap(buf, CHUNK);
}

/* A mapping of the program's: every granule the page map does not give
 * to the allocator (arenas, large blocks, cached ones included). */
static void scan_mapping(sa_leak_scanner *k, const sa_leak_range *m, const sa_leak_ranges *own)
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
static int mark_mappings(sa_leak_scanner *k, const sa_leak_ranges *maps, const sa_leak_world *w,
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
static void mark_loader_blocks(sa_leak_scanner *k, const sa_leak_range *loader)
{
    for (size_t i = 0; i < k->n; i++) {
        sa_stack *s = k->b[i].stack ? sa_stack_get(k->b[i].stack) : NULL;
        int loaders = loader->hi && s && s->nframes && s->frames[0] >= loader->lo
                      && s->frames[0] < loader->hi;
        if (loaders || k->b[i].stack == SA_TRACE_OWN)
            sa_leak_mark_block(k, i);
    }
    sa_leak_drain(k);
}

/* ---- The run ------------------------------------------------------------ */

/* The scan proper; self_sp is the lowest address of the caller's part of
 * the stack, self_regs the caller's callee-saved registers. */
static SA_NOINLINE int scan_impl(sa_leak_result *out, uintptr_t self_sp,
                                 const uintptr_t *self_regs, int nregs)
{
    memset(out, 0, sizeof *out);
    sa_leak_ranges mods = {0}, maps = {0};
    sa_leak_world w;
    sa_leak_scanner k;
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
        rc = sa_leak_index_build(&k);
    k.heuristics = sa_leak_cfg.heuristics;
    k.maps = &maps;
    if (rc == 0) {
        mark_loader_blocks(&k, &loader);
        for (size_t i = 0; i < mods.n; i++)
            sa_leak_scan_range(&k, &mods.r[i]);
        for (int i = 0; i < nregs; i++)
            sa_leak_visit(&k, self_regs[i], 1);
        sa_leak_drain(&k);
        sa_leak_range r;
        if (sa_leak_stack_range(&maps, self_sp, &r)) {
            r.lo = self_sp;
            sa_leak_scan_range(&k, &r);
        }
        if (sa_leak_tls_range(&maps, sa_os_thread_pointer(), &r))
            sa_leak_scan_range(&k, &r);
        for (uint32_t i = 0; i < w.n; i++)
            if (w.threads[i].state == SA_LT_STOPPED)
                mark_thread(&k, &maps, &w.threads[i]);
        rc = mark_mappings(&k, &maps, &w, self_sp);
        sa_leak_cliques(&k);
    }
    out->threads_stopped = w.stopped;
    out->threads_skipped = w.skipped;
    sa_leak_world_resume(&w);
    if (rc == 0)
        rc = sa_leak_aggregate(&k, out);
    sa_leak_scanner_free(&k);
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
