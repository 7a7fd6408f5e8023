/* test_snapshot.c - the snapshot file: writer and reader round trip,
 * atomic replacement, robustness of the reader against truncated, flipped
 * and lying input, and the size bound.  Byte offsets used here are the
 * ones specified in doc/snapshot-format.md, so these tests also pin the
 * documented layout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "format/snapshot.h"

/* ---- helpers ---------------------------------------------------------- */

typedef struct iter {
    const sa_snap_wstack *stacks;
    size_t n, i;
} iter;

static int iter_next(void *ctx, sa_snap_wstack *out)
{
    iter *it = ctx;
    if (it->i == it->n)
        return 0;
    *out = it->stacks[it->i++];
    return 1;
}

__attribute__((noinline)) static int helper_a(int x) { return x * 3 + 1; }
__attribute__((noinline)) static int helper_b(int x) { return helper_a(x) - 2; }

static char *make_dir(void)
{
    char *d = strdup("/tmp/test_snapshot.XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static char *join(const char *dir, const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* Names in dir, sorted into one string "a,b,". */
static char *list_dir(const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    cr_assert(n >= 0);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
            len += (size_t)snprintf(out + len, cap - len, "%s,", ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    return out;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    *len = 0;
    size_t n;
    while ((n = fread(buf + *len, 1, cap - *len, f)) > 0) {
        *len += n;
        if (*len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static char *self_exe(void)
{
    static char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    cr_assert(n > 0);
    buf[n] = '\0';
    return buf;
}

/* Version 3's sections: three points, and a histogram of the three
 * stacks' blocks (2 x 50 B, 1 x 4096 B, 7 x 1 B). */
static const sa_snap_point k_points[3] = {
    {1700000000000000000ll, 1000, 4096}, {1700000000500000000ll, 5000, 8192},
    {1700000000500000000ll, 4203, 12288},
};
static const uint64_t k_hist_count[SA_SNAP_HIST_BUCKETS] = {[1] = 7, [6] = 2, [13] = 1};
static const uint64_t k_hist_size[SA_SNAP_HIST_BUCKETS] = {[1] = 7, [6] = 100, [13] = 4096};

static const sa_snap_winfo k_info = {
    .frame_limit = 16, .traced_current = 123456789012ull, .traced_peak = 987654321098ull,
    .trigger = SA_SNAP_TRIGGER_SIGNAL, .sequence = 42, .sample_interval = 65536,
    .ntimeline = 3, .timeline = k_points, .hist_count = k_hist_count, .hist_size = k_hist_size,
};

static uintptr_t frames_a[3], frames_b[2];
static sa_snap_wstack k_stacks[3];

static void setup_stacks(void)
{
    frames_a[0] = (uintptr_t)&helper_a;
    frames_a[1] = (uintptr_t)&getpid;    /* libc, not intercepted by sanitizers */
    frames_a[2] = 0x10;
    frames_b[0] = (uintptr_t)&helper_b;
    frames_b[1] = (uintptr_t)&helper_a;    /* shared with stack 0 */
    k_stacks[0] = (sa_snap_wstack){3, frames_a, 100, 2};
    k_stacks[1] = (sa_snap_wstack){2, frames_b, 4096, 1};
    k_stacks[2] = (sa_snap_wstack){0, NULL, 7, 7};
}

/* Write the three-stack snapshot to path; returns the writer's result. */
static int write_small(const char *path)
{
    setup_stacks();
    iter it = {k_stacks, 3, 0};
    return sa_snapshot_write(path, &k_info, iter_next, &it);
}

/* The bytes of the three-stack snapshot file as written (version 3: a
 * compressed container). */
static unsigned char *small_file(size_t *len)
{
    char *dir = make_dir();
    char *path = join(dir, "s.snap");
    cr_assert_eq(write_small(path), 0);
    unsigned char *b = slurp(path, len);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
    return b;
}

static unsigned char *small_bytes(size_t *len);   /* below: as version 2 */

static uint32_t get32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* The documented checksum, computed independently of the writer. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void fix_checksum(unsigned char *b, size_t len)
{
    put64(b + len - 8, fnv1a(b, len - 8));
}

/* ---- version 3: the container and the logical file ------------------ */

static uint64_t get64(const unsigned char *b)
{
    return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

/* The logical file inside a container, inflated with zlib directly. */
static unsigned char *unwrap(const unsigned char *b, size_t len, size_t *out)
{
    cr_assert_geq(len, 24);
    cr_assert_eq(memcmp(b, "SNAPALZ\0", 8), 0);
    cr_assert_eq(get32(b + 8), 3);
    cr_assert_eq(get32(b + 12), 0);
    uLongf n = (uLongf)get64(b + 16);
    unsigned char *l = malloc(n);
    cr_assert_eq(uncompress(l, &n, b + 24, (uLong)(len - 24)), Z_OK);
    cr_assert_eq(n, get64(b + 16));
    *out = n;
    return l;
}

/* A container around logical bytes, deflated with zlib directly. */
static unsigned char *wrap(const unsigned char *l, size_t n, size_t *out)
{
    uLongf cap = compressBound((uLong)n);
    unsigned char *b = malloc(24 + cap);
    memcpy(b, "SNAPALZ\0", 8);
    put32(b + 8, 3);
    put32(b + 12, 0);
    put64(b + 16, n);
    cr_assert_eq(compress2(b + 24, &cap, l, (uLong)n, 6), Z_OK);
    *out = 24 + cap;
    return b;
}

static unsigned char *small_logical(size_t *len)
{
    size_t n;
    unsigned char *b = small_file(&n);
    unsigned char *l = unwrap(b, n, len);
    free(b);
    return l;
}

static size_t varint_at(const unsigned char *b, size_t p, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        x |= (uint64_t)(b[p] & 0x7f) << shift;
        if (!(b[p++] & 0x80))
            break;
    }
    if (v)
        *v = x;
    return p;
}

static void put_byte_buf(unsigned char **b, size_t *n, size_t *cap, const void *p, size_t k)
{
    if (*n + k > *cap) {
        *cap = (*n + k) * 2;
        *b = realloc(*b, *cap);
    }
    memcpy(*b + *n, p, k);
    *n += k;
}

static void put32_buf(unsigned char **b, size_t *n, size_t *cap, uint32_t v)
{
    unsigned char x[4];
    put32(x, v);
    put_byte_buf(b, n, cap, x, 4);
}

static void put64_buf(unsigned char **b, size_t *n, size_t *cap, uint64_t v)
{
    unsigned char x[8];
    put64(x, v);
    put_byte_buf(b, n, cap, x, 8);
}

/* A parsed snapshot encoded as version 2, from doc/snapshot-format.md's
 * description of that version (every frame reference its own entry of
 * the frame table), so that the tests of the version-2 reader keep
 * running on files the current writer no longer makes. */
static unsigned char *encode_v2(const sa_snapshot *s, size_t *len)
{
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    put_byte_buf(&b, &n, &cap, "SNAPALC\0", 8);
    put32_buf(&b, &n, &cap, 2);
    put32_buf(&b, &n, &cap, s->pid);
    put64_buf(&b, &n, &cap, (uint64_t)s->time_ns);
    put64_buf(&b, &n, &cap, s->traced_current);
    put64_buf(&b, &n, &cap, s->traced_peak);
    put32_buf(&b, &n, &cap, s->frame_limit);
    put32_buf(&b, &n, &cap, s->trigger);
    put32_buf(&b, &n, &cap, s->sequence);
    put32_buf(&b, &n, &cap, s->nmodules);
    put32_buf(&b, &n, &cap, (uint32_t)strlen(s->exe));
    put32_buf(&b, &n, &cap, (uint32_t)strlen(s->cmdline));
    put_byte_buf(&b, &n, &cap, s->exe, strlen(s->exe));
    put_byte_buf(&b, &n, &cap, s->cmdline, strlen(s->cmdline));
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const sa_snap_module *m = &s->modules[i];
        put32_buf(&b, &n, &cap, (uint32_t)strlen(m->path));
        put32_buf(&b, &n, &cap, m->build_id_len);
        put32_buf(&b, &n, &cap, m->nsegments);
        put64_buf(&b, &n, &cap, m->base);
        put32_buf(&b, &n, &cap, m->flags);
        put_byte_buf(&b, &n, &cap, m->path, strlen(m->path));
        put_byte_buf(&b, &n, &cap, m->build_id, m->build_id_len);
        for (uint32_t k = 0; k < m->nsegments; k++) {
            put64_buf(&b, &n, &cap, m->segments[k].vaddr);
            put64_buf(&b, &n, &cap, m->segments[k].memsz);
            put32_buf(&b, &n, &cap, m->segments[k].flags);
        }
    }
    uint32_t ref = 0;
    for (uint32_t i = 0; i < s->nstacks; i++) {
        put32_buf(&b, &n, &cap, s->stacks[i].nframes);
        put64_buf(&b, &n, &cap, s->stacks[i].size);
        put64_buf(&b, &n, &cap, s->stacks[i].count);
        for (uint32_t k = 0; k < s->stacks[i].nframes; k++)
            put32_buf(&b, &n, &cap, ref++);
    }
    put32_buf(&b, &n, &cap, 0xFFFFFFFFu);
    put32_buf(&b, &n, &cap, ref);
    for (uint32_t i = 0; i < s->nstacks; i++)
        for (uint32_t k = 0; k < s->stacks[i].nframes; k++) {
            put32_buf(&b, &n, &cap, s->stacks[i].frames[k].module);
            put64_buf(&b, &n, &cap, s->stacks[i].frames[k].offset);
        }
    put32_buf(&b, &n, &cap, s->nstacks);
    put32_buf(&b, &n, &cap, 0);
    put64_buf(&b, &n, &cap, s->total_size);
    put64_buf(&b, &n, &cap, s->total_count);
    put_byte_buf(&b, &n, &cap, "SNAPEND\0", 8);
    put64_buf(&b, &n, &cap, 0);
    fix_checksum(b, n);
    *len = n;
    return b;
}

/* The three-stack snapshot as a version-2 file. */
static unsigned char *small_bytes(size_t *len)
{
    size_t n;
    unsigned char *b = small_file(&n);
    char err[256];
    sa_snapshot *s = sa_snapshot_parse(b, n, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    unsigned char *v2 = encode_v2(s, len);
    sa_snapshot_free(s);
    free(b);
    return v2;
}

/* Offsets in the logical version-3 file, walked as the spec describes. */
typedef struct layout3 {
    size_t stacks, tree, frames, timeline, histogram, trailer;
    uint64_t nnodes, nframes;
} layout3;

static layout3 walk3(const unsigned char *b, size_t len)
{
    layout3 l;
    uint32_t nmod = get32(b + 52);
    size_t p = 64 + get32(b + 56) + get32(b + 60);
    for (uint32_t i = 0; i < nmod; i++)
        p += 24 + get32(b + p) + get32(b + p + 4) + 20 * (size_t)get32(b + p + 8);
    l.stacks = p;
    for (uint64_t node;;) {
        p = varint_at(b, p, &node);
        if (!node)
            break;
        p = varint_at(b, varint_at(b, p, NULL), NULL);
    }
    l.tree = p;
    p = varint_at(b, p, &l.nnodes);
    for (uint64_t i = 0; i < 2 * l.nnodes; i++)
        p = varint_at(b, p, NULL);
    l.frames = p;
    p = varint_at(b, p, &l.nframes);
    for (uint64_t i = 0; i < 2 * l.nframes; i++)
        p = varint_at(b, p, NULL);
    l.timeline = p;
    l.histogram = l.timeline + 4 + 24 * (size_t)get32(b + l.timeline);
    l.trailer = l.histogram + 4 + 16 * (size_t)get32(b + l.histogram);
    cr_assert_eq(l.trailer + 40, len, "layout walk does not end at the file end");
    return l;
}

/* Offsets of the variable sections, walked as the spec describes. */
typedef struct layout {
    size_t module0;       /* first module record */
    size_t stacks;        /* first stack record */
    size_t end_stacks;    /* the 0xFFFFFFFF marker */
    size_t frames;        /* the frame count */
    size_t timeline;      /* version 3: the point count */
    size_t histogram;     /* version 3: the bucket count */
    size_t trailer;
} layout;

static layout walk(const unsigned char *b, size_t len)
{
    layout l;
    uint32_t nmod = get32(b + 52);
    size_t p = 64 + get32(b + 56) + get32(b + 60);
    l.module0 = p;
    for (uint32_t i = 0; i < nmod; i++)
        p += 24 + get32(b + p) + get32(b + p + 4) + 20 * (size_t)get32(b + p + 8);
    l.stacks = p;
    while (get32(b + p) != 0xFFFFFFFFu)
        p += 20 + 4 * (size_t)get32(b + p);
    l.end_stacks = p;
    l.frames = p + 4;
    l.timeline = l.frames + 4 + 12 * (size_t)get32(b + l.frames);
    l.histogram = l.timeline;
    l.trailer = l.timeline;
    if (get32(b + 8) >= 3) {
        l.histogram = l.timeline + 4 + 24 * (size_t)get32(b + l.timeline);
        l.trailer = l.histogram + 4 + 16 * (size_t)get32(b + l.histogram);
    }
    cr_assert_eq(l.trailer + 40, len, "layout walk does not end at the file end");
    return l;
}

static const sa_snap_module *module_of(const sa_snapshot *s, const sa_snap_frame *f)
{
    cr_assert_neq(f->module, SA_SNAP_NO_MODULE);
    cr_assert_lt(f->module, s->nmodules);
    return &s->modules[f->module];
}

/* Load bias and path of the object holding addr, from the loader. */
static void loader_facts(uintptr_t addr, uint64_t *base, const char **name)
{
    Dl_info di;
    struct link_map *lm = NULL;
    cr_assert(dladdr1((void *)addr, &di, (void **)&lm, RTLD_DL_LINKMAP) != 0);
    cr_assert_not_null(lm);
    *base = lm->l_addr;
    *name = lm->l_name;
}

/* The build-id note as it must appear in the object's file. */
static void assert_build_id_in_file(const sa_snap_module *m)
{
    cr_assert_eq(m->build_id_len, 20, "%s: build-id of %u bytes", m->path, m->build_id_len);
    unsigned char note[16 + 64];
    put32(note, 4);
    put32(note + 4, m->build_id_len);
    put32(note + 8, 3);    /* NT_GNU_BUILD_ID */
    memcpy(note + 12, "GNU", 4);
    memcpy(note + 16, m->build_id, m->build_id_len);
    size_t len;
    unsigned char *file = slurp(m->path, &len);
    cr_assert_not_null(memmem(file, len, note, 16 + m->build_id_len),
                       "%s: the recorded build-id is not the file's", m->path);
    free(file);
}

/* AddressSanitizer reserves terabytes of shadow: there, rely on its own
 * allocation checks instead of the address-space cap. */
static void limit_as(rlim_t bytes)
{
#ifdef __SANITIZE_ADDRESS__
    return;
#endif
    struct rlimit rl = {bytes, bytes};
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

/* Parse b (len) and expect failure with substring want. */
static void expect_error(const unsigned char *b, size_t len, const char *want)
{
    char err[256] = "";
    sa_snapshot *s = sa_snapshot_parse(b, len, err, sizeof err);
    cr_assert_null(s, "parsed, expected \"%s\"", want);
    cr_assert_not_null(strstr(err, want), "error \"%s\", expected \"%s\"", err, want);
}

/* ---- round trip ------------------------------------------------------- */

Test(snapshot, round_trip)
{
    struct timespec t0, t1;
    char *dir = make_dir();
    char *path = join(dir, "s.snap");
    clock_gettime(CLOCK_REALTIME, &t0);
    cr_assert_eq(write_small(path), 0);
    clock_gettime(CLOCK_REALTIME, &t1);

    char err[256] = "x";
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "read: %s", err);
    cr_assert_str_eq(err, "");
    cr_assert_eq(s->version, 3);
    cr_assert_eq(s->pid, (uint32_t)getpid());
    cr_assert_eq(s->frame_limit, 16);
    cr_assert_eq(s->traced_current, 123456789012ull);
    cr_assert_eq(s->traced_peak, 987654321098ull);
    cr_assert_eq(s->trigger, SA_SNAP_TRIGGER_SIGNAL);
    cr_assert_eq(s->sequence, 42);
    cr_assert_eq(s->sample_interval, 65536);
    /* The write's own wall-clock time; a minute of slack on each side
     * so that a clock step during the test cannot fail it. */
    int64_t lo = ((int64_t)t0.tv_sec - 60) * 1000000000 + t0.tv_nsec;
    int64_t hi = ((int64_t)t1.tv_sec + 60) * 1000000000 + t1.tv_nsec;
    cr_assert(s->time_ns >= lo && s->time_ns <= hi, "time %lld outside the write", (long long)s->time_ns);
    cr_assert_str_eq(s->exe, self_exe());

    /* The command line: /proc/self/cmdline with NULs as spaces. */
    size_t clen;
    unsigned char *cl = slurp("/proc/self/cmdline", &clen);
    if (clen && cl[clen - 1] == '\0')
        clen--;
    for (size_t i = 0; i < clen; i++)
        if (!cl[i])
            cl[i] = ' ';
    cl[clen] = '\0';
    cr_assert_str_eq(s->cmdline, (char *)cl);
    free(cl);

    cr_assert_eq(s->nstacks, 3);
    cr_assert_eq(s->total_size, 100 + 4096 + 7);
    cr_assert_eq(s->total_count, 10);
    cr_assert_eq(s->stacks[0].nframes, 3);
    cr_assert_eq(s->stacks[0].size, 100);
    cr_assert_eq(s->stacks[0].count, 2);
    cr_assert_eq(s->stacks[1].nframes, 2);
    cr_assert_eq(s->stacks[1].size, 4096);
    cr_assert_eq(s->stacks[1].count, 1);
    cr_assert_eq(s->stacks[2].nframes, 0);
    cr_assert_eq(s->stacks[2].size, 7);
    cr_assert_eq(s->stacks[2].count, 7);

    /* The timeline and the histogram, as written. */
    cr_assert_eq(s->ntimeline, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s->timeline[i].time_ns, k_points[i].time_ns);
        cr_assert_eq(s->timeline[i].traced, k_points[i].traced);
        cr_assert_eq(s->timeline[i].rss, k_points[i].rss);
    }
    cr_assert(s->has_histogram);
    for (unsigned i = 0; i < SA_SNAP_HIST_BUCKETS; i++) {
        cr_assert_eq(s->hist_count[i], k_hist_count[i], "bucket %u", i);
        cr_assert_eq(s->hist_size[i], k_hist_size[i], "bucket %u", i);
    }

    /* Frame in the test binary: module is the executable. */
    uint64_t base;
    const char *lname;
    const sa_snap_frame *fa = &s->stacks[0].frames[0];
    const sa_snap_module *exe = module_of(s, fa);
    loader_facts((uintptr_t)&helper_a, &base, &lname);
    cr_assert_str_eq(exe->path, self_exe());
    cr_assert_eq(exe->base, base);
    cr_assert_eq(fa->offset, (uintptr_t)&helper_a - base);
    cr_assert_eq(fa->module, 0, "the main program is module 0");
    int in_exec = 0;
    for (uint32_t k = 0; k < exe->nsegments; k++) {
        const sa_snap_segment *g = &exe->segments[k];
        if (fa->offset >= g->vaddr && fa->offset < g->vaddr + g->memsz)
            in_exec = (g->flags & PF_X) != 0;
    }
    cr_assert(in_exec, "helper_a is not inside an executable segment of the exe");
    assert_build_id_in_file(exe);

    /* Frame in libc. */
    const sa_snap_frame *fp = &s->stacks[0].frames[1];
    const sa_snap_module *libc = module_of(s, fp);
    loader_facts((uintptr_t)&getpid, &base, &lname);
    cr_assert_str_eq(libc->path, lname);
    cr_assert_not_null(strstr(libc->path, "libc.so"), "getpid in %s", libc->path);
    cr_assert_eq(libc->base, base);
    cr_assert_eq(fp->offset, (uintptr_t)&getpid - base);
    assert_build_id_in_file(libc);

    /* The bogus address stays absolute. */
    cr_assert_eq(s->stacks[0].frames[2].module, SA_SNAP_NO_MODULE);
    cr_assert_eq(s->stacks[0].frames[2].offset, 0x10);

    /* Stack 1: helper_b, then the frame shared with stack 0. */
    const sa_snap_frame *fb = &s->stacks[1].frames[0];
    cr_assert_eq(fb->module, 0);
    cr_assert_eq(fb->offset, (uintptr_t)&helper_b - exe->base);
    cr_assert_eq(s->stacks[1].frames[1].module, fa->module);
    cr_assert_eq(s->stacks[1].frames[1].offset, fa->offset);
    cr_assert_eq(helper_b(1), 2);

    sa_snapshot_free(s);
    unlink(path);
    rmdir(dir);
}

Test(snapshot, module_table_matches_loader)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    sa_snapshot *s = sa_snapshot_parse(b, len, NULL, 0);
    cr_assert_not_null(s);
    /* Every module has segments, and libc's file-backed objects exist. */
    int have_libc = 0;
    for (uint32_t i = 0; i < s->nmodules; i++) {
        cr_assert_gt(s->modules[i].nsegments, 0, "module %s", s->modules[i].path);
        cr_assert_gt(strlen(s->modules[i].path), 0);
        have_libc |= strstr(s->modules[i].path, "libc.so") != NULL;
    }
    cr_assert(have_libc);
    sa_snapshot_free(s);
    free(b);
    /* The file is a container around the logical file, whose checksum
     * is FNV-1a 64 of everything before it. */
    b = small_logical(&len);
    uint64_t stored = (uint64_t)get32(b + len - 8) | (uint64_t)get32(b + len - 4) << 32;
    cr_assert_eq(stored, fnv1a(b, len - 8));
    cr_assert_eq(memcmp(b, "SNAPALC\0", 8), 0);
    cr_assert_eq(get32(b + 8), 3);
    cr_assert_eq(memcmp(b + len - 16, "SNAPEND\0", 8), 0);
    layout3 l = walk3(b, len);
    /* Three stacks: 3 frames, 2 frames sharing none of the first's outer
     * ones, none; so 5 nodes and 4 distinct frames. */
    cr_assert_eq(l.nnodes, 5);
    cr_assert_eq(l.nframes, 4);
    free(b);
}

Test(snapshot, empty_iterator)
{
    char *dir = make_dir();
    char *path = join(dir, "e.snap");
    iter it = {NULL, 0, 0};
    cr_assert_eq(sa_snapshot_write(path, &k_info, iter_next, &it), 0);
    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(s->nstacks, 0);
    cr_assert_eq(s->total_size, 0);
    cr_assert_eq(s->total_count, 0);
    sa_snapshot_free(s);
    unlink(path);
    rmdir(dir);
}

/* ---- atomicity -------------------------------------------------------- */

Test(snapshot, mode_0600_and_no_temp_left)
{
    umask(022);
    char *dir = make_dir();
    char *path = join(dir, "out.snap");
    cr_assert_eq(write_small(path), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
    cr_assert_str_eq(list_dir(dir), "out.snap,");
    /* A second snapshot to the same path replaces the first. */
    cr_assert_eq(write_small(path), 0);
    cr_assert_str_eq(list_dir(dir), "out.snap,");
    unlink(path);
    rmdir(dir);
}

Test(snapshot, missing_directory)
{
    char *dir = make_dir();
    char *path = join(dir, "nope/out.snap");
    cr_assert_eq(write_small(path), -ENOENT);
    cr_assert_str_eq(list_dir(dir), "");
    rmdir(dir);
}

Test(snapshot, replaces_existing_file)
{
    char *dir = make_dir();
    char *path = join(dir, "out.snap");
    spit(path, "old contents\n", 13);
    cr_assert_eq(write_small(path), 0);
    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(s->nstacks, 3);
    sa_snapshot_free(s);
    cr_assert_str_eq(list_dir(dir), "out.snap,");
    unlink(path);
    rmdir(dir);
}

/* Many stacks of pseudo-random frames (nothing for the tree or deflate
 * to share), so that the file is well over the size limit below. */
static int write_big(const char *path, size_t nstacks)
{
    uintptr_t *frames = malloc(nstacks * 8 * sizeof *frames);
    sa_snap_wstack *st = calloc(nstacks, sizeof *st);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < nstacks * 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        frames[i] = (uintptr_t)x;
    }
    for (size_t i = 0; i < nstacks; i++)
        st[i] = (sa_snap_wstack){8, frames + 8 * i, i, 1};
    iter it = {st, nstacks, 0};
    int rc = sa_snapshot_write(path, &k_info, iter_next, &it);
    free(st);
    free(frames);
    return rc;
}

static void set_fsize(rlim_t bytes)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = bytes;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

Test(snapshot, full_disk_leaves_nothing)
{
    char *dir = make_dir();
    char *path = join(dir, "out.snap");
    set_fsize(16384);
    cr_assert_eq(write_big(path, 5000), -EFBIG);
    set_fsize(RLIM_INFINITY);
    cr_assert_str_eq(list_dir(dir), "");
    rmdir(dir);
}

Test(snapshot, full_disk_keeps_old_file)
{
    char *dir = make_dir();
    char *path = join(dir, "out.snap");
    spit(path, "old contents\n", 13);
    set_fsize(16384);
    cr_assert_eq(write_big(path, 5000), -EFBIG);
    set_fsize(RLIM_INFINITY);
    cr_assert_str_eq(list_dir(dir), "out.snap,");
    size_t len;
    unsigned char *b = slurp(path, &len);
    cr_assert_eq(len, 13);
    cr_assert_eq(memcmp(b, "old contents\n", 13), 0);
    free(b);
    unlink(path);
    rmdir(dir);
}

Test(snapshot, preserves_errno)
{
    char *dir = make_dir();
    char *path = join(dir, "nope/out.snap");
    errno = 4242;
    cr_assert_eq(write_small(path), -ENOENT);
    cr_assert_eq(errno, 4242);
    rmdir(dir);
}

/* ---- reader robustness ------------------------------------------------ */

Test(snapshot, every_truncation_fails)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    cr_assert_gt(len, 200);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1);    /* exact size: ASan/valgrind catch overreads */
        memcpy(copy, b, n);
        char err[256] = "";
        sa_snapshot *s = sa_snapshot_parse(copy, n, err, sizeof err);
        cr_assert_null(s, "truncated to %zu of %zu bytes, it parsed", n, len);
        if (n == 0)
            cr_assert_str_eq(err, "empty file (not a snapalloc snapshot)");
        else
            cr_assert_not_null(strstr(err, "truncated file: "), "at %zu: \"%s\"", n, err);
        free(copy);
    }
    free(b);
}

Test(snapshot, truncation_message_is_precise)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    expect_error(b, 30, "truncated file: expected 8 more bytes at offset 24, file ends at 30");
    free(b);
}

