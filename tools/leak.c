/* leak.c - reading and analyzing the leak sets of `snapalloc check` (see
 * leak.h; the files are described in doc/leak-report.md).
 *
 * Per class file, every stack is symbolized (the model's pipeline: inlined
 * frames expand, allocation functions fold so the stack starts at the
 * call site), tested against the suppressions on ALL its frames, folded
 * ones included (as LSan does), then stacks with the same call site and
 * the same suppression are merged into one leak.  The largest merged stack
 * is the one printed.  Call sites compare by interned pointer
 * (symbolize.h), so grouping is a sort.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "leak.h"
#include "util.h"

static const char *const kind_names[] = {
    [SA_LEAK_DEFINITE] = "definite", [SA_LEAK_INDIRECT] = "indirect",
    [SA_LEAK_POSSIBLE] = "possible", [SA_LEAK_REACHABLE] = "reachable",
    [SA_LEAK_GROWTH] = "growth",
};
static const char *const kind_labels[] = {
    [SA_LEAK_DEFINITE] = "definitely lost", [SA_LEAK_INDIRECT] = "indirectly lost",
    [SA_LEAK_POSSIBLE] = "possibly lost", [SA_LEAK_REACHABLE] = "still reachable",
};

const char *sa_leak_kind_name(int kind) { return kind_names[kind]; }
const char *sa_leak_kind_label(int kind) { return kind_labels[kind]; }

int sa_leak_kinds_parse(const char *s, int allow_growth, unsigned *mask)
{
    unsigned m = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        int k;
        for (k = SA_LEAK_FIRST; k <= SA_LEAK_GROWTH; k++)
            if (strlen(kind_names[k]) == n && strncmp(p, kind_names[k], n) == 0)
                break;
        if (k > SA_LEAK_GROWTH || (k == SA_LEAK_GROWTH && !allow_growth))
            return -1;
        m |= SA_KIND_BIT(k);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *mask = m;
    return 0;
}

const char *sa_leak_commas(char *buf, size_t len, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ---- Files of a directory ------------------------------------------- */

static sa_leak_proc *proc_get(sa_check_result *r, uint32_t pid)
{
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].pid == pid)
            return &r->procs[i];
    r->procs = sa_xrealloc(r->procs, r->nprocs + 1, sizeof *r->procs);
    sa_leak_proc *p = &r->procs[r->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    return p;
}

static int cmp_pid(const void *a, const void *b)
{
    uint32_t x = ((const sa_leak_proc *)a)->pid, y = ((const sa_leak_proc *)b)->pid;
    return (x > y) - (x < y);
}

/* Every PID that left a file "PID.something" in dir; checked if PID.done. */
static void scan_dir(const char *dir, sa_check_result *r)
{
    DIR *d = opendir(dir);
    if (!d)
        sa_die(dir, "%s", strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strspn(e->d_name, "0123456789");
        uint64_t pid;
        char digits[16];
        if (n == 0 || n >= sizeof digits || e->d_name[n] != '.')
            continue;
        memcpy(digits, e->d_name, n);
        digits[n] = '\0';
        if (sa_parse_u64(digits, 1, UINT32_MAX, &pid) != 0)
            continue;
        sa_leak_proc *p = proc_get(r, (uint32_t)pid);
        if (strcmp(e->d_name + n, ".done") == 0)
            p->checked = 1;
    }
    closedir(d);
    if (r->nprocs > 1)   /* qsort's base must not be NULL, even for 0 */
        qsort(r->procs, r->nprocs, sizeof *r->procs, cmp_pid);
}

static char *set_path(const char *dir, uint32_t pid, const char *what)
{
    size_t len = strlen(dir) + strlen(what) + 32;
    char *p = sa_xcalloc(len, 1);
    snprintf(p, len, "%s/%" PRIu32 ".%s", dir, pid, what);
    return p;
}

/* ---- Grouping -------------------------------------------------------- */

