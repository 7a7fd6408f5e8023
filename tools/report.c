/* report.c - grouping, sorting and printing for `show` and `diff`.
 *
 * Pipeline per snapshot stack: symbolize every frame (inlined chains
 * expand), fold the leading allocation frames (the library itself, malloc
 * and friends, C++ allocator plumbing, --wrapper patterns) so the stack
 * starts at the call site, apply --include/--exclude, then charge the
 * stack's size and count to its group key(s).
 *
 * Keys are made of interned strings (symbolize.h), so equal keys from two
 * snapshots are equal pointer for pointer: diff matches groups by symbol
 * (module basename, function, file, line), never by address, and two runs
 * with different ASLR bases line up.  A frame without line information
 * keeps its module offset in the key so distinct unknown sites stay apart.
 *
 * Ordering follows tracemalloc: show sorts by size, then count; diff by
 * |size_diff|, then size, then |count_diff|; ties by key, so the output is
 * deterministic.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "report.h"
#include "symbolize.h"
#include "util.h"

/* ---- Allocation functions folded into the allocation ---------------- */

/* Answers per (interned function name, options): a snapshot has far fewer
 * distinct functions than leading frames, and each answer parses the
 * demangled name and runs every pattern. */
typedef struct fold_entry {
    const char *function;
    const sa_report_opts *opts;
    int alloc;
} fold_entry;

static struct {
    fold_entry *slots;
    size_t cap, used;
} fold_cache;

static int fold_decide(const char *function, const sa_report_opts *o)
{
    static sa_fold_forms forms;   /* 4 KiB: not on the stack */
    sa_fold_forms_init(&forms, function);
    if (sa_fold_default_forms(&forms))
        return 1;
    for (size_t i = 0; i < o->nwrappers; i++)
        if (sa_fold_match_forms(o->wrappers[i], &forms))
            return 1;
    return 0;
}

static void fold_cache_grow(void)
{
    size_t ncap = fold_cache.cap ? fold_cache.cap * 2 : 1024;
    fold_entry *ns = sa_xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < fold_cache.cap; i++) {
        fold_entry *e = &fold_cache.slots[i];
        if (!e->function)
            continue;
        size_t j = ((uintptr_t)e->function * 0x9e3779b97f4a7c15ULL >> 7) & (ncap - 1);
        while (ns[j].function)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    free(fold_cache.slots);
    fold_cache.slots = ns;
    fold_cache.cap = ncap;
}

static int is_alloc_function(const char *function, const sa_report_opts *o)
{
    if ((fold_cache.used + 1) * 2 > fold_cache.cap)
        fold_cache_grow();
    size_t mask = fold_cache.cap - 1;
    size_t j = ((uintptr_t)function * 0x9e3779b97f4a7c15ULL >> 7) & mask;
    for (; fold_cache.slots[j].function; j = (j + 1) & mask)
        if (fold_cache.slots[j].function == function && fold_cache.slots[j].opts == o)
            return fold_cache.slots[j].alloc;
    fold_entry *e = &fold_cache.slots[j];
    e->function = function;
    e->opts = o;
    e->alloc = fold_decide(function, o);
    fold_cache.used++;
    return e->alloc;
}

static int is_alloc_frame(const sa_sym_frame *f, const sa_report_opts *o)
{
    if (strncmp(f->module, "libsnapalloc", 12) == 0)
        return 1;
    return is_alloc_function(f->function, o);
}

/* ---- Filters (tracemalloc's Filter: fnmatch, call site or all frames) */

static int match_frame(const char *pattern, const sa_sym_frame *f)
{
    const char *base = strrchr(f->file, '/');
    return sa_fold_match(pattern, f->function) ||
           fnmatch(pattern, f->file, 0) == 0 ||
           (base && fnmatch(pattern, base + 1, 0) == 0) ||
           fnmatch(pattern, f->module, 0) == 0 ||
           fnmatch(pattern, f->module_path, 0) == 0;
}

static int match_stack(const char *pattern, const sa_sym_frame *const *frames,
                       uint32_t n, int all_frames)
{
    for (uint32_t i = 0; i < (all_frames ? n : 1); i++)
        if (match_frame(pattern, frames[i]))
            return 1;
    return 0;
}