/* After a parse that succeeded anyway, the structure must be coherent. */
static void assert_coherent(const sa_snapshot *s)
{
    uint64_t size = 0, count = 0;
    for (uint32_t i = 0; i < s->nstacks; i++) {
        for (uint32_t k = 0; k < s->stacks[i].nframes; k++) {
            uint32_t m = s->stacks[i].frames[k].module;
            cr_assert(m == SA_SNAP_NO_MODULE || m < s->nmodules);
        }
        size += s->stacks[i].size;
        count += s->stacks[i].count;
    }
    cr_assert_eq(size, s->total_size);
    cr_assert_eq(count, s->total_count);
}

/* Whether a and b hold the same snapshot: header, stacks and frames,
 * modules, timeline and histogram. */
static int same_snapshot(const sa_snapshot *a, const sa_snapshot *b)
{
    if (a->version != b->version || a->pid != b->pid || a->time_ns != b->time_ns ||
        strcmp(a->exe, b->exe) || strcmp(a->cmdline, b->cmdline) ||
        a->frame_limit != b->frame_limit || a->trigger != b->trigger ||
        a->sequence != b->sequence || a->traced_current != b->traced_current ||
        a->traced_peak != b->traced_peak || a->total_size != b->total_size ||
        a->total_count != b->total_count || a->nmodules != b->nmodules ||
        a->nstacks != b->nstacks || a->sample_interval != b->sample_interval ||
        a->ntimeline != b->ntimeline || a->has_histogram != b->has_histogram ||
        memcmp(a->hist_count, b->hist_count, sizeof a->hist_count) ||
        memcmp(a->hist_size, b->hist_size, sizeof a->hist_size) ||
        (a->ntimeline && memcmp(a->timeline, b->timeline, a->ntimeline * sizeof *a->timeline)))
        return 0;
    for (uint32_t i = 0; i < a->nmodules; i++)
        if (strcmp(a->modules[i].path, b->modules[i].path) || a->modules[i].base != b->modules[i].base)
            return 0;
    for (uint32_t i = 0; i < a->nstacks; i++) {
        const sa_snap_stack *x = &a->stacks[i], *y = &b->stacks[i];
        if (x->size != y->size || x->count != y->count || x->nframes != y->nframes)
            return 0;
        for (uint32_t k = 0; k < x->nframes; k++)
            if (x->frames[k].module != y->frames[k].module || x->frames[k].offset != y->frames[k].offset)
                return 0;
    }
    return 1;
}