typedef struct item {
    const sa_sym_frame *site;  /* NULL: no frames */
    int supp;
    uint64_t bytes, blocks;
    const sa_snap_stack *stack;
} item;

static int ptr_cmp(const void *a, const void *b)
{
    return ((uintptr_t)a > (uintptr_t)b) - ((uintptr_t)a < (uintptr_t)b);
}

/* Same site: same function, file, line, module; without a line, the same
 * module offset too (as show's keys). */
static int site_cmp(const sa_sym_frame *a, const sa_sym_frame *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    int c;
    if ((c = ptr_cmp(a->function, b->function)) || (c = ptr_cmp(a->file, b->file)) ||
        (c = ptr_cmp(a->module, b->module)))
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->line == 0 && a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

static int cmp_item_key(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    if (a->supp != b->supp)
        return a->supp < b->supp ? -1 : 1;
    return site_cmp(a->site, b->site);
}

/* Report order: largest first; ties by site text so output is stable. */
static int cmp_leak(const void *pa, const void *pb)
{
    const sa_leak *a = pa, *b = pb;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->blocks != b->blocks)
        return a->blocks > b->blocks ? -1 : 1;
    if ((a->nframes == 0) != (b->nframes == 0))
        return a->nframes == 0 ? 1 : -1;
    if (a->nframes && b->nframes) {
        const sa_sym_frame *x = &a->frames[0], *y = &b->frames[0];
        int c;
        if ((c = sa_strcmp_null(x->file, y->file)))
            return c;
        if (x->line != y->line)
            return x->line < y->line ? -1 : 1;
        if ((c = sa_strcmp_null(x->function, y->function)))
            return c;
        if (x->offset != y->offset)
            return x->offset < y->offset ? -1 : 1;
    }
    return (a->supp > b->supp) - (a->supp < b->supp);
}

/* The frames of st from its call site on, fully symbolized, in a copy
 * that outlives the symbolizer. */
static sa_sym_frame *site_frames(void *sym, const sa_snap_stack *st,
                                 const sa_model_opts *ro, const sa_sym_frame ***frames,
                                 size_t *cap, uint32_t *nframes)
{
    size_t first = 0;
    size_t n = sa_model_symbolize(sym, st, ro, frames, cap, &first, 0);
    *nframes = (uint32_t)(n - first);
    if (n == 0)
        return NULL;
    sa_sym_frame *out = sa_xcalloc(n - first, sizeof *out);
    for (size_t i = first; i < n; i++)
        out[i - first] = *(*frames)[i];
    return out;
}

/* Group the stacks of one kind by call site.  Only what is needed is
 * symbolized: each stack down to its site (the grouping key), every frame
 * only when suppressions must be matched against them, and in full only
 * the stack shown for each group (the largest).  Debug information of a
 * module that none of these reach is never read. */
