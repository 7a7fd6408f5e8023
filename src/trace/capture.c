/* trace/capture.c - capturing the program's stack at an allocation: which
 * unwinder (libunwind's frame-shape walker or frame pointers), and which
 * frames are ours (libsnapalloc's text, found once with dl_iterate_phdr)
 * and so dropped, so that a stack's first frame is the program's call
 * site.  The cached capture from the exported entry points is the
 * recording path's (trace.c, trace/ucache.c).
 */
#include <errno.h>
#include <link.h>
#include <string.h>

#include "snapalloc.h"
#include "trace/config.h"
#include "trace/libunwind.h"
#include "trace/trace.h"
#include "trace/tracer.h"
#include "trace/unwind.h"

uintptr_t sa_unwind_self_lo, sa_unwind_self_hi;
int sa_unwind_backend;
static int self_known;

void sa_unwind_set_self_range(uintptr_t lo, uintptr_t hi)
{
    sa_unwind_self_lo = lo;
    sa_unwind_self_hi = hi;
    self_known = 1;
}

/* The executable segments of the object containing the tracer.  When that
 * object is the main program (the core linked statically into a test),
 * there is no "own" range to strip: only the capture's own frames go. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    uintptr_t me = (uintptr_t)&sa_trace_alloc;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (me >= start && me < end)
            mine = 1;
        if ((ph->p_flags & PF_X) && start < lo)
            lo = start;
        if ((ph->p_flags & PF_X) && end > hi)
            hi = end;
    }
    if (!mine)
        return 0;
    if (info->dlpi_name && info->dlpi_name[0] && lo < hi)
        sa_unwind_set_self_range(lo, hi);
    else
        sa_unwind_set_self_range(0, 0);
    return 1;
}

int sa_unwind_init(int backend)
{
    int g = sa_trace_guard_enter();
    if (!self_known)
        dl_iterate_phdr(find_self, NULL);
    int rc = 0;
    if (backend == SA_UNWIND_LIBUNWIND) {
        rc = sa_unwind_libunwind_setup() == 0 && sa_unwind_cfa_setup() == 0 ? 0 : -ENOSYS;
    } else {
        uintptr_t warm[4];
        sa_unwind_fp_raw(warm, 4);   /* this thread's stack bounds */
    }
    if (rc == 0)
        __atomic_store_n(&sa_unwind_backend, backend, __ATOMIC_RELEASE);
    sa_trace_guard_leave(g);
    return rc;
}

/* Up to max of the n frames of raw from index i on, less libsnapalloc's
 * own at their start, into frames: the first kept is the program's. */
static int program_frames(const uintptr_t *raw, int n, int i, uintptr_t *frames, int max)
{
    while (i < n && raw[i] >= sa_unwind_self_lo && raw[i] < sa_unwind_self_hi)
        i++;
    int m = n - i < max ? n - i : max;
    memcpy(frames, raw + i, (size_t)m * sizeof *frames);
    return m;
}

SA_FRAME SA_NOINLINE int sa_unwind_capture(uintptr_t *frames, int max)
{
    uintptr_t raw[SNAPALLOC_MAX_FRAMES + SA_UNWIND_SLACK];
    if (max > SNAPALLOC_MAX_FRAMES)
        max = SNAPALLOC_MAX_FRAMES;
    if (max <= 0)
        return 0;
    int want = max + SA_UNWIND_SLACK;
    int n = __atomic_load_n(&sa_unwind_backend, __ATOMIC_RELAXED) == SA_UNWIND_FP
                ? sa_unwind_fp_raw(raw, want) : sa_unwind_libunwind_raw(raw, want);
    /* Drop the walker's and our own frames: everything before the return
     * address into our caller.  If the walker missed it (a frame without
     * frame pointer), keep all and let the range test below do the work. */
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    int i = 0;
    while (i < n && i < SA_UNWIND_SLACK && raw[i] != ra)
        i++;
    if (i == n || i == SA_UNWIND_SLACK)
        i = 0;
    /* Then libsnapalloc's frames between the program and here (malloc,
     * sa_trace_alloc): the first frame kept is the program's call site. */
    return program_frames(raw, n, i, frames, max);
}

/* sa_unwind_capture for callers outside the tracer's entry points (guard
 * pages, debug/guard.c), under the libunwind backend: the frame-shape
 * walker (trace/unwind_cfa.c) from the caller's frame.  Its shapes are
 * learnt once for every thread, where unw_backtrace's first walk in each
 * new thread faults in tens of pages (larson under SNAPALLOC_GUARD=20000,
 * a new thread every 50k mallocs: 39.9k page faults against 9.3k, 1.12 s
 * against 0.72 s).  libunwind itself when the walker cannot go on. */
SA_FRAME SA_NOINLINE int sa_unwind_capture_shared(uintptr_t *frames, int max)
{
    if (__atomic_load_n(&sa_unwind_backend, __ATOMIC_RELAXED) != SA_UNWIND_LIBUNWIND)
        return sa_unwind_capture(frames, max);
    if (max > SNAPALLOC_MAX_FRAMES)
        max = SNAPALLOC_MAX_FRAMES;
    if (max <= 0)
        return 0;
    uintptr_t raw[SNAPALLOC_MAX_FRAMES + SA_UNWIND_SLACK];
    uintptr_t slots[SNAPALLOC_MAX_FRAMES + SA_UNWIND_SLACK];
    const uintptr_t *fp = __builtin_frame_address(0);
    int learnt = 0;
    int n = sa_unwind_cfa_walk(fp[1], (uintptr_t)(fp + 2), fp[0], raw, slots,
                               max + SA_UNWIND_SLACK, &learnt, NULL);
    if (n <= 0)
        return sa_unwind_capture(frames, max);   /* SA_CFA_UNSAFE, or nothing */
    /* From the caller's return address on: libsnapalloc's frames between
     * the program and the caller (free, sa_free_other) go too. */
    return program_frames(raw, n, 0, frames, max);
}