/* Flip 1 to 4 random bits of b (len bytes) in each of 2000 trials (a
 * fixed seed): every file the reader accepts is coherent and, unless
 * harmless may be nonzero, counted in *harmless when it reads as the
 * same snapshot as b; every one it rejects has a one-line message.
 * *tried counts the files that differ from b; returns the number
 * rejected. */
static int flip_trials(const unsigned char *b, size_t len, int *tried, int *harmless)
{
    char err0[256] = "";
    sa_snapshot *orig = sa_snapshot_parse(b, len, err0, sizeof err0);
    cr_assert_not_null(orig, "%s", err0);
    *harmless = 0;
    unsigned char *copy = malloc(len);
    uint64_t x = 0x5eed5eed12345678ull;    /* xorshift64 */
    int rejected = 0;
    *tried = 0;
    for (int trial = 0; trial < 2000; trial++) {
        memcpy(copy, b, len);
        for (int f = 0; f < 1 + trial % 4; f++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            copy[x % len] ^= (unsigned char)(1u << ((x >> 32) % 8));
        }
        if (memcmp(copy, b, len) == 0)
            continue;    /* two flips cancelled out */
        (*tried)++;
        char err[256] = "";
        sa_snapshot *s = sa_snapshot_parse(copy, len, err, sizeof err);
        if (s) {
            assert_coherent(s);
            *harmless += same_snapshot(s, orig);
            sa_snapshot_free(s);
        } else {
            cr_assert_neq(err[0], '\0');
            cr_assert_null(strchr(err, '\n'));
            rejected++;
        }
    }
    free(copy);
    sa_snapshot_free(orig);
    return rejected;
}