static void add_class(sa_leak_proc *p, int kind, const sa_snapshot *snap, sa_check_opts *o)
{
    void *sym = o->ropts.sym->open(snap);
    const sa_sym_frame **frames = NULL;
    size_t cap = 0;
    item *items = sa_xcalloc(snap->nstacks, sizeof *items);
    size_t nitems = 0;
    int match_all = o->supp.n > 0;
    for (uint32_t s = 0; s < snap->nstacks; s++) {
        const sa_snap_stack *st = &snap->stacks[s];
        if (st->size == 0 && st->count == 0)
            continue;
        size_t first = 0;
        size_t n = sa_model_symbolize(sym, st, &o->ropts, &frames, &cap, &first, !match_all);
        item *it = &items[nitems++];
        it->bytes = st->size;
        it->blocks = st->count;
        it->stack = st;
        it->supp = n && match_all ? sa_supp_match(&o->supp, frames, n) : -1;
        it->site = n ? frames[first] : NULL;
    }
    if (nitems > 1)
        qsort(items, nitems, sizeof *items, cmp_item_key);
    for (size_t i = 0; i < nitems;) {
        size_t j = i;
        sa_leak l = {.kind = kind, .supp = items[i].supp};
        const item *rep = &items[i];
        for (; j < nitems && cmp_item_key(&items[i], &items[j]) == 0; j++) {
            l.bytes += items[j].bytes;
            l.blocks += items[j].blocks;
            l.nstacks++;
            if (items[j].bytes > rep->bytes)
                rep = &items[j];
        }
        l.frames = site_frames(sym, rep->stack, &o->ropts, &frames, &cap, &l.nframes);
        p->leaks = sa_xrealloc(p->leaks, p->nleaks + 1, sizeof *p->leaks);
        p->leaks[p->nleaks++] = l;
        sa_leak_total *t = l.supp >= 0 ? &p->suppressed[kind] : &p->total[kind];
        t->bytes += l.bytes;
        t->blocks += l.blocks;
        if (l.supp >= 0) {
            o->supp.v[l.supp].leaks++;
            o->supp.v[l.supp].bytes += l.bytes;
        }
        i = j;
    }
    free(items);
    free(frames);
    o->ropts.sym->close(sym);
}

static void check_header(const char *path, const sa_snapshot *s, uint32_t pid, uint32_t trigger,
                         uint32_t seq, int check_seq)
{
    if (s->pid != pid)
        sa_die(path, "written by pid %" PRIu32 ", not %" PRIu32, s->pid, pid);
    if (s->trigger != trigger || (check_seq && s->sequence != seq))
        sa_die(path, "not a leak check file (trigger %" PRIu32 ", sequence %" PRIu32
               "; expected trigger %" PRIu32 ", sequence %" PRIu32 ")",
               s->trigger, s->sequence, trigger, seq);
}

/* The class files of process p (the classes considered), into its leaks
 * and the totals. */
static void read_classes(const char *dir, sa_leak_proc *p, sa_check_opts *o, sa_check_result *r)
{
    static const char *const files[] = {
        [SA_LEAK_DEFINITE] = "definite.snap", [SA_LEAK_INDIRECT] = "indirect.snap",
        [SA_LEAK_POSSIBLE] = "possible.snap", [SA_LEAK_REACHABLE] = "reachable.snap",
    };
    unsigned considered = (o->show | o->fail) & SA_LEAK_CLASS_BITS;
    for (int k = SA_LEAK_FIRST; k < SA_LEAK_NCLASSES; k++) {
        if (!(considered & SA_KIND_BIT(k)))
            continue;
        char *path = set_path(dir, p->pid, files[k]);
        sa_snapshot *s = sa_load_snapshot(path);
        check_header(path, s, p->pid, SA_SNAP_TRIGGER_LEAK, (uint32_t)k, 1);
        if (!p->exe) {
            p->exe = s->exe ? sa_intern(s->exe) : NULL;
            p->cmdline = s->cmdline ? sa_intern(s->cmdline) : NULL;
        }
        add_class(p, k, s, o);
        sa_snapshot_free(s);
        free(path);
        r->total[k].bytes += p->total[k].bytes;
        r->total[k].blocks += p->total[k].blocks;
        r->suppressed.bytes += p->suppressed[k].bytes;
        r->suppressed.blocks += p->suppressed[k].blocks;
        if ((o->fail & SA_KIND_BIT(k)) && (p->total[k].bytes || p->total[k].blocks))
            r->failed |= SA_KIND_BIT(k);
    }
    if (p->nleaks > 1)
        qsort(p->leaks, p->nleaks, sizeof *p->leaks, cmp_leak);
}