static int keep_stack(const sa_sym_frame *const *frames, uint32_t n, const sa_report_opts *o)
{
    if (o->ninclude > 0) {
        int any = 0;
        for (size_t i = 0; i < o->ninclude && !any; i++)
            any = match_stack(o->include[i], frames, n, o->all_frames);
        if (!any)
            return 0;
    }
    for (size_t i = 0; i < o->nexclude; i++)
        if (match_stack(o->exclude[i], frames, n, o->all_frames))
            return 0;
    return 1;
}

/* ---- Groups --------------------------------------------------------- */

/* One frame of a key; fields outside the grouping are NULL/0. */
typedef struct key_frame {
    const char *function, *file, *module;
    uint32_t line;
    uint64_t offset;             /* part of the key only for line == 0 */
    uint64_t shown_offset;       /* informational (JSON) */
    const char *module_path;     /* informational (JSON) */
    int unloaded;                /* the module was dlclose'd (part of the key with module) */
} key_frame;

/* A group's key is an array of interned key frames (one copy of each
 * distinct frame, all fields equal), not of frames: a diff by traceback
 * of two 100k-stack snapshots makes 200k keys of ~32 frames, 51 MB of
 * pointers where copies took 360 MB (and their page faults most of the
 * run).  Keys compare by the key fields (key_frame_equal), so frames that
 * differ only in the informational fields still group together. */
typedef struct group {
    uint32_t nkey;
    const key_frame **key;
    uint64_t hash;
    uint64_t size[2], count[2];  /* [0] the only/old snapshot, [1] new */
    uint32_t last_stack;         /* cumulative: charged once per stack */
    int last_snap;
} group;

/* Groups, keys and interned frames are carved from chunks freed with the
 * table: no per-group malloc. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct group_table {
    group **slots;
    size_t cap, used;
    group **list;                /* insertion order */
    size_t listcap;
    const key_frame **frames;    /* interned key frames (open addressing) */
    size_t fcap, fused;
    chunk *chunks;
} group_table;

static void *table_alloc(group_table *t, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    chunk *c = t->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > (1u << 20) ? size : (1u << 20);
        c = sa_xcalloc(1, sizeof *c + cap);
        c->cap = cap;
        c->next = t->chunks;
        t->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static key_frame project(const sa_sym_frame *f, sa_group_by by)
{
    key_frame k = {0};
    static const char *unknown;
    if (!unknown)
        unknown = sa_intern("??");
    switch (by) {
    case SA_BY_LINE:
    case SA_BY_TRACEBACK:
        k.function = f->function;
        k.file = f->file;
        k.module = f->module;
        k.unloaded = f->unloaded;
        k.line = f->line;
        k.offset = f->line ? 0 : f->offset;
        k.shown_offset = f->offset;
        k.module_path = f->module_path;
        break;
    case SA_BY_FUNCTION:
        k.function = f->function;
        k.module = f->module;
        k.unloaded = f->unloaded;
        k.module_path = f->module_path;
        break;
    case SA_BY_FILE:
        k.file = f->file;
        /* Unknown files stay apart per module. */
        if (f->file == unknown) {
            k.module = f->module;
            k.unloaded = f->unloaded;
        }
        break;
    case SA_BY_MODULE:
        k.module = f->module;
        k.unloaded = f->unloaded;
        k.module_path = f->module_path;
        break;
    }
    return k;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Over the key fields only: equal keys hash equal. */
static uint64_t frame_hash(uint64_t h, const key_frame *k)
{
    h = mix(h, (uintptr_t)k->function);
    h = mix(h, (uintptr_t)k->file);
    h = mix(h, (uintptr_t)k->module);
    h = mix(h, k->line);
    h = mix(h, (uint64_t)k->unloaded);
    return mix(h, k->offset);
}

static uint64_t key_hash(const key_frame *const *k, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1);
    for (uint32_t i = 0; i < n; i++)
        h = frame_hash(h, k[i]);
    return h ^ (h >> 29);
}

static int key_frame_equal(const key_frame *a, const key_frame *b)
{
    return a == b || (a->function == b->function && a->file == b->file &&
                      a->module == b->module && a->line == b->line && a->offset == b->offset &&
                      a->unloaded == b->unloaded);
}

static int frame_identical(const key_frame *a, const key_frame *b)
{
    return key_frame_equal(a, b) && a->shown_offset == b->shown_offset &&
           a->module_path == b->module_path;
}

/* The table's copy of k (every field equal). */
static const key_frame *intern_frame(group_table *t, const key_frame *k)
{
    if ((t->fused + 1) * 2 > t->fcap) {
        size_t ncap = t->fcap ? t->fcap * 2 : 1024;
        const key_frame **ns = sa_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < t->fcap; i++) {
            const key_frame *f = t->frames[i];
            if (!f)
                continue;
            size_t j = mix(frame_hash(0, f), f->shown_offset) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = f;
        }
        free(t->frames);
        t->frames = ns;
        t->fcap = ncap;
    }
    size_t j = mix(frame_hash(0, k), k->shown_offset) & (t->fcap - 1);
    for (; t->frames[j]; j = (j + 1) & (t->fcap - 1))
        if (frame_identical(t->frames[j], k))
            return t->frames[j];
    key_frame *copy = table_alloc(t, sizeof *copy);
    *copy = *k;
    t->frames[j] = copy;
    t->fused++;
    return copy;
}