Test(snapshot, random_flips_are_detected)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    int tried, harmless, rejected = flip_trials(b, len, &tried, &harmless);
    /* FNV-1a detects every single-byte change; a collision for several is
     * a 2^-64 event. */
    cr_assert_eq(rejected, tried, "only %d of %d damaged files were rejected", rejected, tried);
    free(b);
}

Test(snapshot, single_flip_is_a_checksum_mismatch)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    layout l = walk(b, len);
    b[l.stacks + 5] ^= 0x40;    /* a byte of the first stack's size */
    expect_error(b, len, "corrupt file: checksum mismatch");
    free(b);
}

Test(snapshot, wrong_magic)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    b[3] = 'X';
    expect_error(b, len, "not a snapalloc snapshot");
    expect_error((const unsigned char *)"#!/bin/sh\necho hi\n", 18, "not a snapalloc snapshot");
    free(b);
}

Test(snapshot, wrong_version)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    put32(b + 8, 4);
    fix_checksum(b, len);
    char err[256];
    cr_assert_null(sa_snapshot_parse(b, len, err, sizeof err));
    cr_assert_str_eq(err, "unsupported snapshot version 4 (this snapalloc reads versions 1 to 3)");
    put32(b + 8, 0);
    fix_checksum(b, len);
    cr_assert_null(sa_snapshot_parse(b, len, err, sizeof err));
    cr_assert_str_eq(err, "unsupported snapshot version 0 (this snapalloc reads versions 1 to 3)");
    /* Version 3 only inside its container. */
    put32(b + 8, 3);
    fix_checksum(b, len);
    cr_assert_null(sa_snapshot_parse(b, len, err, sizeof err));
    cr_assert_str_eq(err, "corrupt file: a version-3 snapshot outside a compressed container");
    free(b);
}