/* The heuristic files of p (only those the heuristics reached exist). */
static void read_heuristics(const char *dir, sa_leak_proc *p, sa_check_result *r)
{
    for (int h = 0; h < SA_LEAK_NHEUR; h++) {
        char name[64];
        snprintf(name, sizeof name, "heuristic-%s.snap", sa_leak_heur_names[h]);
        char *path = set_path(dir, p->pid, name);
        struct stat hst;
        if (stat(path, &hst) != 0 && errno == ENOENT) {
            free(path);   /* the heuristic reached nothing */
            continue;
        }
        sa_snapshot *s = sa_load_snapshot(path);
        check_header(path, s, p->pid, SA_SNAP_TRIGGER_LEAK, SA_CHECK_HEUR_SEQ + (uint32_t)h, 1);
        p->heur[h].bytes = s->total_size;
        p->heur[h].blocks = s->total_count;
        r->heur[h].bytes += s->total_size;
        r->heur[h].blocks += s->total_count;
        sa_snapshot_free(s);
        free(path);
    }
}

/* --max-growth: p's baseline and exit snapshots, if a baseline was taken. */
static void read_growth(const char *dir, sa_leak_proc *p, const sa_check_opts *o,
                        sa_check_result *r)
{
    p->baseline_path = set_path(dir, p->pid, "baseline.snap");
    struct stat st;
    if (stat(p->baseline_path, &st) != 0 && errno == ENOENT)
        return;   /* no baseline taken */
    p->baseline = sa_load_snapshot(p->baseline_path);
    check_header(p->baseline_path, p->baseline, p->pid, SA_SNAP_TRIGGER_BASELINE, 0, 0);
    p->exit_path = set_path(dir, p->pid, "exit.snap");
    p->exit = sa_load_snapshot(p->exit_path);
    check_header(p->exit_path, p->exit, p->pid, SA_SNAP_TRIGGER_EXIT, 0, 0);
    p->growth = (int64_t)(p->exit->total_size - p->baseline->total_size);
    if (p->growth > 0 && (uint64_t)p->growth > o->max_growth) {
        p->growth_exceeded = 1;
        if (o->fail & SA_KIND_BIT(SA_LEAK_GROWTH))
            r->failed |= SA_KIND_BIT(SA_LEAK_GROWTH);
    }
    if (!p->exe) {
        p->exe = p->exit->exe ? sa_intern(p->exit->exe) : NULL;
        p->cmdline = p->exit->cmdline ? sa_intern(p->exit->cmdline) : NULL;
    }
}

void sa_leak_analyze(const char *dir, sa_check_opts *o, sa_check_result *r)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    scan_dir(dir, r);
    for (size_t i = 0; i < r->nprocs; i++) {
        sa_leak_proc *p = &r->procs[i];
        if (!p->checked)
            continue;
        r->nchecked++;
        read_classes(dir, p, o, r);
        read_heuristics(dir, p, r);
        if (o->have_max_growth)
            read_growth(dir, p, o, r);
    }
    if (r->nchecked == 0 && r->nprocs > 0)
        snprintf(r->not_checked, sizeof r->not_checked,
                 "no process in %s finished its leak check (killed by a signal, or _exit)", dir);
    else if (r->nchecked == 0)
        snprintf(r->not_checked, sizeof r->not_checked,
                 "no process wrote leak check results in %s (libsnapalloc was not loaded: a "
                 "static binary, or SNAPALLOC_LIB is not the library?)", dir);
    r->passed = r->failed == 0 && !r->not_checked[0];
}

void sa_check_result_free(sa_check_result *r)
{
    for (size_t i = 0; i < r->nprocs; i++) {
        sa_leak_proc *p = &r->procs[i];
        for (size_t j = 0; j < p->nleaks; j++)
            free(p->leaks[j].frames);
        free(p->leaks);
        free(p->baseline_path);
        free(p->exit_path);
        if (p->baseline)
            sa_snapshot_free(p->baseline);
        if (p->exit)
            sa_snapshot_free(p->exit);
    }
    free(r->procs);
    r->procs = NULL;
    r->nprocs = 0;
}