static group *group_get(group_table *t, const key_frame *const *key, uint32_t n)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        group **ns = sa_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i])
                continue;
            size_t j = t->slots[i]->hash & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    uint64_t h = key_hash(key, n);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        group *g = t->slots[j];
        if (g->hash != h || g->nkey != n)
            continue;
        uint32_t i = 0;
        while (i < n && key_frame_equal(g->key[i], key[i]))
            i++;
        if (i == n)
            return g;
    }
    group *g = table_alloc(t, sizeof *g);
    memset(g, 0, sizeof *g);
    g->nkey = n;
    g->key = table_alloc(t, n * sizeof *key);
    memcpy(g->key, key, n * sizeof *key);
    g->hash = h;
    g->last_stack = UINT32_MAX;
    g->last_snap = -1;
    t->slots[j] = g;
    if (t->used == t->listcap) {
        t->listcap = t->listcap ? t->listcap * 2 : 256;
        t->list = sa_xrealloc(t->list, t->listcap, sizeof *t->list);
    }
    t->list[t->used++] = g;
    return g;
}

static void group_table_free(group_table *t)
{
    while (t->chunks) {
        chunk *next = t->chunks->next;
        free(t->chunks);
        t->chunks = next;
    }
    free(t->frames);
    free(t->list);
    free(t->slots);
}

size_t sa_report_symbolize(sa_symbolizer *sym, const sa_snap_stack *st,
                           const sa_report_opts *o, const sa_sym_frame ***framesp,
                           size_t *capp, size_t *first, int site_only)
{
    const sa_sym_frame **frames = *framesp;
    size_t n = 0, cap = *capp, f = 0;
    int site_found = 0;
    for (uint32_t i = 0; i < st->nframes; i++) {
        const sa_sym_frame *sf;
        uint32_t k = sa_sym_lookup(sym, &st->frames[i], &sf);
        if (n + k > cap) {
            cap = (n + k) * 2;
            frames = sa_xrealloc(frames, cap, sizeof *frames);
        }
        for (uint32_t j = 0; j < k; j++)
            frames[n++] = &sf[j];
        /* Fold the leading allocation frames; a stack made only of them
         * keeps its outermost frame as the site. */
        while (!site_found && f < n) {
            if (!is_alloc_frame(frames[f], o))
                site_found = 1;
            else
                f++;
        }
        if (site_only && site_found) {
            n = f + 1;
            break;
        }
    }
    if (f >= n)
        f = n ? n - 1 : 0;
    /* Below the call site, libsnapalloc's frames are its wrapper of main
     * (which sees main return, for the leak check): not the program's. */
    size_t kept = f + (n > f);
    for (size_t i = kept; i < n; i++)
        if (strncmp(frames[i]->module, "libsnapalloc", 12) != 0)
            frames[kept++] = frames[i];
    if (n > f)
        n = kept;
    *first = f;
    *framesp = frames;
    *capp = cap;
    return n;
}

