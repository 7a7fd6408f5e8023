/* format/read.c - reads and validates a snapshot file for the snapalloc
 * command (a normal program: malloc and stdio are fine here).
 *
 * Owns: parsing doc/snapshot-format.md versions 1 to 3 into sa_snapshot, and
 * every check that keeps a damaged or hostile file from misparsing.  The
 * rules: every count and length is checked against the bytes left before
 * anything is allocated or read (so a lying field costs an error message,
 * never a large allocation or an out-of-bounds read); every accepted file
 * has passed its checksum; errors are one line without the file name.
 *
 * Order of checks: magic, version, then the checksum if the file ends
 * with the end marker (so a flipped bit reads as "checksum mismatch", not
 * as whatever field it happened to hit), then the structure, which reports
 * truncation precisely: a file without an end marker in its last 16 bytes
 * can never parse, since a successful parse ends on that marker.
 */
#include "format/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* What is read from a non-regular file at most. */
#define SA_SNAP_READ_MAX (1u << 30)
#define R_MODULE_MIN 20u     /* path_len, build_id_len, nsegments, base (+ flags in v2) */
#define R_SEGMENT    20u     /* vaddr, memsz, flags */
#define R_STACK_MIN  20u     /* nframes, size, count */
#define R_FRAME      12u     /* module, offset */
/* Version 3: a stack tree deeper than this, or stacks that together
 * hold more frames, is a lie (the tracer keeps at most
 * SNAPALLOC_MAX_FRAMES per stack), refused before allocating. */
#define R_MAX_DEPTH  1024u
#define R_MAX_REFS   (1u << 27)
#define R_POINT      24u     /* time_ns, traced, rss */
#define R_BUCKET     16u     /* count, size */

/* The public struct plus what sa_snapshot_free needs. */
typedef struct snap_alloc {
    sa_snapshot pub;
    sa_snap_frame *frame_block;   /* every stack's frames, back to back */
} snap_alloc;

typedef struct rd {
    const unsigned char *p;
    size_t len, pos;
    char *err;
    size_t errlen;
} rd;

