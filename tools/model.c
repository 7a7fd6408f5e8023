/* model.c - the grouping model (model.h): symbolize, fold, filter, group,
 * order.
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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "model.h"
#include "symbolize.h"
#include "util.h"

/* ---- Allocation functions folded into the allocation ---------------- */

/* Answers per (interned function name, options): a snapshot has far fewer
 * distinct functions than leading frames, and each answer parses the
 * demangled name and runs every pattern. */
typedef struct fold_entry {
    const char *function;
    const sa_model_opts *opts;
    int alloc;
} fold_entry;

static struct {
    fold_entry *slots;
    size_t cap, used;
} fold_cache;

static int fold_decide(const char *function, const sa_model_opts *o)
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

static int is_alloc_function(const char *function, const sa_model_opts *o)
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

static int is_alloc_frame(const sa_sym_frame *f, const sa_model_opts *o)
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

static int keep_stack(const sa_sym_frame *const *frames, uint32_t n, const sa_model_opts *o)
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

/* A group's key is an array of interned key frames (one copy of each
 * distinct frame, all fields equal), not of frames: a diff by traceback
 * of two 100k-stack snapshots makes 200k keys of ~32 frames, 51 MB of
 * pointers where copies took 360 MB (and their page faults most of the
 * run).  Keys compare by the key fields (key_frame_equal), so frames that
 * differ only in the informational fields still group together.
 *
 * Groups, keys and interned frames are carved from chunks freed with the
 * table: no per-group malloc. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct sa_group_table {
    sa_group **slots;
    size_t cap, used;
    sa_group **list;                /* insertion order */
    size_t listcap;
    const sa_key_frame **frames;    /* interned key frames (open addressing) */
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

static sa_key_frame project(const sa_sym_frame *f, sa_group_by by)
{
    static const char *unknown;
    if (!unknown)
        unknown = sa_intern("??");
    int by_line = by == SA_BY_LINE || by == SA_BY_TRACEBACK;
    /* Unknown files stay apart per module. */
    int module = by_line || by == SA_BY_FUNCTION || by == SA_BY_MODULE ||
                 (by == SA_BY_FILE && f->file == unknown);
    sa_key_frame k = {0};
    if (by_line || by == SA_BY_FUNCTION)
        k.function = f->function;
    if (by_line || by == SA_BY_FILE)
        k.file = f->file;
    if (module) {
        k.module = f->module;
        k.unloaded = f->unloaded;
    }
    if (by_line || by == SA_BY_FUNCTION || by == SA_BY_MODULE)
        k.module_path = f->module_path;
    if (by_line) {
        k.line = f->line;
        k.offset = f->line ? 0 : f->offset;
        k.shown_offset = f->offset;
        k.inlined = f->inlined;
    }
    return k;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Over the key fields only: equal keys hash equal. */
static uint64_t frame_hash(uint64_t h, const sa_key_frame *k)
{
    h = mix(h, (uintptr_t)k->function);
    h = mix(h, (uintptr_t)k->file);
    h = mix(h, (uintptr_t)k->module);
    h = mix(h, k->line);
    h = mix(h, (uint64_t)k->unloaded);
    return mix(h, k->offset);
}

static uint64_t key_hash(const sa_key_frame *const *k, uint32_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1);
    for (uint32_t i = 0; i < n; i++)
        h = frame_hash(h, k[i]);
    return h ^ (h >> 29);
}

static int key_frame_equal(const sa_key_frame *a, const sa_key_frame *b)
{
    return a == b || (a->function == b->function && a->file == b->file &&
                      a->module == b->module && a->line == b->line && a->offset == b->offset &&
                      a->unloaded == b->unloaded);
}

static int frame_identical(const sa_key_frame *a, const sa_key_frame *b)
{
    return key_frame_equal(a, b) && a->shown_offset == b->shown_offset &&
           a->module_path == b->module_path && a->inlined == b->inlined;
}

/* The table's copy of k (every field equal). */
static const sa_key_frame *intern_frame(group_table *t, const sa_key_frame *k)
{
    if ((t->fused + 1) * 2 > t->fcap) {
        size_t ncap = t->fcap ? t->fcap * 2 : 1024;
        const sa_key_frame **ns = sa_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < t->fcap; i++) {
            const sa_key_frame *f = t->frames[i];
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
    sa_key_frame *copy = table_alloc(t, sizeof *copy);
    *copy = *k;
    t->frames[j] = copy;
    t->fused++;
    return copy;
}

static sa_group *group_get(group_table *t, const sa_key_frame *const *key, uint32_t n)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        sa_group **ns = sa_xcalloc(ncap, sizeof *ns);
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
        sa_group *g = t->slots[j];
        if (g->hash != h || g->nkey != n)
            continue;
        uint32_t i = 0;
        while (i < n && key_frame_equal(g->key[i], key[i]))
            i++;
        if (i == n)
            return g;
    }
    sa_group *g = table_alloc(t, sizeof *g);
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

