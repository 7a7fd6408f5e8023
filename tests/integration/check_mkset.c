/* check_mkset.c - writes the leak set of a process (PID.definite.snap,
 * PID.indirect.snap, PID.possible.snap, PID.reachable.snap, optionally
 * PID.baseline.snap and PID.exit.snap, then PID.done) as the in-process
 * leak scanner does (doc/leak-report.md), through the real snapshot writer
 * but with hand-made contents, so the tests of `snapalloc check --analyze`
 * know every site, size and count.  PID is this helper's own pid, printed
 * on stdout.
 *
 * Each stack is the real backtrace() of a known line of a known function
 * (SITE markers: the tests find their lines with grep) with libc's malloc
 * or strdup in front as the innermost frame, as the tracer records it.
 *
 * Usage: check_mkset DIR [CLASS:SITE=COUNT | FLAG]...
 *   CLASS: definite indirect possible reachable baseline exit
 *   SITE:  small (64 B), node (32 B), big (1 MiB), str (strdup, 16 B),
 *          other (64 B at the same site as small, from another caller),
 *          lib (128 B, in check_mkset_lib.c), wrap (256 B via xmalloc),
 *          pre (100 B, no frames: allocated before tracing started)
 *   FLAG:  nodone (no PID.done), skip=CLASS (that class file is not
 *          written), baseline / exit (write that file even if empty),
 *          badseq (the definite file says sequence 3)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer", "no-optimize-sibling-calls")

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/snapshot.h"

#define MAX_STACKS 64
#define MAX_FRAMES 32

enum { DEFINITE, INDIRECT, POSSIBLE, REACHABLE, BASELINE, EXIT, NCLASSES };
static const char *const class_names[] = {"definite", "indirect", "possible", "reachable",
                                          "baseline", "exit"};

typedef struct stack {
    uintptr_t frames[MAX_FRAMES];
    uint32_t nframes;
    uint64_t size, count;
} stack;

static stack stacks[NCLASSES][MAX_STACKS];
static uint32_t nstacks[NCLASSES];
static int cur;   /* the class being recorded */

void check_record(void *inner, uint64_t block, uint64_t count);

/* Records the caller's stack with `inner` as the innermost frame. */
__attribute__((noinline)) void check_record(void *inner, uint64_t block, uint64_t count)
{
    void *bt[MAX_FRAMES];
    int n = backtrace(bt, MAX_FRAMES - 1);
    if (count == 0 || n < 2 || nstacks[cur] >= MAX_STACKS)
        return;
    stack *s = &stacks[cur][nstacks[cur]++];
    s->nframes = 0;
    if (inner)
        s->frames[s->nframes++] = (uintptr_t)inner + 1;
    for (int i = 1; inner && i < n; i++)   /* bt[0] is inside check_record */
        s->frames[s->nframes++] = (uintptr_t)bt[i];
    s->size = block * count;
    s->count = count;
}

static void *libc_fn(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    return p ? p : dlsym(RTLD_DEFAULT, name);
}

void lib_alloc(uint64_t n);   /* check_mkset_lib.c */

static __attribute__((noinline)) void alloc_small(uint64_t n)
{
    check_record(libc_fn("malloc"), 64, n); /* SITE:small */
}

static __attribute__((noinline)) void alloc_other(uint64_t n)
{
    alloc_small(n); /* SITE:other */
}

static __attribute__((noinline)) void make_node(uint64_t n)
{
    check_record(libc_fn("malloc"), 32, n); /* SITE:node */
}

static __attribute__((noinline)) void alloc_big(uint64_t n)
{
    check_record(libc_fn("malloc"), 1 << 20, n); /* SITE:big */
}

static __attribute__((noinline)) void dup_name(uint64_t n)
{
    check_record(libc_fn("strdup"), 16, n); /* SITE:str */
}

static __attribute__((noinline)) void xmalloc(uint64_t n)
{
    check_record(libc_fn("malloc"), 256, n); /* SITE:xmalloc */
}

static __attribute__((noinline)) void alloc_wrapped(uint64_t n)
{
    xmalloc(n); /* SITE:wrapped */
}