__attribute__((format(printf, 2, 3)))
static void fail(rd *r, const char *fmt, ...)
{
    if (!r->err || !r->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
}

/* Are n more bytes there?  n is 64-bit so that count * size cannot wrap. */
static int need(rd *r, uint64_t n)
{
    if (n <= r->len - r->pos)
        return 0;
    fail(r, "truncated file: expected %llu more bytes at offset %zu, file ends at %zu",
         (unsigned long long)n, r->pos, r->len);
    return -1;
}

/* Is there room for count records of at least size bytes each? */
static int need_records(rd *r, uint64_t count, uint64_t size, const char *what)
{
    if (count <= (r->len - r->pos) / size)    /* size > 0; no product to wrap */
        return 0;
    fail(r, "truncated file: %llu %s need at least %llu bytes at offset %zu, only %zu left",
         (unsigned long long)count, what, (unsigned long long)(count * size), r->pos,
         r->len - r->pos);
    return -1;
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b)
{
    return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

static int get32(rd *r, uint32_t *v)
{
    if (need(r, 4))
        return -1;
    *v = le32(r->p + r->pos);
    r->pos += 4;
    return 0;
}

static int get64(rd *r, uint64_t *v)
{
    if (need(r, 8))
        return -1;
    *v = le64(r->p + r->pos);
    r->pos += 8;
    return 0;
}

/* A string of len bytes with no NUL, copied and NUL-terminated. */
static int get_str(rd *r, uint32_t len, char **out, const char *what)
{
    if (need(r, len))
        return -1;
    const unsigned char *s = r->p + r->pos;
    if (memchr(s, '\0', len)) {
        fail(r, "corrupt file: NUL byte in %s at offset %zu", what, r->pos);
        return -1;
    }
    char *c = malloc((size_t)len + 1);
    if (!c) {
        fail(r, "out of memory");
        return -1;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    *out = c;
    r->pos += len;
    return 0;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = SA_SNAP_FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * SA_SNAP_FNV_PRIME;
    return h;
}

void sa_snapshot_free(sa_snapshot *snap)
{
    if (!snap)
        return;
    snap_alloc *a = (snap_alloc *)snap;
    free(snap->exe);
    free(snap->cmdline);
    free(snap->timeline);
    if (snap->modules) {
        for (uint32_t i = 0; i < snap->nmodules; i++) {
            free(snap->modules[i].path);
            free(snap->modules[i].segments);
        }
        free(snap->modules);
    }
    free(snap->stacks);
    free(a->frame_block);
    free(a);
}

static int parse_header(rd *r, sa_snapshot *s, uint32_t *exe_len, uint32_t *cmd_len)
{
    uint64_t t;
    r->pos = 12;    /* magic and version were checked by the caller */
    if (get32(r, &s->pid) || get64(r, &t) || get64(r, &s->traced_current) ||
        get64(r, &s->traced_peak) || get32(r, &s->frame_limit) ||
        get32(r, &s->trigger) || get32(r, &s->sequence) ||
        get32(r, &s->nmodules) || get32(r, exe_len) || get32(r, cmd_len))
        return -1;
    s->time_ns = (int64_t)t;
    return 0;
}

static int parse_modules(rd *r, sa_snapshot *s)
{
    if (need_records(r, s->nmodules, R_MODULE_MIN + (s->version >= 2 ? 4 : 0), "modules"))
        return -1;
    s->modules = calloc(s->nmodules ? s->nmodules : 1, sizeof *s->modules);
    if (!s->modules) {
        s->nmodules = 0;
        fail(r, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < s->nmodules; i++) {
        sa_snap_module *m = &s->modules[i];
        uint32_t path_len;
        size_t at = r->pos;
        if (get32(r, &path_len) || get32(r, &m->build_id_len) ||
            get32(r, &m->nsegments) || get64(r, &m->base) ||
            (s->version >= 2 && get32(r, &m->flags)))
            return -1;
        if (m->flags & ~SA_SNAP_MODULE_UNLOADED) {
            fail(r, "corrupt file: module %u at offset %zu has unknown flags 0x%x",
                 i, at, m->flags);
            return -1;
        }
        if (m->build_id_len > sizeof m->build_id) {
            fail(r, "corrupt file: module %u at offset %zu has a %u-byte build-id (at most %zu)",
                 i, at, m->build_id_len, sizeof m->build_id);
            return -1;
        }
        uint32_t nseg = m->nsegments;
        m->nsegments = 0;   /* until segments is allocated, for free() */
        if (get_str(r, path_len, &m->path, "module path"))
            return -1;
        if (need(r, m->build_id_len))
            return -1;
        memcpy(m->build_id, r->p + r->pos, m->build_id_len);
        r->pos += m->build_id_len;
        if (need_records(r, nseg, R_SEGMENT, "segments"))
            return -1;
        m->segments = calloc(nseg ? nseg : 1, sizeof *m->segments);
        if (!m->segments) {
            fail(r, "out of memory");
            return -1;
        }
        m->nsegments = nseg;
        for (uint32_t k = 0; k < nseg; k++) {
            sa_snap_segment *g = &m->segments[k];
            if (get64(r, &g->vaddr) || get64(r, &g->memsz) || get32(r, &g->flags))
                return -1;
        }
    }
    return 0;
}

/* First pass over the stacks: bounds only, to count them and their frames
 * before allocating.  Leaves r->pos after the end-of-stacks marker. */
static int scan_stacks(rd *r, uint64_t *nstacks, uint64_t *nrefs)
{
    *nstacks = 0;
    *nrefs = 0;
    for (;;) {
        uint32_t nframes;
        if (get32(r, &nframes))
            return -1;
        if (nframes == SA_SNAP_END_STACKS)
            return 0;
        if (need(r, 16 + (uint64_t)nframes * 4))
            return -1;
        r->pos += 16 + (size_t)nframes * 4;
        ++*nstacks;
        *nrefs += nframes;
    }
}

static int parse_frames(rd *r, const sa_snapshot *s, sa_snap_frame **table, uint32_t *n)
{
    if (get32(r, n) || need_records(r, *n, R_FRAME, "frames"))
        return -1;
    *table = malloc(((size_t)*n ? *n : 1) * sizeof **table);
    if (!*table) {
        fail(r, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < *n; i++) {
        size_t at = r->pos;
        sa_snap_frame *f = &(*table)[i];
        if (get32(r, &f->module) || get64(r, &f->offset))
            return -1;
        if (f->module != SA_SNAP_NO_MODULE && f->module >= s->nmodules) {
            fail(r, "corrupt file: frame %u at offset %zu refers to module %u of %u",
                 i, at, f->module, s->nmodules);
            return -1;
        }
    }
    return 0;
}

/* Second pass: fill the stacks, resolving frame indices. */
static int fill_stacks(rd *r, size_t start, snap_alloc *a, const sa_snap_frame *table,
                       uint32_t ntable)
{
    sa_snapshot *s = &a->pub;
    size_t ref = 0;
    r->pos = start;
    for (uint32_t i = 0; i < s->nstacks; i++) {
        sa_snap_stack *st = &s->stacks[i];
        /* Bounds were checked by scan_stacks over the same bytes. */
        get32(r, &st->nframes);
        get64(r, &st->size);
        get64(r, &st->count);
        st->frames = a->frame_block + ref;
        for (uint32_t k = 0; k < st->nframes; k++) {
            uint32_t fi;
            size_t at = r->pos;
            get32(r, &fi);
            if (fi >= ntable) {
                fail(r, "corrupt file: stack %u at offset %zu refers to frame %u of %u",
                     i, at, fi, ntable);
                return -1;
            }
            st->frames[k] = table[fi];
        }
        ref += st->nframes;
        s->total_size += st->size;
        s->total_count += st->count;
    }
    return 0;
}

/* Version 3: the timeline, oldest point first; time never goes back. */
static int parse_timeline(rd *r, sa_snapshot *s)
{
    uint32_t n;
    size_t at = r->pos;
    if (get32(r, &n))
        return -1;
    if (n > SA_SNAP_TIMELINE_MAX) {
        fail(r, "corrupt file: timeline at offset %zu has %u points (at most %u)", at, n,
             SA_SNAP_TIMELINE_MAX);
        return -1;
    }
    if (need_records(r, n, R_POINT, "timeline points"))
        return -1;
    s->timeline = calloc(n ? n : 1, sizeof *s->timeline);
    if (!s->timeline) {
        fail(r, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        sa_snap_point *pt = &s->timeline[i];
        uint64_t t;
        at = r->pos;
        get64(r, &t);   /* bounds checked above */
        get64(r, &pt->traced);
        get64(r, &pt->rss);
        pt->time_ns = (int64_t)t;
        if (pt->time_ns < 0 || (i && pt->time_ns < s->timeline[i - 1].time_ns)) {
            fail(r, "corrupt file: timeline point %u at offset %zu goes back in time", i, at);
            return -1;
        }
    }
    s->ntimeline = n;
    return 0;
}

/* Version 3: the size histogram, 0 or 65 buckets; a bucket's bytes must
 * lie between its count times its bounds. */
static int parse_histogram(rd *r, sa_snapshot *s)
{
    uint32_t n;
    size_t at = r->pos;
    if (get32(r, &n))
        return -1;
    if (n != 0 && n != SA_SNAP_HIST_BUCKETS) {
        fail(r, "corrupt file: histogram at offset %zu has %u buckets, not 0 or %u", at, n,
             SA_SNAP_HIST_BUCKETS);
        return -1;
    }
    if (need_records(r, n, R_BUCKET, "histogram buckets"))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        at = r->pos;
        get64(r, &s->hist_count[i]);
        get64(r, &s->hist_size[i]);
        unsigned __int128 c = s->hist_count[i];
        unsigned __int128 lo = i ? (unsigned __int128)1 << (i - 1) : 0;
        unsigned __int128 hi = i ? ((unsigned __int128)1 << i) - 1 : 0;
        if (s->hist_size[i] < c * lo || s->hist_size[i] > c * hi) {
            fail(r, "corrupt file: histogram bucket %u at offset %zu: %llu bytes cannot be "
                 "%llu blocks of that size", i, at, (unsigned long long)s->hist_size[i],
                 (unsigned long long)s->hist_count[i]);
            return -1;
        }
    }
    s->has_histogram = n != 0;
    return 0;
}

/* ---- version 3: varints and the stack tree ---------------------------- */

static int get_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    size_t at = r->pos;
    for (unsigned shift = 0;; shift += 7) {
        if (need(r, 1))
            return -1;
        unsigned char b = r->p[r->pos++];
        if (shift == 63 && b > 1) {
            fail(r, "corrupt file: number at offset %zu does not fit 64 bits", at);
            return -1;
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return 0;
}

/* The stack tree: node i's parent (index + 1, 0 for none, always an
 * earlier node), frame and depth. */
typedef struct rtree {
    uint32_t n;
    uint32_t *parent, *frame, *depth;
} rtree;

static void rtree_free(rtree *t)
{
    free(t->parent);
    free(t->frame);
    free(t->depth);
}

static int parse_tree(rd *r, rtree *t)
{
    uint64_t n;
    if (get_varint(r, &n) || need_records(r, n, 2, "tree nodes"))
        return -1;
    t->n = (uint32_t)n;    /* < 2^32: bounded by the bytes left */
    t->parent = malloc((n ? n : 1) * sizeof *t->parent);
    t->frame = malloc((n ? n : 1) * sizeof *t->frame);
    t->depth = malloc((n ? n : 1) * sizeof *t->depth);
    if (!t->parent || !t->frame || !t->depth) {
        fail(r, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t back, frame;
        size_t at = r->pos;
        if (get_varint(r, &back) || get_varint(r, &frame))
            return -1;
        /* The parent is back nodes before this one, i + 1 - back (index
         * + 1; 0: none), so never a later node. */
        if (back == 0 || back > (uint64_t)i + 1 || frame >= UINT32_MAX) {
            fail(r, "corrupt file: tree node %u at offset %zu refers to %s %llu", i, at,
                 frame >= UINT32_MAX ? "frame" : "parent distance",
                 (unsigned long long)(frame >= UINT32_MAX ? frame : back));
            return -1;
        }
        uint64_t parent = (uint64_t)i + 1 - back;
        t->parent[i] = (uint32_t)parent;
        t->frame[i] = (uint32_t)frame;
        t->depth[i] = parent ? t->depth[parent - 1] + 1 : 1;
        if (t->depth[i] > R_MAX_DEPTH) {
            fail(r, "corrupt file: tree node %u at offset %zu is %u frames deep (at most %u)",
                 i, at, t->depth[i], R_MAX_DEPTH);
            return -1;
        }
    }
    return 0;
}

static int parse_frames_v3(rd *r, const sa_snapshot *s, sa_snap_frame **table, uint32_t *n)
{
    uint64_t count;
    if (get_varint(r, &count) || need_records(r, count, 2, "frames"))
        return -1;
    *n = (uint32_t)count;
    *table = malloc((count ? count : 1) * sizeof **table);
    if (!*table) {
        fail(r, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < *n; i++) {
        uint64_t module;
        size_t at = r->pos;
        sa_snap_frame *f = &(*table)[i];
        if (get_varint(r, &module) || get_varint(r, &f->offset))
            return -1;
        if (module > s->nmodules) {
            fail(r, "corrupt file: frame %u at offset %zu refers to module %llu of %u",
                 i, at, (unsigned long long)module - 1, s->nmodules);
            return -1;
        }
        f->module = module ? (uint32_t)module - 1 : SA_SNAP_NO_MODULE;
    }
    return 0;
}

/* One stack record: *code 0 at the end, else the zigzag-coded change of
 * the node from the last stack's, plus 1. */
static int get_stack_v3(rd *r, uint64_t *code, uint64_t *size, uint64_t *count)
{
    if (get_varint(r, code))
        return -1;
    return *code ? get_varint(r, size) || get_varint(r, count) : 0;
}

/* The node (index + 1; 0: no frames) a code names after *last (updated). */
static uint64_t node_of(uint64_t code, uint64_t *last)
{
    uint64_t z = code - 1;
    uint64_t d = (z >> 1) ^ (0 - (z & 1));     /* zigzag: 0, -1, 1, -2, ... */
    *last += d;                                 /* modulo 2^64, as the writer's */
    return *last;
}

/* Every node a stack names exists and every node's frame too; the frames
 * the stacks hold together are counted into *nrefs. */
static int check_stacks_v3(rd *r, size_t start, const rtree *t, uint32_t ntable, uint64_t *nrefs)
{
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->frame[i] >= ntable) {
            fail(r, "corrupt file: tree node %u refers to frame %u of %u", i, t->frame[i], ntable);
            return -1;
        }
    }
    *nrefs = 0;
    r->pos = start;
    uint64_t last = 0;
    for (uint32_t i = 0;; i++) {
        uint64_t code, size, count;
        size_t at = r->pos;
        get_stack_v3(r, &code, &size, &count);   /* bounds checked by the scan */
        if (!code)
            return 0;
        uint64_t node = node_of(code, &last);
        if (node > t->n) {
            fail(r, "corrupt file: stack %u at offset %zu refers to tree node %lld of %u",
                 i, at, (long long)node - 1, t->n);
            return -1;
        }
        *nrefs += node ? t->depth[node - 1] : 0;
        if (*nrefs > R_MAX_REFS) {
            fail(r, "corrupt file: the stacks hold more than %u frames", R_MAX_REFS);
            return -1;
        }
    }
}

static void fill_stacks_v3(rd *r, size_t start, snap_alloc *a, const rtree *t,
                           const sa_snap_frame *table)
{
    sa_snapshot *s = &a->pub;
    size_t ref = 0;
    r->pos = start;
    uint64_t last = 0;
    for (uint32_t i = 0; i < s->nstacks; i++) {
        sa_snap_stack *st = &s->stacks[i];
        uint64_t code;
        get_stack_v3(r, &code, &st->size, &st->count);
        uint64_t node = node_of(code, &last);
        st->frames = a->frame_block + ref;
        st->nframes = node ? t->depth[node - 1] : 0;
        /* The node is the innermost frame; its parents lead outward. */
        uint32_t k = 0;
        for (uint64_t at = node; at; at = t->parent[at - 1])
            st->frames[k++] = table[t->frame[at - 1]];
        ref += st->nframes;
        s->total_size += st->size;
        s->total_count += st->count;
    }
}

/* Stacks, tree, frames and sections of a version-3 file, from r->pos. */
static int parse_stacks_v3(rd *r, snap_alloc *a)
{
    sa_snapshot *s = &a->pub;
    size_t start = r->pos;
    uint64_t nstacks = 0, code, size, count, nrefs;
    for (;;) {
        if (get_stack_v3(r, &code, &size, &count))
            return -1;
        if (!code)
            break;
        nstacks++;
    }
    if (nstacks > UINT32_MAX) {
        fail(r, "corrupt file: more than %u stacks", UINT32_MAX);
        return -1;
    }
    rtree t = {0};
    sa_snap_frame *table = NULL;
    uint32_t ntable = 0;
    int rc = -1;
    if (parse_tree(r, &t) || parse_frames_v3(r, s, &table, &ntable) ||
        parse_timeline(r, s) || parse_histogram(r, s))
        goto out;
    size_t trailer_at = r->pos;
    if (check_stacks_v3(r, start, &t, ntable, &nrefs))
        goto out;
    s->stacks = calloc(nstacks ? nstacks : 1, sizeof *s->stacks);
    a->frame_block = malloc((nrefs ? nrefs : 1) * sizeof *a->frame_block);
    if (!s->stacks || !a->frame_block) {
        fail(r, "out of memory");
        goto out;
    }
    s->nstacks = (uint32_t)nstacks;
    fill_stacks_v3(r, start, a, &t, table);
    r->pos = trailer_at;
    rc = 0;
out:
    rtree_free(&t);
    free(table);
    return rc;
}

static int parse_trailer(rd *r, sa_snapshot *s)
{
    uint32_t nstacks, interval;
    uint64_t total_size, total_count;
    size_t at = r->pos;
    if (get32(r, &nstacks) || get32(r, &interval) || get64(r, &total_size) ||
        get64(r, &total_count) || need(r, 16))
        return -1;
    if (memcmp(r->p + r->pos, SA_SNAP_END_MAGIC, SA_SNAP_MAGIC_LEN) != 0) {
        fail(r, "corrupt file: no end marker at offset %zu", r->pos);
        return -1;
    }
    r->pos += 16;
    if (r->pos != r->len) {
        fail(r, "corrupt file: %zu bytes of unexpected data after the end marker at offset %zu",
             r->len - r->pos, r->pos);
        return -1;
    }
    if (s->version < 3 && interval != 0) {
        fail(r, "corrupt file: reserved trailer field at offset %zu is %u, not 0", at + 4, interval);
        return -1;
    }
    if (interval > SA_SNAP_SAMPLE_MAX) {
        fail(r, "corrupt file: sampling interval at offset %zu is %u bytes, more than 1 GiB",
             at + 4, interval);
        return -1;
    }
    s->sample_interval = interval;
    if (nstacks != s->nstacks) {
        fail(r, "corrupt file: trailer at offset %zu counts %u stacks, the file holds %u",
             at, nstacks, s->nstacks);
        return -1;
    }
    if (total_size != s->total_size || total_count != s->total_count) {
        fail(r, "corrupt file: trailer totals do not match the stacks");
        return -1;
    }
    return 0;
}

/* Stacks and frames of a version 1 or 2 file, from r->pos. */
static int parse_stacks_v2(rd *r, snap_alloc *a)
{
    sa_snapshot *s = &a->pub;
    sa_snap_frame *table = NULL;
    uint32_t ntable = 0;
    uint64_t nstacks, nrefs;
    size_t stacks_at = r->pos;
    if (scan_stacks(r, &nstacks, &nrefs))
        return -1;
    if (nstacks > UINT32_MAX) {
        fail(r, "corrupt file: more than %u stacks", UINT32_MAX);
        return -1;
    }
    if (parse_frames(r, s, &table, &ntable))
        goto bad;
    size_t trailer_at = r->pos;
    /* Both bounded by the bytes scanned: at least 20 per stack, 4 per frame. */
    s->stacks = calloc(nstacks ? nstacks : 1, sizeof *s->stacks);
    a->frame_block = malloc((nrefs ? nrefs : 1) * sizeof *a->frame_block);
    if (!s->stacks || !a->frame_block) {
        fail(r, "out of memory");
        goto bad;
    }
    s->nstacks = (uint32_t)nstacks;
    if (fill_stacks(r, stacks_at, a, table, ntable))
        goto bad;
    r->pos = trailer_at;
    free(table);
    return 0;
bad:
    free(table);
    return -1;
}

/* A logical file (the container's content, or a file of version 1 or 2). */
static sa_snapshot *parse_logical(rd *r, int in_container)
{
    size_t len = r->len;
    if (memcmp(r->p, SA_SNAP_MAGIC, len < SA_SNAP_MAGIC_LEN ? len : SA_SNAP_MAGIC_LEN) != 0) {
        fail(r, in_container ? "corrupt file: the compressed data is not a snapshot"
                             : "not a snapalloc snapshot");
        return NULL;
    }
    uint32_t version;
    if (len < 12) {
        fail(r, "truncated file: expected %zu more bytes at offset %zu, file ends at %zu",
             12 - len, len, len);
        return NULL;
    }
    r->pos = 8;
    get32(r, &version);
    if (version < SA_SNAP_VERSION_MIN || version > SA_SNAP_VERSION) {
        fail(r, "unsupported snapshot version %u (this snapalloc reads versions %u to %u)",
             version, SA_SNAP_VERSION_MIN, SA_SNAP_VERSION);
        return NULL;
    }
    if (in_container != (version >= 3)) {
        fail(r, "corrupt file: a version-%u snapshot %s a compressed container", version,
             in_container ? "inside" : "outside");
        return NULL;
    }
    if (len >= SA_SNAP_HEADER + SA_SNAP_TRAILER &&
        memcmp(r->p + len - 16, SA_SNAP_END_MAGIC, SA_SNAP_MAGIC_LEN) == 0 &&
        fnv1a(r->p, len - 8) != le64(r->p + len - 8)) {
        fail(r, "corrupt file: checksum mismatch");
        return NULL;
    }

    snap_alloc *a = calloc(1, sizeof *a);
    if (!a) {
        fail(r, "out of memory");
        return NULL;
    }
    sa_snapshot *s = &a->pub;
    s->version = version;
    uint32_t exe_len, cmd_len;
    if (parse_header(r, s, &exe_len, &cmd_len) ||
        get_str(r, exe_len, &s->exe, "executable path") ||
        get_str(r, cmd_len, &s->cmdline, "command line") ||
        parse_modules(r, s) ||
        (version >= 3 ? parse_stacks_v3(r, a) : parse_stacks_v2(r, a)) ||
        parse_trailer(r, s)) {
        sa_snapshot_free(s);
        return NULL;
    }
    return s;
}

/* The container of version 3: its header, then the logical file
 * deflated, which is inflated whole (bounded by the length the header
 * claims, itself bounded) and parsed. */
static sa_snapshot *parse_container(rd *r)
{
    if (r->len < SA_SNAPZ_HEADER) {
        fail(r, "truncated file: the compressed snapshot's header needs %u bytes, file ends at %zu",
             SA_SNAPZ_HEADER, r->len);
        return NULL;
    }
    uint32_t version = le32(r->p + 8), reserved = le32(r->p + 12);
    uint64_t logical = le64(r->p + 16);
    if (version != 3) {
        fail(r, "unsupported compressed snapshot version %u (this snapalloc reads version 3)",
             version);
        return NULL;
    }
    if (reserved != 0 || logical < SA_SNAP_HEADER + SA_SNAP_TRAILER || logical > SA_SNAP_READ_MAX) {
        fail(r, "corrupt file: compressed snapshot header claims %llu bytes (reserved %u)",
             (unsigned long long)logical, reserved);
        return NULL;
    }
    /* One byte more than claimed: output that reaches it holds more. */
    unsigned char *out = malloc(logical + 1);
    if (!out) {
        fail(r, "out of memory inflating %llu bytes", (unsigned long long)logical);
        return NULL;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    size_t in_len = r->len - SA_SNAPZ_HEADER;
    int zr = inflateInit(&z);
    if (zr == Z_OK) {
        z.next_in = (Bytef *)(uintptr_t)(r->p + SA_SNAPZ_HEADER);
        z.avail_in = in_len > UINT32_MAX ? UINT32_MAX : (uInt)in_len;
        z.next_out = out;
        z.avail_out = (uInt)logical + 1;
        zr = inflate(&z, Z_FINISH);
    }
    if (zr == Z_STREAM_END && (z.avail_in || in_len > UINT32_MAX))
        fail(r, "corrupt file: %zu bytes after the compressed data", in_len - (size_t)z.total_in);
    else if (zr == Z_STREAM_END && z.total_out != logical)
        fail(r, "corrupt file: the compressed data holds %lu bytes, its header claims %llu",
             z.total_out, (unsigned long long)logical);
    else if (zr == Z_BUF_ERROR && z.avail_out == 0)
        fail(r, "corrupt file: the compressed data holds more than the %llu bytes its header claims",
             (unsigned long long)logical);
    else if (zr == Z_BUF_ERROR)
        fail(r, "truncated file: the compressed data ends early");
    else if (zr == Z_MEM_ERROR)
        fail(r, "out of memory");
    else if (zr != Z_STREAM_END)
        fail(r, "corrupt file: compressed data: %s", z.msg ? z.msg : "invalid");
    inflateEnd(&z);
    sa_snapshot *s = NULL;
    if (zr == Z_STREAM_END && !z.avail_in && in_len <= UINT32_MAX && z.total_out == logical) {
        rd inner = {.p = out, .len = logical, .pos = 0, .err = r->err, .errlen = r->errlen};
        s = parse_logical(&inner, 1);
    }
    free(out);
    return s;
}

static int magic_prefix(const void *buf, size_t len, const char *magic)
{
    return memcmp(buf, magic, len < SA_SNAP_MAGIC_LEN ? len : SA_SNAP_MAGIC_LEN) == 0;
}

sa_snapshot *sa_snapshot_parse(const void *buf, size_t len, char *err, size_t errlen)
{
    rd r = {.p = buf, .len = len, .pos = 0, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (len == 0) {
        fail(&r, "empty file (not a snapalloc snapshot)");
        return NULL;
    }
    if (magic_prefix(buf, len, SA_SNAPZ_MAGIC))
        return parse_container(&r);
    return parse_logical(&r, 0);
}

sa_snapshot *sa_snapshot_read(const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s", strerror(EISDIR));
        close(fd);
        return NULL;
    }
    /* Read to EOF rather than trusting st_size (pipes, /proc, growth). */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            snprintf(err, errlen, "out of memory reading %zu bytes", cap);
            close(fd);
            return NULL;
        }
        if (len == cap) {
            unsigned char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        /* A device or a FIFO may never end (/dev/zero): what does not
         * start as a snapshot is rejected at once, and what is not a
         * regular file is read up to a bound. */
        if (len >= 8 && len - (size_t)n < 8 && !magic_prefix(buf, len, SA_SNAP_MAGIC) &&
            !magic_prefix(buf, len, SA_SNAPZ_MAGIC))
            break;
        if (!S_ISREG(st.st_mode) && len > SA_SNAP_READ_MAX) {
            snprintf(err, errlen, "not a regular file and larger than %u MiB",
                     SA_SNAP_READ_MAX >> 20);
            free(buf);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    sa_snapshot *s = sa_snapshot_parse(buf, len, err, errlen);
    free(buf);
    return s;
}