/* Charge every stack of snap (as snapshot number which) to its groups. */
static void add_snapshot(group_table *t, const sa_snapshot *snap, int which,
                         const sa_report_opts *o)
{
    sa_symbolizer *sym = sa_sym_new(snap);
    const sa_sym_frame **frames = NULL;
    size_t cap = 0;
    const key_frame **keys = NULL;
    size_t keycap = 0;
    static sa_sym_frame empty;
    if (!empty.function) {
        empty.function = empty.file = empty.module = empty.module_path = sa_intern("??");
    }

    for (uint32_t s = 0; s < snap->nstacks; s++) {
        const sa_snap_stack *st = &snap->stacks[s];
        if (st->count == 0 && st->size == 0)
            continue;
        size_t first;
        size_t n = sa_report_symbolize(sym, st, o, &frames, &cap, &first, 0);
        if (n == 0) {
            if (cap == 0) {
                cap = 16;
                frames = sa_xrealloc(frames, cap, sizeof *frames);
            }
            frames[n++] = &empty;
        }
        const sa_sym_frame *const *fs = frames + first;
        uint32_t nf = (uint32_t)(n - first);
        if (!keep_stack(fs, nf, o))
            continue;

        if (o->by == SA_BY_TRACEBACK || o->collapsed) {
            /* Whole stacks; collapsed output names their frames by o->by. */
            if (nf > keycap) {
                keycap = nf * 2;
                keys = sa_xrealloc(keys, keycap, sizeof *keys);
            }
            uint32_t nk = 0;
            for (uint32_t i = 0; i < nf; i++) {
                key_frame k = project(fs[i], o->by);
                keys[nk] = intern_frame(t, &k);
                /* A flame graph by file or module shows a run of frames
                 * in one file or module as one frame. */
                if (o->collapsed && (o->by == SA_BY_FILE || o->by == SA_BY_MODULE) && nk &&
                    key_frame_equal(keys[nk], keys[nk - 1]))
                    continue;
                nk++;
            }
            group *g = group_get(t, keys, nk);
            g->size[which] += st->size;
            g->count[which] += st->count;
            continue;
        }
        for (uint32_t i = 0; i < (o->cumulative ? nf : 1); i++) {
            key_frame k = project(fs[i], o->by);
            const key_frame *kp = intern_frame(t, &k);
            group *g = group_get(t, &kp, 1);
            if (g->last_snap == which && g->last_stack == s)
                continue;   /* recursion: each key once per stack */
            g->last_snap = which;
            g->last_stack = s;
            g->size[which] += st->size;
            g->count[which] += st->count;
        }
    }
    free(frames);
    free(keys);
    sa_sym_free(sym);
}

/* ---- Ordering ------------------------------------------------------- */

static int strcmp_null(const char *a, const char *b)
{
    if (a == b)
        return 0;
    if (!a)
        return -1;
    if (!b)
        return 1;
    return strcmp(a, b);
}

static int key_cmp(const group *a, const group *b)
{
    for (uint32_t i = 0; i < a->nkey && i < b->nkey; i++) {
        const key_frame *x = a->key[i], *y = b->key[i];
        int c;
        if ((c = strcmp_null(x->file, y->file)) != 0)
            return c;
        if (x->line != y->line)
            return x->line < y->line ? -1 : 1;
        if ((c = strcmp_null(x->function, y->function)) != 0)
            return c;
        if ((c = strcmp_null(x->module, y->module)) != 0)
            return c;
        if (x->offset != y->offset)
            return x->offset < y->offset ? -1 : 1;
    }
    return (a->nkey > b->nkey) - (a->nkey < b->nkey);
}

#define CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)

static int cmp_show(const void *pa, const void *pb)
{
    const group *a = *(group *const *)pa, *b = *(group *const *)pb;
    CMP_DESC(a->size[0], b->size[0]);
    CMP_DESC(a->count[0], b->count[0]);
    return key_cmp(a, b);
}