static int next_stack(void *ctx, sa_snap_wstack *out)
{
    uint32_t *i = ctx;
    if (i[1] >= nstacks[i[0]])
        return 0;
    stack *s = &stacks[i[0]][i[1]++];
    out->nframes = s->nframes;
    out->frames = s->frames;
    out->size = s->size;
    out->count = s->count;
    return 1;
}

static int write_class(const char *dir, int c, uint32_t trigger, uint32_t seq)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%ld.%s.snap", dir, (long)getpid(), class_names[c]);
    uint64_t total = 0;
    for (uint32_t i = 0; i < nstacks[c]; i++)
        total += stacks[c][i].size;
    sa_snap_winfo info = {
        .frame_limit = MAX_FRAMES, .traced_current = total, .traced_peak = total,
        .trigger = trigger, .sequence = seq,
    };
    uint32_t it[2] = {(uint32_t)c, 0};
    int rc = sa_snapshot_write(path, &info, next_stack, it);
    if (rc != 0) {
        fprintf(stderr, "check_mkset: %s: %s\n", path, strerror(-rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int skip[NCLASSES] = {0}, want[NCLASSES] = {1, 1, 1, 1, 0, 0}, done = 1, badseq = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: check_mkset DIR [CLASS:SITE=COUNT | FLAG]...\n");
        return 2;
    }
    for (int a = 2; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "nodone") == 0) {
            done = 0;
            continue;
        }
        if (strcmp(arg, "badseq") == 0) {
            badseq = 1;
            continue;
        }
        int c;
        for (c = 0; c < NCLASSES; c++) {
            size_t k = strlen(class_names[c]);
            if (strncmp(arg, "skip=", 5) == 0 && strcmp(arg + 5, class_names[c]) == 0) {
                skip[c] = 1;
                break;
            }
            if (strcmp(arg, class_names[c]) == 0) {
                want[c] = 1;
                break;
            }
            if (strncmp(arg, class_names[c], k) == 0 && arg[k] == ':')
                break;
        }
        if (c == NCLASSES || skip[c] || strchr(arg, ':') == NULL) {
            if (c < NCLASSES)
                continue;
            fprintf(stderr, "check_mkset: %s: unknown argument\n", arg);
            return 2;
        }
        want[c] = 1;
        cur = c;
        const char *site = strchr(arg, ':') + 1;
        const char *eq = strchr(site, '=');
        if (!eq) {
            fprintf(stderr, "check_mkset: %s: expected CLASS:SITE=COUNT\n", arg);
            return 2;
        }
        size_t sl = (size_t)(eq - site);
        uint64_t n = strtoull(eq + 1, NULL, 10);
#define IS(s) (sl == strlen(s) && strncmp(site, s, sl) == 0)
        if (IS("small")) alloc_small(n);
        else if (IS("other")) alloc_other(n);
        else if (IS("node")) make_node(n);
        else if (IS("big")) alloc_big(n);
        else if (IS("str")) dup_name(n);
        else if (IS("lib")) lib_alloc(n);
        else if (IS("wrap")) alloc_wrapped(n);
        else if (IS("pre")) check_record(NULL, 100, n);
        else {
            fprintf(stderr, "check_mkset: %s: unknown site\n", arg);
            return 2;
        }
    }
    for (int c = 0; c < NCLASSES; c++) {
        if (!want[c] || skip[c])
            continue;
        uint32_t trigger = c == BASELINE ? 6 : c == EXIT ? SA_SNAP_TRIGGER_EXIT : 5;
        uint32_t seq = c <= REACHABLE ? (uint32_t)c + 1 : 0;
        if (c == DEFINITE && badseq)
            seq = 3;
        if (write_class(argv[1], c, trigger, seq) != 0)
            return 1;
    }
    if (done) {
        char tmp[4096], path[4096];
        snprintf(tmp, sizeof tmp, "%s/%ld.done.tmp", argv[1], (long)getpid());
        snprintf(path, sizeof path, "%s/%ld.done", argv[1], (long)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || close(fd) != 0 || rename(tmp, path) != 0) {
            perror("check_mkset: done");
            return 1;
        }
    }
    printf("%ld\n", (long)getpid());
    return 0;
}