/* Lying fields with a valid checksum, so the structural checks are what
 * stops them; the address space is capped to show no giant allocation. */
#define LIE_TEST(name, want, patch)                         \
    Test(snapshot_lies, name)                               \
    {                                                       \
        size_t len;                                         \
        unsigned char *b = small_bytes(&len);               \
        layout l = walk(b, len);                            \
        (void)l;                                            \
        patch;                                              \
        fix_checksum(b, len);                               \
        limit_as((rlim_t)1 << 30);                          \
        expect_error(b, len, want);                         \
        free(b);                                            \
    }

LIE_TEST(nmodules_huge, "truncated file: 4294967295 modules need at least",
         put32(b + 52, 0xFFFFFFFFu))
LIE_TEST(exe_len_huge, "truncated file: expected 4294967295 more bytes at offset 64",
         put32(b + 56, 0xFFFFFFFFu))
LIE_TEST(cmdline_len_huge, "truncated file: expected 4294967295 more bytes",
         put32(b + 60, 0xFFFFFFFFu))
LIE_TEST(module_path_len_huge, "truncated file: expected 4294967295 more bytes",
         put32(b + l.module0, 0xFFFFFFFFu))
LIE_TEST(build_id_too_long, "has a 65-byte build-id (at most 64)",
         put32(b + l.module0 + 4, 65))