static int64_t size_diff(const group *g) { return (int64_t)(g->size[1] - g->size[0]); }
static int64_t count_diff(const group *g) { return (int64_t)(g->count[1] - g->count[0]); }
static uint64_t mag(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static int cmp_diff(const void *pa, const void *pb)
{
    const group *a = *(group *const *)pa, *b = *(group *const *)pb;
    CMP_DESC(mag(size_diff(a)), mag(size_diff(b)));
    CMP_DESC(a->size[1], b->size[1]);
    CMP_DESC(mag(count_diff(a)), mag(count_diff(b)));
    return key_cmp(a, b);
}

/* ---- Text ----------------------------------------------------------- */

void sa_format_size(char *buf, size_t len, double size, int sign)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        if (fabs(size) < 100 && u != 0) {
            snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (fabs(size) < 10 * 1024 || u == 4) {
            snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

static int unsymbolized(const key_frame *k)
{
    /* "module+0xOFF" or "0xADDR": the function field carries the address. */
    size_t n = strlen(k->module);
    return (strncmp(k->function, k->module, n) == 0 && strncmp(k->function + n, "+0x", 3) == 0) ||
           strncmp(k->function, "0x", 2) == 0;
}

/* ", unloaded" after a module dlclose'd before the snapshot. */
static const char *unloaded_mark(const key_frame *k)
{
    return k->unloaded ? ", unloaded" : "";
}

/* The one-line name of a key frame (without the traceback's module). */
static void print_key_frame(FILE *out, const key_frame *k, sa_group_by by)
{
    switch (by) {
    case SA_BY_LINE:
    case SA_BY_TRACEBACK:
        if (k->line)
            fprintf(out, "%s:%" PRIu32 " %s", k->file, k->line, k->function);
        else if (unsymbolized(k))
            fputs(k->function, out);
        else
            fprintf(out, "%s (%s+0x%" PRIx64 "%s)", k->function, k->module, k->offset,
                    unloaded_mark(k));
        break;
    case SA_BY_FUNCTION:
        fprintf(out, "%s (%s%s)", k->function, k->module, unloaded_mark(k));
        break;
    case SA_BY_FILE:
        if (k->module)
            fprintf(out, "%s (%s%s)", k->file, k->module, unloaded_mark(k));
        else
            fputs(k->file, out);
        break;
    case SA_BY_MODULE:
        fputs(k->module, out);
        if (k->unloaded)
            fputs(" (unloaded)", out);
        break;
    }
}

static void print_traceback(FILE *out, const group *g)
{
    for (uint32_t i = 0; i < g->nkey; i++) {
        const key_frame *k = g->key[i];
        fputs("  ", out);
        print_key_frame(out, k, SA_BY_TRACEBACK);
        if (k->line)
            fprintf(out, " (%s%s)", k->module, unloaded_mark(k));
        fputc('\n', out);
    }
}

static const char *trigger_name(uint32_t t)
{
    static const char *const names[] = {"api", "exit", "signal", "interval", "peak", "leak",
                                        "baseline"};
    return t < sizeof names / sizeof *names ? names[t] : "unknown";
}

static void format_time(char *buf, size_t len, int64_t ns, int iso)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) ||
        !strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "?");
}

static void print_header_text(FILE *out, const char *label, const char *path,
                              const sa_snapshot *s)
{
    char t[64], cur[32], peak[32], tot[32];
    format_time(t, sizeof t, s->time_ns, 0);
    sa_format_size(cur, sizeof cur, (double)s->traced_current, 0);
    sa_format_size(peak, sizeof peak, (double)s->traced_peak, 0);
    sa_format_size(tot, sizeof tot, (double)s->total_size, 0);
    fprintf(out, "%s: %s\n", label, path);
    fprintf(out, "  program: %s (pid %" PRIu32 ")\n", s->exe ? s->exe : "?", s->pid);
    if (s->cmdline && s->cmdline[0])
        fprintf(out, "  command: %s\n", s->cmdline);
    fprintf(out, "  taken: %s, trigger %s, sequence %" PRIu32 ", frame limit %" PRIu32 "\n",
            t, trigger_name(s->trigger), s->sequence, s->frame_limit);
    fprintf(out, "  traced memory: current=%s, peak=%s\n", cur, peak);
    fprintf(out, "  total: size=%s, count=%" PRIu64 ", stacks=%" PRIu32 "\n",
            tot, s->total_count, s->nstacks);
}