size_t sa_model_symbolize(void *sym, const sa_snap_stack *st, const sa_model_opts *o,
                          const sa_sym_frame ***framesp, size_t *capp, size_t *first,
                          int site_only)
{
    const sa_sym_frame **frames = *framesp;
    size_t n = 0, cap = *capp, f = 0;
    int site_found = 0;
    for (uint32_t i = 0; i < st->nframes; i++) {
        const sa_sym_frame *sf;
        uint32_t k = o->sym->lookup(sym, &st->frames[i], &sf);
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

/* The key of a whole stack fs[0..nf) into *keys (grown as needed);
 * returns its length. */
static uint32_t stack_key(group_table *t, const sa_sym_frame *const *fs, uint32_t nf,
                          const sa_model_opts *o, const sa_key_frame ***keys, size_t *keycap)
{
    if (nf > *keycap) {
        *keycap = nf * 2;
        *keys = sa_xrealloc(*keys, *keycap, sizeof **keys);
    }
    /* A flame graph by file or module shows a run of frames in one file
     * or module as one frame. */
    int merge_runs = o->whole_stacks && (o->by == SA_BY_FILE || o->by == SA_BY_MODULE);
    uint32_t nk = 0;
    for (uint32_t i = 0; i < nf; i++) {
        sa_key_frame k = project(fs[i], o->by);
        (*keys)[nk] = intern_frame(t, &k);
        if (merge_runs && nk && key_frame_equal((*keys)[nk], (*keys)[nk - 1]))
            continue;
        nk++;
    }
    return nk;
}

/* Charge stack number s of snapshot `which` to the one-frame groups of
 * its call site (or, cumulative, of every frame, each key once). */
static void charge_frames(group_table *t, const sa_sym_frame *const *fs, uint32_t nf,
                          const sa_snap_stack *st, uint32_t s, int which,
                          const sa_model_opts *o)
{
    for (uint32_t i = 0; i < (o->cumulative ? nf : 1); i++) {
        sa_key_frame k = project(fs[i], o->by);
        const sa_key_frame *kp = intern_frame(t, &k);
        sa_group *g = group_get(t, &kp, 1);
        if (g->last_snap == which && g->last_stack == s)
            continue;   /* recursion: each key once per stack */
        g->last_snap = which;
        g->last_stack = s;
        g->size[which] += st->size;
        g->count[which] += st->count;
    }
}

/* Charge every stack of snap (as snapshot number which) to its groups. */
static void add_snapshot(group_table *t, const sa_snapshot *snap, int which,
                         const sa_model_opts *o)
{
    void *sym = o->sym->open(snap);
    const sa_sym_frame **frames = NULL;
    size_t cap = 0;
    const sa_key_frame **keys = NULL;
    size_t keycap = 0;
    static sa_sym_frame empty;
    if (!empty.function)
        empty.function = empty.file = empty.module = empty.module_path = sa_intern("??");

    for (uint32_t s = 0; s < snap->nstacks; s++) {
        const sa_snap_stack *st = &snap->stacks[s];
        if (st->count == 0 && st->size == 0)
            continue;
        size_t first;
        size_t n = sa_model_symbolize(sym, st, o, &frames, &cap, &first, 0);
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
        if (o->by == SA_BY_TRACEBACK || o->whole_stacks) {
            uint32_t nk = stack_key(t, fs, nf, o, &keys, &keycap);
            sa_group *g = group_get(t, keys, nk);
            g->size[which] += st->size;
            g->count[which] += st->count;
        } else {
            charge_frames(t, fs, nf, st, s, which, o);
        }
    }
    free(frames);
    free(keys);
    o->sym->close(sym);
}

/* ---- Ordering ------------------------------------------------------- */

static int key_cmp(const sa_group *a, const sa_group *b)
{
    for (uint32_t i = 0; i < a->nkey && i < b->nkey; i++) {
        const sa_key_frame *x = a->key[i], *y = b->key[i];
        int c;
        if ((c = sa_strcmp_null(x->file, y->file)) != 0)
            return c;
        if (x->line != y->line)
            return x->line < y->line ? -1 : 1;
        if ((c = sa_strcmp_null(x->function, y->function)) != 0)
            return c;
        if ((c = sa_strcmp_null(x->module, y->module)) != 0)
            return c;
        if (x->offset != y->offset)
            return x->offset < y->offset ? -1 : 1;
    }
    return (a->nkey > b->nkey) - (a->nkey < b->nkey);
}

#define CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)

static int cmp_show(const void *pa, const void *pb)
{
    const sa_group *a = *(sa_group *const *)pa, *b = *(sa_group *const *)pb;
    CMP_DESC(a->size[0], b->size[0]);
    CMP_DESC(a->count[0], b->count[0]);
    return key_cmp(a, b);
}

static uint64_t mag(int64_t v) { return v < 0 ? -(uint64_t)v : (uint64_t)v; }

static int cmp_diff(const void *pa, const void *pb)
{
    const sa_group *a = *(sa_group *const *)pa, *b = *(sa_group *const *)pb;
    CMP_DESC(mag(sa_group_size_diff(a)), mag(sa_group_size_diff(b)));
    CMP_DESC(a->size[1], b->size[1]);
    CMP_DESC(mag(sa_group_count_diff(a)), mag(sa_group_count_diff(b)));
    return key_cmp(a, b);
}

/* ---- The model ------------------------------------------------------ */

void sa_model_build(sa_model *m, const sa_snapshot *old_snap, const sa_snapshot *new_snap,
                    const sa_model_opts *o)
{
    memset(m, 0, sizeof *m);
    m->by = o->by;
    m->cumulative = o->cumulative;
    m->diff = new_snap != NULL;
    m->sample_interval[0] = old_snap->sample_interval;
    m->sample_interval[1] = new_snap ? new_snap->sample_interval : old_snap->sample_interval;
    group_table *t = m->table = sa_xcalloc(1, sizeof *t);
    add_snapshot(t, old_snap, 0, o);
    if (new_snap) {
        add_snapshot(t, new_snap, 1, o);
        /* --min-diff drops groups before --top counts them; the dropped
         * stay in the table's chunks. */
        size_t n = 0;
        for (size_t i = 0; i < t->used; i++)
            if (mag(sa_group_size_diff(t->list[i])) >= o->min_diff)
                t->list[n++] = t->list[i];
        m->ngroups = n;
    } else {
        m->ngroups = t->used;
    }
    m->groups = t->list;
    if (m->ngroups > 1)
        qsort(m->groups, m->ngroups, sizeof *m->groups, m->diff ? cmp_diff : cmp_show);
    m->nshown = o->top && o->top < m->ngroups ? o->top : m->ngroups;
    for (size_t i = 0; i < m->ngroups; i++)
        for (int w = 0; w < 2; w++) {
            m->size[w] += m->groups[i]->size[w];
            m->count[w] += m->groups[i]->count[w];
        }
}

void sa_model_rest(const sa_model *m, uint64_t size[2], uint64_t count[2])
{
    size[0] = size[1] = count[0] = count[1] = 0;
    for (size_t i = m->nshown; i < m->ngroups; i++)
        for (int w = 0; w < 2; w++) {
            size[w] += m->groups[i]->size[w];
            count[w] += m->groups[i]->count[w];
        }
}

void sa_model_free(sa_model *m)
{
    if (m->table) {
        group_table_free(m->table);
        free(m->table);
    }
    memset(m, 0, sizeof *m);
}

static const char *const by_names[] = {"line", "function", "file", "module", "traceback"};

const char *sa_group_by_name(sa_group_by by)
{
    return by_names[by];
}

int sa_group_by_parse(const char *s, sa_group_by *out)
{
    for (int i = SA_BY_LINE; i <= SA_BY_TRACEBACK; i++)
        if (strcmp(s, by_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

double sa_group_size_sd(const sa_model *m, const sa_group *g, int w)
{
    return sqrt((double)m->sample_interval[w] * (double)g->size[w]);
}

double sa_group_diff_sd(const sa_model *m, const sa_group *g)
{
    return sqrt((double)m->sample_interval[0] * (double)g->size[0] +
                (double)m->sample_interval[1] * (double)g->size[1]);
}

int sa_group_within_error(const sa_model *m, const sa_group *g)
{
    if (!sa_model_sampled(m))
        return 0;
    double d = (double)sa_group_size_diff(g);
    return fabs(d) <= SA_SAMPLE_NOISE * sa_group_diff_sd(m, g);
}