LIE_TEST(module_flags_unknown, "corrupt file: module 0 at offset",
         put32(b + l.module0 + 20, 2))
LIE_TEST(nsegments_huge, "truncated file: 4294967295 segments need at least",
         put32(b + l.module0 + 8, 0xFFFFFFFFu))
LIE_TEST(stack_nframes_huge, "truncated file: expected 8589934604 more bytes",
         put32(b + l.stacks, 0x7FFFFFFFu))
LIE_TEST(nframes_table_huge, "truncated file: 4294967295 frames need at least",
         put32(b + l.frames, 0xFFFFFFFFu))
LIE_TEST(frame_module_out_of_range, "corrupt file: frame 0 at offset",
         put32(b + l.frames + 4, get32(b + 52)))
LIE_TEST(stack_frame_index_out_of_range, "corrupt file: stack 0 at offset",
         put32(b + l.stacks + 20, get32(b + l.frames)))
LIE_TEST(trailer_nstacks_wrong, "corrupt file: trailer at offset",
         put32(b + l.trailer, 4))
/* Versions 1 and 2: the trailer's second field is reserved. */
LIE_TEST(trailer_reserved_nonzero, "corrupt file: reserved trailer field at offset",
         put32(b + l.trailer + 4, 1))
LIE_TEST(trailer_total_wrong, "corrupt file: trailer totals do not match the stacks",
         put64(b + l.trailer + 8, 1))
LIE_TEST(nul_in_exe_path, "corrupt file: NUL byte in executable path at offset 64",
         b[65] = '\0')
LIE_TEST(end_marker_damaged, "corrupt file: no end marker at offset", b[len - 16] = 'X')
Test(snapshot_lies, trailing_garbage)
{
    size_t len;
    unsigned char *b = small_bytes(&len);
    b = realloc(b, len + 3);
    memcpy(b + len, "abc", 3);
    expect_error(b, len + 3, "corrupt file: 3 bytes of unexpected data after the end marker");
    free(b);
}

/* ---- reading files ---------------------------------------------------- */

Test(snapshot, read_errors)
{
    char *dir = make_dir();
    char err[256];
    cr_assert_null(sa_snapshot_read(dir, err, sizeof err));
    cr_assert_str_eq(err, strerror(EISDIR));
    char *missing = join(dir, "missing.snap");
    cr_assert_null(sa_snapshot_read(missing, err, sizeof err));
    cr_assert_str_eq(err, strerror(ENOENT));
    char *empty = join(dir, "empty.snap");
    spit(empty, "", 0);
    cr_assert_null(sa_snapshot_read(empty, err, sizeof err));
    cr_assert_str_eq(err, "empty file (not a snapalloc snapshot)");
    if (geteuid() != 0) {    /* root reads mode-000 files anyway */
        chmod(empty, 0);
        cr_assert_null(sa_snapshot_read(empty, err, sizeof err));
        cr_assert_str_eq(err, strerror(EACCES));
    }
    unlink(empty);
    rmdir(dir);
}

/* ---- size ------------------------------------------------------------- */

Test(snapshot, compact_for_many_stacks)
{
    enum { NSTACKS = 10000, DEPTH = 32, SHARED = 24 };
    uintptr_t *frames = malloc(sizeof(uintptr_t) * NSTACKS * DEPTH);
    sa_snap_wstack *st = malloc(sizeof *st * NSTACKS);
    /* Innermost 8 frames distinct per stack, the outer 24 common, as in
     * programs whose allocations share main() and the framework above. */
    uintptr_t text = (uintptr_t)&helper_a;
    for (int i = 0; i < NSTACKS; i++) {
        uintptr_t *f = frames + (size_t)i * DEPTH;
        for (int k = 0; k < DEPTH - SHARED; k++)
            f[k] = 0x7000000000ull + (uintptr_t)i * 64 + (uintptr_t)k;
        for (int k = DEPTH - SHARED; k < DEPTH; k++)
            f[k] = text + (uintptr_t)k;
        st[i] = (sa_snap_wstack){DEPTH, f, 100 * 48, 100};
    }
    char *dir = make_dir();
    char *path = join(dir, "big.snap");
    iter it = {st, NSTACKS, 0};
    cr_assert_eq(sa_snapshot_write(path, &k_info, iter_next, &it), 0);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_lt(sb.st_size, 4 * 1024 * 1024, "%lld bytes", (long long)sb.st_size);

    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(s->nstacks, NSTACKS);
    cr_assert_eq(s->total_count, 1000000);
    cr_assert_eq(s->total_size, 48000000);
    const sa_snap_stack *x = &s->stacks[4321];
    cr_assert_eq(x->nframes, DEPTH);
    cr_assert_eq(x->frames[0].module, SA_SNAP_NO_MODULE);
    cr_assert_eq(x->frames[0].offset, 0x7000000000ull + 4321 * 64);
    cr_assert_eq(x->frames[DEPTH - 1].module, 0);
    cr_assert_eq(x->frames[DEPTH - 1].offset, text + DEPTH - 1 - s->modules[0].base);
    sa_snapshot_free(s);
    unlink(path);
    rmdir(dir);
    free(frames);
    free(st);
}

/* Version 1 (module records without flags) still reads: the small file
 * rewritten as version 1 parses to the same modules, flags 0, and the
 * same stacks. */
/* The small file as version 2: version 3's sections cut out. */
static unsigned char *small_bytes_v2(size_t *len)
{
    unsigned char *b = small_bytes(len);
    layout l = walk(b, *len);
    memmove(b + l.timeline, b + l.trailer, 40);
    *len -= l.trailer - l.timeline;
    put32(b + 8, 2);
    fix_checksum(b, *len);
    return b;
}

/* Version 2 (no timeline, no histogram) still reads: the same stacks,
 * no points and no histogram. */
Test(snapshot, version2_still_reads)
{
    size_t len, len2;
    unsigned char *b = small_bytes(&len);
    unsigned char *b2 = small_bytes_v2(&len2);
    char err[256];
    sa_snapshot *s3 = sa_snapshot_parse(b, len, err, sizeof err);
    cr_assert_not_null(s3, "v3: %s", err);
    sa_snapshot *s2 = sa_snapshot_parse(b2, len2, err, sizeof err);
    cr_assert_not_null(s2, "v2: %s", err);
    cr_assert_eq(s2->version, 2);
    cr_assert_eq(s2->ntimeline, 0);
    cr_assert_eq(s2->has_histogram, 0);
    cr_assert_eq(s2->nstacks, s3->nstacks);
    cr_assert_eq(s2->total_size, s3->total_size);
    cr_assert_eq(s2->total_count, s3->total_count);
    sa_snapshot_free(s2);
    sa_snapshot_free(s3);
    free(b2);
    free(b);
}