static const char *by_name(sa_group_by by)
{
    static const char *const names[] = {"line", "function", "file", "module", "traceback"};
    return names[by];
}

int sa_group_by_parse(const char *s, sa_group_by *out)
{
    for (int i = SA_BY_LINE; i <= SA_BY_TRACEBACK; i++)
        if (strcmp(s, by_name(i)) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static void print_stat_text(FILE *out, const group *g, const sa_report_opts *o, int diff)
{
    char size[32], sd[32], avg[32];
    const key_frame *site = g->key[0];
    int w = diff ? 1 : 0;
    print_key_frame(out, site, o->by);
    sa_format_size(size, sizeof size, (double)g->size[w], 0);
    if (diff) {
        sa_format_size(sd, sizeof sd, (double)size_diff(g), 1);
        fprintf(out, ": size=%s (%s), count=%" PRIu64 " (%+" PRId64 ")", size, sd,
                g->count[1], count_diff(g));
    } else {
        fprintf(out, ": size=%s, count=%" PRIu64, size, g->count[0]);
    }
    if (g->count[w]) {
        sa_format_size(avg, sizeof avg, (double)g->size[w] / (double)g->count[w], 0);
        fprintf(out, ", average=%s", avg);
    }
    fputc('\n', out);
    if (o->by == SA_BY_TRACEBACK)
        print_traceback(out, g);
}

/* ---- JSON ----------------------------------------------------------- */

/* A JSON string: quotes, backslashes and control characters escaped;
 * bytes that are not valid UTF-8 become U+FFFD so the output always
 * parses. */
/* Length of the valid UTF-8 sequence at p (2..4 bytes: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
int sa_utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    int n = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    uint32_t cp = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void sa_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\t': fputs("\\t", out); break;
            case '\r': fputs("\\r", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            p++;
        } else if (c < 0x80) {
            fputc((int)c, out);
            p++;
        } else {
            int n = sa_utf8_len(p);
            int ok = n > 0;
            if (ok) {
                fwrite(p, 1, (size_t)n, out);
                p += n;
            } else {
                fputs("\\ufffd", out);
                p++;
            }
        }
    }
    fputc('"', out);
}

static void json_header(FILE *out, const char *path, const sa_snapshot *s)
{
    char t[64];
    format_time(t, sizeof t, s->time_ns, 1);
    fputs("{\"path\": ", out);
    sa_json_str(out, path);
    fprintf(out, ", \"version\": %" PRIu32 ", \"pid\": %" PRIu32 ", \"time_ns\": %" PRId64
            ", \"time\": \"%s\", \"exe\": ", s->version, s->pid, s->time_ns, t);
    sa_json_str(out, s->exe);
    fputs(", \"cmdline\": ", out);
    sa_json_str(out, s->cmdline);
    fprintf(out, ", \"frame_limit\": %" PRIu32 ", \"trigger\": \"%s\", \"sequence\": %" PRIu32
            ", \"traced_current\": %" PRIu64 ", \"traced_peak\": %" PRIu64
            ", \"total_size\": %" PRIu64 ", \"total_count\": %" PRIu64
            ", \"nstacks\": %" PRIu32 ", \"nmodules\": %" PRIu32 "}",
            s->frame_limit, trigger_name(s->trigger), s->sequence, s->traced_current,
            s->traced_peak, s->total_size, s->total_count, s->nstacks, s->nmodules);
}

static void json_site(FILE *out, const key_frame *k, sa_group_by by)
{
    fputs("{\"function\": ", out);
    sa_json_str(out, k->function);
    fputs(", \"file\": ", out);
    sa_json_str(out, k->file);
    if (by == SA_BY_LINE || by == SA_BY_TRACEBACK)
        fprintf(out, ", \"line\": %" PRIu32, k->line);
    else
        fputs(", \"line\": null", out);
    fputs(", \"module\": ", out);
    sa_json_str(out, k->module);
    if (k->module)
        fprintf(out, ", \"module_unloaded\": %s", k->unloaded ? "true" : "false");
    fputc('}', out);
}

static void json_stat(FILE *out, const group *g, const sa_report_opts *o, int diff)
{
    int w = diff ? 1 : 0;
    fprintf(out, "{\"size\": %" PRIu64, g->size[w]);
    if (diff)
        fprintf(out, ", \"size_diff\": %" PRId64, size_diff(g));
    fprintf(out, ", \"count\": %" PRIu64, g->count[w]);
    if (diff)
        fprintf(out, ", \"count_diff\": %" PRId64, count_diff(g));
    fputs(", \"site\": ", out);
    json_site(out, g->key[0], o->by);
    if (o->by == SA_BY_TRACEBACK) {
        fputs(", \"frames\": [", out);
        for (uint32_t i = 0; i < g->nkey; i++) {
            const key_frame *k = g->key[i];
            fputs(i ? ", {\"function\": " : "{\"function\": ", out);
            sa_json_str(out, k->function);
            fputs(", \"file\": ", out);
            sa_json_str(out, k->file);
            fprintf(out, ", \"line\": %" PRIu32 ", \"module\": ", k->line);
            sa_json_str(out, k->module_path);
            fprintf(out, ", \"module_unloaded\": %s, \"offset\": %" PRIu64 "}",
                    k->unloaded ? "true" : "false", k->shown_offset);
        }
        fputc(']', out);
    }
    fputc('}', out);
}

/* ---- Entry points --------------------------------------------------- */

static int finish(FILE *out)
{
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "snapalloc: output: write error\n");
        return -1;
    }
    return 0;
}

