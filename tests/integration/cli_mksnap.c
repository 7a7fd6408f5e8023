/* cli_mksnap.c - writes a snapshot with known call sites, sizes and counts,
 * through the real snapshot writer but without the tracer, so the golden
 * tests of `snapalloc show` and `diff` do not depend on unwinding.
 *
 * Each "allocation" captures its real stack with backtrace() from a known
 * line of a known function (the SITE markers below; the tests find their
 * line numbers with grep), and puts libc's malloc or strdup in front as
 * the innermost frame, as the tracer would see it.  Built -g -O0
 * -fno-inline -fno-omit-frame-pointer -fPIE -pie: two runs load at
 * different addresses, which diff must not notice.
 *
 * Usage: cli_mksnap OUT.snap [site=COUNT]...
 *   sites: small (64 B), pages (4096 B), big (1 MiB), dup (strdup, 16 B),
 *          wrap (via xmalloc, 256 B), rec (recursion depth 3, 32 B),
 *          helper (alloc_small called from via_helper, 64 B), gone (8 B),
 *          inl (48 B from inl_alloc, inlined into alloc_inlined)
 *   defaults: small=100 pages=10 big=1 dup=5 wrap=7 rec=2 helper=3 gone=0 inl=0
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* The SITE lines must stay exact whatever CFLAGS the build adds (-O2
 * would turn calls into tail jumps and drop frames). */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer", "no-optimize-sibling-calls")

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/snapshot.h"

#define MAX_STACKS 16
#define MAX_FRAMES 32

typedef struct stack {
    uintptr_t frames[MAX_FRAMES];
    uint32_t nframes;
    uint64_t size, count;
} stack;

static stack stacks[MAX_STACKS];
static uint32_t nstacks;

/* Records the caller's stack with `inner` (an allocation function's
 * address) as the innermost frame. */
static __attribute__((noinline)) void record(void *inner, uint64_t block, uint64_t count)
{
    void *bt[MAX_FRAMES];
    int n = backtrace(bt, MAX_FRAMES - 1);
    if (count == 0 || n < 2)
        return;
    stack *s = &stacks[nstacks++];
    /* +1: every frame is a return address, one past a call. */
    s->frames[s->nframes++] = (uintptr_t)inner + 1;
    for (int i = 1; i < n; i++)   /* bt[0] is inside record itself */
        s->frames[s->nframes++] = (uintptr_t)bt[i];
    s->size = block * count;
    s->count = count;
}

static void *libc_fn(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    return p ? p : dlsym(RTLD_DEFAULT, name);
}

static __attribute__((noinline)) void alloc_small(uint64_t n)
{
    record(libc_fn("malloc"), 64, n); /* SITE:small */
}

static __attribute__((noinline)) void alloc_pages(uint64_t n)
{
    record(libc_fn("malloc"), 4096, n); /* SITE:pages */
}

static __attribute__((noinline)) void alloc_big(uint64_t n)
{
    record(libc_fn("malloc"), 1 << 20, n); /* SITE:big */
}

static __attribute__((noinline)) void alloc_dup(uint64_t n)
{
    record(libc_fn("strdup"), 16, n); /* SITE:dup */
}

static __attribute__((noinline)) void xmalloc(uint64_t n)
{
    record(libc_fn("malloc"), 256, n); /* SITE:xmalloc */
}

static __attribute__((noinline)) void alloc_wrapped(uint64_t n)
{
    xmalloc(n); /* SITE:wrapped */
}

static __attribute__((noinline)) void alloc_rec(int depth, uint64_t n)
{
    if (depth > 1)
        alloc_rec(depth - 1, n); /* SITE:recurse */
    else
        record(libc_fn("malloc"), 32, n); /* SITE:rec */
}

static __attribute__((noinline)) void via_helper(uint64_t n)
{
    alloc_small(n); /* SITE:helper */
}

static __attribute__((noinline)) void alloc_gone(uint64_t n)
{
    record(libc_fn("malloc"), 8, n); /* SITE:gone */
}

/* Inlined even at -O0: the return address inside alloc_inlined expands to
 * two frames, inl_alloc (innermost) and alloc_inlined. */
static inline __attribute__((always_inline)) void inl_alloc(uint64_t n)
{
    record(libc_fn("malloc"), 48, n); /* SITE:inl */
}

static __attribute__((noinline)) void alloc_inlined(uint64_t n)
{
    inl_alloc(n); /* SITE:inlcall */
}

static int next_stack(void *ctx, sa_snap_wstack *out)
{
    uint32_t *i = ctx;
    if (*i >= nstacks)
        return 0;
    stack *s = &stacks[(*i)++];
    out->nframes = s->nframes;
    out->frames = s->frames;
    out->size = s->size;
    out->count = s->count;
    return 1;
}

int main(int argc, char **argv)
{
    const char *names[] = {"small", "pages", "big", "dup", "wrap", "rec", "helper", "gone", "inl"};
    uint64_t counts[] = {100, 10, 1, 5, 7, 2, 3, 0, 0};
    if (argc < 2) {
        fprintf(stderr, "usage: cli_mksnap OUT.snap [site=COUNT]...\n");
        return 2;
    }
    for (int a = 2; a < argc; a++) {
        size_t i, len = strcspn(argv[a], "=");
        for (i = 0; i < sizeof names / sizeof *names; i++)
            if (strlen(names[i]) == len && strncmp(argv[a], names[i], len) == 0)
                break;
        if (i == sizeof names / sizeof *names || argv[a][len] != '=') {
            fprintf(stderr, "cli_mksnap: %s: unknown site\n", argv[a]);
            return 2;
        }
        counts[i] = strtoull(argv[a] + len + 1, NULL, 10);
    }
    alloc_small(counts[0]);
    alloc_pages(counts[1]);
    alloc_big(counts[2]);
    alloc_dup(counts[3]);
    alloc_wrapped(counts[4]);
    alloc_rec(3, counts[5]);
    via_helper(counts[6]);
    alloc_gone(counts[7]);
    alloc_inlined(counts[8]);

    uint64_t total = 0;
    for (uint32_t i = 0; i < nstacks; i++)
        total += stacks[i].size;
    sa_snap_winfo info = {
        .frame_limit = MAX_FRAMES, .traced_current = total, .traced_peak = total + 1000,
        .trigger = SA_SNAP_TRIGGER_API, .sequence = 0,
    };
    uint32_t it = 0;
    int rc = sa_snapshot_write(argv[1], &info, next_stack, &it);
    if (rc != 0) {
        fprintf(stderr, "cli_mksnap: %s: %s\n", argv[1], strerror(-rc));
        return 1;
    }
    /* The tests check that two runs really loaded at different addresses. */
    printf("main=%p\n", (void *)main);
    return 0;
}