/* A version 3 file without points or histogram (a writer given none). */
Test(snapshot, empty_sections)
{
    setup_stacks();
    sa_snap_winfo info = k_info;
    info.ntimeline = 0;
    info.timeline = NULL;
    info.hist_count = info.hist_size = NULL;
    char *dir = make_dir();
    char *path = join(dir, "e.snap");
    iter it = {k_stacks, 3, 0};
    cr_assert_eq(sa_snapshot_write(path, &info, iter_next, &it), 0);
    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(s->version, 3);
    cr_assert_eq(s->ntimeline, 0);
    cr_assert_eq(s->has_histogram, 0);
    cr_assert_eq(s->nstacks, 3);
    sa_snapshot_free(s);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}

Test(snapshot, version1_still_reads)
{
    size_t len;
    unsigned char *b = small_bytes_v2(&len);
    layout l = walk(b, len);
    unsigned char *v1 = malloc(len);
    cr_assert_not_null(v1);
    size_t out = l.module0, p = l.module0;
    memcpy(v1, b, l.module0);
    put32(v1 + 8, 1);
    for (uint32_t i = 0; i < get32(b + 52); i++) {
        size_t rest = get32(b + p) + get32(b + p + 4) + 20 * (size_t)get32(b + p + 8);
        cr_assert_eq(get32(b + p + 20), 0, "a module of the process is flagged");
        memcpy(v1 + out, b + p, 20);
        memcpy(v1 + out + 20, b + p + 24, rest);
        out += 20 + rest;
        p += 24 + rest;
    }
    memcpy(v1 + out, b + p, len - p);
    size_t v1len = out + (len - p);
    fix_checksum(v1, v1len);
    char err[256];
    sa_snapshot *s2 = sa_snapshot_parse(b, len, err, sizeof err);
    cr_assert_not_null(s2, "v2: %s", err);
    sa_snapshot *s1 = sa_snapshot_parse(v1, v1len, err, sizeof err);
    cr_assert_not_null(s1, "v1: %s", err);
    cr_assert_eq(s1->version, 1);
    cr_assert_eq(s1->nmodules, s2->nmodules);
    for (uint32_t i = 0; i < s1->nmodules; i++) {
        cr_assert_str_eq(s1->modules[i].path, s2->modules[i].path);
        cr_assert_eq(s1->modules[i].base, s2->modules[i].base);
        cr_assert_eq(s1->modules[i].flags, 0);
    }
    cr_assert_eq(s1->nstacks, s2->nstacks);
    cr_assert_eq(s1->total_size, s2->total_size);
    for (uint32_t i = 0; i < s1->nstacks; i++)
        for (uint32_t k = 0; k < s1->stacks[i].nframes; k++) {
            cr_assert_eq(s1->stacks[i].frames[k].module, s2->stacks[i].frames[k].module);
            cr_assert_eq(s1->stacks[i].frames[k].offset, s2->stacks[i].frames[k].offset);
        }
    sa_snapshot_free(s1);
    sa_snapshot_free(s2);
    free(v1);
    free(b);
}

/* ---- version 3: container and stack tree ------------------------------ */

Test(snapshot_v3, every_truncation_fails)
{
    size_t len;
    unsigned char *b = small_file(&len);
    cr_assert_gt(len, 100);
    for (size_t n = 1; n < len; n++) {
        unsigned char *copy = malloc(n);    /* exact size: overreads show */
        memcpy(copy, b, n);
        char err[256] = "";
        sa_snapshot *s = sa_snapshot_parse(copy, n, err, sizeof err);
        cr_assert_null(s, "truncated to %zu of %zu bytes, it parsed", n, len);
        cr_assert_not_null(strstr(err, "truncated file: "), "at %zu: \"%s\"", n, err);
        free(copy);
    }
    free(b);
}

Test(snapshot_v3, random_flips_are_detected)
{
    size_t len;
    unsigned char *b = small_file(&len);
    int tried, harmless, rejected = flip_trials(b, len, &tried, &harmless);
    /* zlib's Adler-32 and the logical file's FNV-1a catch every damage
     * to the content; what passes is a flip of the few padding bits
     * after deflate's last code, which leaves the content as it was
     * (how many depends on the file: its time and pid vary). */
    cr_assert_eq(rejected + harmless, tried, "%d of %d damaged files were accepted with other content",
                 tried - rejected - harmless, tried);
    cr_assert_lt(harmless, tried / 20, "%d of %d flips were harmless", harmless, tried);
    free(b);
}

/* Parse a container around logical bytes and expect the error want. */
static void expect_wrapped_error(const unsigned char *l, size_t n, const char *want)
{
    size_t len;
    unsigned char *b = wrap(l, n, &len);
    expect_error(b, len, want);
    free(b);
}

/* Replace old bytes at `at` of *b by the k bytes of p. */
static void splice_bytes(unsigned char **b, size_t *len, size_t at, size_t old, const void *p, size_t k)
{
    unsigned char *n = malloc(*len - old + k);
    memcpy(n, *b, at);
    memcpy(n + at, p, k);
    memcpy(n + at + k, *b + at + old, *len - at - old);
    free(*b);
    *b = n;
    *len = *len - old + k;
}

#define LIE3_TEST(name, want, patch)                        \
    Test(snapshot_v3_lies, name)                            \
    {                                                       \
        size_t len;                                         \
        unsigned char *b = small_logical(&len);             \
        layout3 l = walk3(b, len);                          \
        (void)l;                                            \
        patch;                                              \
        fix_checksum(b, len);                               \
        limit_as((rlim_t)1 << 30);                          \
        expect_wrapped_error(b, len, want);                 \
        free(b);                                            \
    }

static const unsigned char k_huge[] = {0x80, 0x80, 0x80, 0x80, 0x10};   /* 2^32 */
static const unsigned char k_overlong[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0x7f};

LIE3_TEST(stack_node_out_of_range, "corrupt file: stack 0 at offset",
          b[l.stacks] = 0x7f)
LIE3_TEST(tree_parent_later, "refers to parent distance 5",
          b[l.tree + 1] = 0x05)
LIE3_TEST(tree_frame_out_of_range, "corrupt file: tree node 0 refers to frame 127 of 4",
          b[l.tree + 2] = 0x7f)
LIE3_TEST(nnodes_huge, "truncated file: 4294967296 tree nodes need at least",
          splice_bytes(&b, &len, l.tree, 1, k_huge, sizeof k_huge))
LIE3_TEST(nframes_huge, "truncated file: 4294967296 frames need at least",
          splice_bytes(&b, &len, l.frames, 1, k_huge, sizeof k_huge))