/* s in a collapsed-stack frame: ';' separates frames and a line ends the
 * record, so ';' becomes ':' and control characters '?'. */
static void collapsed_str(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, out);
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* One frame of a collapsed stack: "function" (--by function, the
 * default), "function (file.c:123)" (--by line), the file's base name or
 * the module; module+0xOFFSET for a frame without symbols. */
static void collapsed_frame(FILE *out, const key_frame *k, sa_group_by by)
{
    switch (by) {
    case SA_BY_LINE:
    case SA_BY_TRACEBACK:
        collapsed_str(out, k->function);
        if (k->line) {
            fputs(" (", out);
            collapsed_str(out, base_name(k->file));
            fprintf(out, ":%" PRIu32 ")", k->line);
        } else if (!unsymbolized(k)) {
            fputs(" (", out);
            collapsed_str(out, k->module);
            fprintf(out, "+0x%" PRIx64 ")", k->offset);
        }
        break;
    case SA_BY_FUNCTION:
        collapsed_str(out, k->function);
        break;
    case SA_BY_FILE:
        collapsed_str(out, k->module ? k->module : base_name(k->file));
        break;
    case SA_BY_MODULE:
        collapsed_str(out, k->module);
        break;
    }
}

/* A group's frames, outermost first (the key is innermost first). */
static void collapsed_stack(FILE *out, const group *g, sa_group_by by)
{
    for (uint32_t i = g->nkey; i-- > 0;) {
        collapsed_frame(out, g->key[i], by);
        if (i)
            fputc(';', out);
    }
}

static void print_other_text(FILE *out, group **gs, size_t from, size_t n, int diff)
{
    if (from >= n)
        return;
    uint64_t size[2] = {0, 0}, count[2] = {0, 0};
    for (size_t i = from; i < n; i++)
        for (int w = 0; w < 2; w++) {
            size[w] += gs[i]->size[w];
            count[w] += gs[i]->count[w];
        }
    char s[32], sd[32];
    if (diff) {
        sa_format_size(s, sizeof s, (double)size[1], 0);
        sa_format_size(sd, sizeof sd, (double)(int64_t)(size[1] - size[0]), 1);
        fprintf(out, "%zu other: size=%s (%s), count=%" PRIu64 " (%+" PRId64 ")\n", n - from, s, sd,
                count[1], (int64_t)(count[1] - count[0]));
    } else {
        sa_format_size(s, sizeof s, (double)size[0], 0);
        fprintf(out, "%zu other: size=%s, count=%" PRIu64 "\n", n - from, s, count[0]);
    }
}