LIE3_TEST(frame_module_out_of_range, "corrupt file: frame 0 at offset",
          b[l.frames + 1] = (unsigned char)(get32(b + 52) + 1))
LIE3_TEST(overlong_number, "does not fit 64 bits",
          splice_bytes(&b, &len, l.stacks + 1, 1, k_overlong, sizeof k_overlong))
LIE3_TEST(trailer_sample_interval_too_large, "corrupt file: sampling interval at offset",
          put32(b + l.trailer + 4, (1u << 30) + 1))
LIE3_TEST(trailer_total_wrong, "corrupt file: trailer totals do not match the stacks",
          put64(b + l.trailer + 8, 1))
LIE3_TEST(timeline_count_huge, "truncated file: 65536 timeline points need at least",
         put32(b + l.timeline, 65536))
LIE3_TEST(timeline_count_over_max, "corrupt file: timeline at offset",
         put32(b + l.timeline, 65537))
LIE3_TEST(timeline_back_in_time, "corrupt file: timeline point 1 at offset",
         put64(b + l.timeline + 4 + 24, 1600000000000000000ull))
LIE3_TEST(timeline_negative_time, "corrupt file: timeline point 0 at offset",
         put64(b + l.timeline + 4, (uint64_t)-5))
LIE3_TEST(histogram_bucket_count, "corrupt file: histogram at offset",
         put32(b + l.histogram, 64))
LIE3_TEST(histogram_count_huge, "has 4294967295 buckets, not 0 or 65",
         put32(b + l.histogram, 0xFFFFFFFFu))
/* Bucket 6 holds sizes 32 to 63: 2 blocks cannot be 200 bytes, nor 10. */
LIE3_TEST(histogram_size_too_big, "corrupt file: histogram bucket 6 at offset",
         put64(b + l.histogram + 4 + 16 * 6 + 8, 200))
LIE3_TEST(histogram_size_too_small, "corrupt file: histogram bucket 6 at offset",
         put64(b + l.histogram + 4 + 16 * 6 + 8, 10))
LIE3_TEST(histogram_bucket0_bytes, "corrupt file: histogram bucket 0 at offset",
         put64(b + l.histogram + 4 + 8, 1))
LIE3_TEST(nul_in_exe_path, "corrupt file: NUL byte in executable path at offset 64",
         b[65] = '\0')
LIE3_TEST(end_marker_damaged, "corrupt file: no end marker at offset", b[len - 16] = 'X')

Test(snapshot_v3_lies, container_fields)
{
    size_t len;
    unsigned char *b = small_file(&len);
    uint64_t logical = get64(b + 16);
    put64(b + 16, logical + 1);
    expect_error(b, len, "its header claims");
    put64(b + 16, logical - 1);
    expect_error(b, len, "corrupt file: the compressed data holds ");
    put64(b + 16, logical - 100);
    expect_error(b, len, "corrupt file: the compressed data holds more than");
    put64(b + 16, (uint64_t)1 << 40);
    expect_error(b, len, "corrupt file: compressed snapshot header claims 1099511627776 bytes");
    put64(b + 16, logical);
    put32(b + 12, 1);
    expect_error(b, len, "corrupt file: compressed snapshot header claims");
    put32(b + 12, 0);
    put32(b + 8, 4);
    expect_error(b, len, "unsupported compressed snapshot version 4");
    put32(b + 8, 3);
    b = realloc(b, len + 3);
    memcpy(b + len, "abc", 3);
    expect_error(b, len + 3, "corrupt file: 3 bytes after the compressed data");
    b[30] ^= 0xff;
    expect_error(b, len, "corrupt file: compressed data: ");
    free(b);
}

Test(snapshot_v3_lies, container_content)
{
    unsigned char zeros[200] = {0};
    expect_wrapped_error(zeros, sizeof zeros, "corrupt file: the compressed data is not a snapshot");
    size_t len;
    unsigned char *v2 = small_bytes(&len);
    expect_wrapped_error(v2, len, "corrupt file: a version-2 snapshot inside a compressed container");
    free(v2);
}

/* The writer takes any depth; the reader refuses a stack deeper than any
 * tracer makes (it would let a small file claim a huge frame block). */
Test(snapshot_v3_lies, too_deep)
{
    enum { DEPTH = 1100 };
    static uintptr_t frames[DEPTH];
    for (int k = 0; k < DEPTH; k++)
        frames[k] = 0x1000 + (uintptr_t)k;
    sa_snap_wstack st = {DEPTH, frames, 1, 1};
    char *dir = make_dir();
    char *path = join(dir, "deep.snap");
    iter it = {&st, 1, 0};
    cr_assert_eq(sa_snapshot_write(path, &k_info, iter_next, &it), 0);
    char err[256];
    cr_assert_null(sa_snapshot_read(path, err, sizeof err));
    cr_assert_not_null(strstr(err, "is 1025 frames deep (at most 1024)"), "%s", err);
    unlink(path);
    rmdir(dir);
}

/* Stacks that share outer frames share their nodes; a stack that is a
 * suffix of another (the same outer frames, fewer inner ones) names an
 * inner node of the tree; both read back exactly. */
Test(snapshot_v3, shared_prefixes_round_trip)
{
    static uintptr_t a[] = {0x10, 0x20, 0x30, 0x40};
    static uintptr_t b2[] = {0x11, 0x20, 0x30, 0x40};
    static uintptr_t c[] = {0x30, 0x40};
    sa_snap_wstack st[] = {{4, a, 1, 1}, {4, b2, 2, 1}, {2, c, 3, 1}, {0, NULL, 4, 2}};
    char *dir = make_dir();
    char *path = join(dir, "t.snap");
    iter it = {st, 4, 0};
    cr_assert_eq(sa_snapshot_write(path, &k_info, iter_next, &it), 0);
    size_t flen, len;
    unsigned char *f = slurp(path, &flen);
    unsigned char *l = unwrap(f, flen, &len);
    layout3 lay = walk3(l, len);
    cr_assert_eq(lay.nnodes, 5, "nodes: 0x40, 0x30, 0x20, 0x10, 0x11");
    cr_assert_eq(lay.nframes, 5);
    char err[256];
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(s->nstacks, 4);
    const uintptr_t *want[] = {a, b2, c};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s->stacks[i].nframes, st[i].nframes);
        for (uint32_t k = 0; k < st[i].nframes; k++)
            cr_assert_eq(s->stacks[i].frames[k].offset, want[i][k], "stack %d frame %u", i, k);
        cr_assert_eq(s->stacks[i].size, st[i].size);
    }
    cr_assert_eq(s->stacks[3].nframes, 0);
    cr_assert_eq(s->total_count, 5);
    sa_snapshot_free(s);
    free(f);
    free(l);
    unlink(path);
    rmdir(dir);
}