static void print_title(FILE *out, const sa_report_opts *o, size_t shown, size_t total, int diff)
{
    fprintf(out, "[ %s %zu%s %sby %s ]\n", shown < total ? "Top" : "All", shown,
            diff ? " differences" : "", o->cumulative ? "cumulative " : "", by_name(o->by));
}

int sa_report_show(FILE *out, const char *path, const sa_snapshot *snap,
                   const sa_report_opts *o)
{
    group_table t = {0};
    add_snapshot(&t, snap, 0, o);
    if (t.used > 1)
        qsort(t.list, t.used, sizeof *t.list, cmp_show);
    size_t shown = o->top && o->top < t.used ? o->top : t.used;
    if (o->collapsed) {
        for (size_t i = 0; i < shown; i++) {
            collapsed_stack(out, t.list[i], o->by);
            fprintf(out, " %" PRIu64 "\n", t.list[i]->size[0]);
        }
    } else if (o->json) {
        fputs("{\"snapshot\": ", out);
        json_header(out, path, snap);
        fprintf(out, ", \"group_by\": \"%s\", \"cumulative\": %s, \"groups\": %zu, \"stats\": [",
                by_name(o->by), o->cumulative ? "true" : "false", t.used);
        for (size_t i = 0; i < shown; i++) {
            fputs(i ? ",\n  " : "\n  ", out);
            json_stat(out, t.list[i], o, 0);
        }
        fputs("]}\n", out);
    } else {
        print_header_text(out, "snapshot", path, snap);
        print_title(out, o, shown, t.used, 0);
        for (size_t i = 0; i < shown; i++)
            print_stat_text(out, t.list[i], o, 0);
        print_other_text(out, t.list, shown, t.used, 0);
    }
    group_table_free(&t);
    return finish(out);
}

int sa_report_diff(FILE *out, const char *old_path, const sa_snapshot *old_snap,
                   const char *new_path, const sa_snapshot *new_snap,
                   const sa_report_opts *o)
{
    group_table t = {0};
    add_snapshot(&t, old_snap, 0, o);
    add_snapshot(&t, new_snap, 1, o);
    /* --min-diff drops groups before --top counts them. */
    size_t n = 0;
    for (size_t i = 0; i < t.used; i++) {
        group *g = t.list[i];
        if (mag(size_diff(g)) >= o->min_diff)
            t.list[n++] = g;   /* the others stay in the table's chunks */
    }
    t.used = n;
    if (t.used > 1)
        qsort(t.list, t.used, sizeof *t.list, cmp_diff);
    size_t shown = o->top && o->top < t.used ? o->top : t.used;
    if (o->collapsed) {
        for (size_t i = 0; i < shown; i++) {
            collapsed_stack(out, t.list[i], o->by);
            fprintf(out, " %" PRIu64 " %" PRIu64 "\n", t.list[i]->size[0], t.list[i]->size[1]);
        }
    } else if (o->json) {
        fputs("{\"old\": ", out);
        json_header(out, old_path, old_snap);
        fputs(", \"new\": ", out);
        json_header(out, new_path, new_snap);
        fprintf(out, ", \"group_by\": \"%s\", \"cumulative\": %s, \"groups\": %zu, \"stats\": [",
                by_name(o->by), o->cumulative ? "true" : "false", t.used);
        for (size_t i = 0; i < shown; i++) {
            fputs(i ? ",\n  " : "\n  ", out);
            json_stat(out, t.list[i], o, 1);
        }
        fputs("]}\n", out);
    } else {
        print_header_text(out, "old", old_path, old_snap);
        print_header_text(out, "new", new_path, new_snap);
        print_title(out, o, shown, t.used, 1);
        for (size_t i = 0; i < shown; i++)
            print_stat_text(out, t.list[i], o, 1);
        print_other_text(out, t.list, shown, t.used, 1);
    }
    free(t.slots);   /* the slots point at freed groups after --min-diff */
    t.slots = NULL;
    t.cap = 0;
    group_table_free(&t);
    return finish(out);
}
