/* out_html.c - the HTML format: one self-contained page that draws the
 * report in the browser (`show --format html`, `diff --format html`,
 * `snapalloc report`, and check's --format html through sa_html_page).
 *
 * The page is tools/html/report.html with report.css and report.js
 * inlined (compiled into the command as strings, html_assets.c, made by
 * tools/Makefile.inc) and the data embedded as JSON in a
 * <script type="application/json"> element.  The JSON holds the same
 * numbers as `show --format json`: per snapshot its header, the tables of
 * the top groups by line, function, file and module (each exactly show's
 * "stats"), the flame graph's tree of whole stacks (the model's
 * whole-stack groups, allocator frames folded), the size histogram and
 * the timeline.  Large inputs stay small: the tree keeps the max_nodes
 * heaviest frames and sums the rest of each frame's callees into one
 * "smaller frames" node (pprof's and memray's node limit).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* open_memstream */
#endif
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

#define DEFAULT_MAX_NODES 4000
#define NO_FRAME UINT32_MAX

extern const char sa_html_html[], sa_html_css[], sa_html_js[];

/* ---- The page --------------------------------------------------------- */

/* The JSON that data writes, made safe inside <script>: '<' only occurs
 * in JSON strings, where "\u003c" means the same ("</script>" and "<!--"
 * cannot end or confuse the element). */
static void put_data(FILE *out, void (*data)(FILE *, void *), void *ctx)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        sa_oom();
    data(m, ctx);
    if (fclose(m) != 0)
        sa_oom();
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '<')
            fputs("\\u003c", out);
        else
            fputc(buf[i], out);
    }
    free(buf);
}

void sa_html_page(FILE *out, const char *kind, void (*data)(FILE *, void *), void *ctx)
{
    /* The template's markers, each on a line of its own. */
    const char *t = sa_html_html;
    for (;;) {
        const char *mark = strstr(t, "@SA_");
        if (!mark) {
            fputs(t, out);
            return;
        }
        fwrite(t, 1, (size_t)(mark - t), out);
        const char *end = strchr(mark + 4, '@');
        if (!end)
            end = mark + strlen(mark) - 1;
        size_t n = (size_t)(end - mark) + 1;
        if (strncmp(mark, "@SA_CSS@", n) == 0)
            fputs(sa_html_css, out);
        else if (strncmp(mark, "@SA_JS@", n) == 0)
            fputs(sa_html_js, out);
        else if (strncmp(mark, "@SA_KIND@", n) == 0)
            fputs(kind, out);
        else if (strncmp(mark, "@SA_DATA@", n) == 0)
            put_data(out, data, ctx);
        t = mark + n;
    }
}

/* ---- The flame graph's tree ------------------------------------------ */

typedef struct fnode {
    uint32_t parent, frame;       /* frame: index into the tree's frames */
    uint32_t child, sibling;      /* first callee, next callee of parent */
    uint64_t size[2], count[2];
    int keep;
} fnode;

typedef struct ftree {
    fnode *nodes;
    size_t n, cap;
    uint32_t *slots;              /* (parent, frame) -> node + 1 */
    size_t nslots;
    const sa_key_frame **frames;  /* distinct by key (key_equal) */
    size_t nframes, fcap;
    uint32_t *fslots;             /* frame -> index + 1 */
    size_t nfslots;
} ftree;

static uint64_t hmix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Frames are equal when their key fields are (the model's own rule):
 * the same label drawn once, whatever informational field differs. */
static uint64_t frame_hash(const sa_key_frame *k)
{
    uint64_t h = hmix(hmix(hmix(0, (uintptr_t)k->function), (uintptr_t)k->file),
                      (uintptr_t)k->module);
    return hmix(hmix(hmix(h, k->line), k->offset), (uint64_t)k->unloaded);
}

static int frame_equal(const sa_key_frame *a, const sa_key_frame *b)
{
    return a == b || (a->function == b->function && a->file == b->file &&
                      a->module == b->module && a->line == b->line &&
                      a->offset == b->offset && a->unloaded == b->unloaded);
}

/* Open-addressing tables of 2^k slots, rebuilt twice as large at half full. */
static void rehash(uint32_t **slots, size_t *nslots, size_t used,
                   uint64_t (*hash)(const ftree *, uint32_t), const ftree *t)
{
    if ((used + 1) * 2 <= *nslots)
        return;
    size_t ncap = *nslots ? *nslots * 2 : 1024;
    uint32_t *ns = sa_xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < *nslots; i++) {
        uint32_t v = (*slots)[i];
        if (!v)
            continue;
        size_t j = hash(t, v - 1) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = v;
    }
    free(*slots);
    *slots = ns;
    *nslots = ncap;
}

static uint64_t frame_slot_hash(const ftree *t, uint32_t i)
{
    return frame_hash(t->frames[i]);
}

static uint64_t node_slot_hash(const ftree *t, uint32_t i)
{
    return hmix(t->nodes[i].parent, t->nodes[i].frame);
}

static uint32_t frame_index(ftree *t, const sa_key_frame *k)
{
    rehash(&t->fslots, &t->nfslots, t->nframes, frame_slot_hash, t);
    size_t mask = t->nfslots - 1, j = frame_hash(k) & mask;
    for (; t->fslots[j]; j = (j + 1) & mask)
        if (frame_equal(t->frames[t->fslots[j] - 1], k))
            return t->fslots[j] - 1;
    if (t->nframes == t->fcap) {
        t->fcap = t->fcap ? t->fcap * 2 : 256;
        t->frames = sa_xrealloc(t->frames, t->fcap, sizeof *t->frames);
    }
    t->frames[t->nframes] = k;
    t->fslots[j] = (uint32_t)++t->nframes;
    return (uint32_t)(t->nframes - 1);
}

static uint32_t node_new(ftree *t, uint32_t parent, uint32_t frame)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->nodes = sa_xrealloc(t->nodes, t->cap, sizeof *t->nodes);
    }
    uint32_t i = (uint32_t)t->n++;
    fnode *x = &t->nodes[i];
    memset(x, 0, sizeof *x);
    x->parent = parent;
    x->frame = frame;
    x->child = x->sibling = NO_FRAME;
    if (parent != NO_FRAME) {
        x->sibling = t->nodes[parent].child;
        t->nodes[parent].child = i;
    }
    return i;
}

/* The callee frame of parent, created on first use. */
static uint32_t node_get(ftree *t, uint32_t parent, uint32_t frame)
{
    rehash(&t->slots, &t->nslots, t->n, node_slot_hash, t);
    size_t mask = t->nslots - 1, j = hmix(parent, frame) & mask;
    for (; t->slots[j]; j = (j + 1) & mask) {
        const fnode *x = &t->nodes[t->slots[j] - 1];
        if (x->parent == parent && x->frame == frame)
            return t->slots[j] - 1;
    }
    uint32_t i = node_new(t, parent, frame);
    t->slots[j] = i + 1;
    return i;
}

/* The tree of m's whole-stack groups, outermost frame at the root's
 * children; node 0 is the root (all memory). */
static void tree_build(ftree *t, const sa_model *m)
{
    memset(t, 0, sizeof *t);
    node_new(t, NO_FRAME, NO_FRAME);
    for (size_t i = 0; i < m->ngroups; i++) {
        const sa_group *g = m->groups[i];
        uint32_t at = 0;
        for (int w = 0; w < 2; w++) {
            t->nodes[0].size[w] += g->size[w];
            t->nodes[0].count[w] += g->count[w];
        }
        for (uint32_t k = g->nkey; k-- > 0;) {
            at = node_get(t, at, frame_index(t, g->key[k]));
            for (int w = 0; w < 2; w++) {
                t->nodes[at].size[w] += g->size[w];
                t->nodes[at].count[w] += g->count[w];
            }
        }
    }
}

static void tree_free(ftree *t)
{
    free(t->nodes);
    free(t->slots);
    free(t->frames);
    free(t->fslots);
}

static const ftree *sort_tree;

static uint64_t weight(const fnode *x)
{
    return x->size[0] > x->size[1] ? x->size[0] : x->size[1];
}

/* Heaviest first; a callee never weighs more than its caller, and the
 * caller was made first: ties by index keep callers first. */
static int cmp_weight(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    uint64_t wa = weight(&sort_tree->nodes[a]), wb = weight(&sort_tree->nodes[b]);
    if (wa != wb)
        return wa > wb ? -1 : 1;
    return (a > b) - (a < b);
}

/* Marks the max heaviest nodes (every caller of a kept node kept). */
static void tree_select(ftree *t, size_t max)
{
    if (t->n <= max) {
        for (size_t i = 0; i < t->n; i++)
            t->nodes[i].keep = 1;
        return;
    }
    uint32_t *order = sa_xcalloc(t->n, sizeof *order);
    for (size_t i = 0; i < t->n; i++)
        order[i] = (uint32_t)i;
    sort_tree = t;
    qsort(order, t->n, sizeof *order, cmp_weight);
    size_t kept = 0;
    for (size_t i = 0; i < t->n && kept < max; i++) {
        fnode *x = &t->nodes[order[i]];
        if (x->parent == NO_FRAME || t->nodes[x->parent].keep) {
            x->keep = 1;
            kept++;
        }
    }
    free(order);
}

/* ---- The data ---------------------------------------------------------- */

static void json_frame_row(FILE *out, const sa_key_frame *k)
{
    fputc('[', out);
    sa_json_str(out, k->function);
    fputc(',', out);
    sa_json_str(out, k->file);
    if (k->line)
        fprintf(out, ",%" PRIu32 ",", k->line);
    else
        fputs(",null,", out);
    sa_json_str(out, k->module);
    fputc(']', out);
}

static void json_node(FILE *out, int *first, size_t parent, uint32_t frame, const uint64_t *size,
                      const uint64_t *count, int diff)
{
    fprintf(out, "%s[%zd,%" PRId64 ",%" PRIu64 ",%" PRIu64, *first ? "" : ",\n",
            parent == (size_t)-1 ? (ssize_t)-1 : (ssize_t)parent,
            frame == NO_FRAME ? (int64_t)-1 : (int64_t)frame, size[0], count[0]);
    if (diff)
        fprintf(out, ",%" PRIu64 ",%" PRIu64, size[1], count[1]);
    fputc(']', out);
    *first = 0;
}

/* The kept nodes in preorder (a caller before its callees), each as
 * [parent's row, frame, size, count(, new size, new count)]; after a
 * node's kept callees, one row of frame -1 sums those left out. */
static void json_nodes(FILE *out, const ftree *t, const uint32_t *frame_row, int diff)
{
    size_t *row = sa_xcalloc(t->n, sizeof *row), nrow = 0;
    uint32_t *stack = sa_xcalloc(t->n + 1, sizeof *stack);
    size_t sp = 0;
    int first = 1;
    stack[sp++] = 0;
    while (sp) {
        uint32_t i = stack[--sp];
        const fnode *x = &t->nodes[i];
        row[i] = nrow++;
        json_node(out, &first, x->parent == NO_FRAME ? (size_t)-1 : row[x->parent],
                  x->frame == NO_FRAME ? NO_FRAME : frame_row[x->frame], x->size, x->count, diff);
        uint64_t rest_size[2] = {0, 0}, rest_count[2] = {0, 0};
        for (uint32_t c = x->child; c != NO_FRAME; c = t->nodes[c].sibling) {
            if (t->nodes[c].keep) {
                stack[sp++] = c;
                continue;
            }
            for (int w = 0; w < 2; w++) {
                rest_size[w] += t->nodes[c].size[w];
                rest_count[w] += t->nodes[c].count[w];
            }
        }
        if (rest_size[0] || rest_size[1] || rest_count[0] || rest_count[1]) {
            json_node(out, &first, row[i], NO_FRAME, rest_size, rest_count, diff);
            nrow++;
        }
    }
    free(stack);
    free(row);
}

/* "flame": the frames ([function, file, line, module]) and the nodes. */
static void json_flame(FILE *out, const sa_model *m, const sa_model_opts *o)
{
    ftree t;
    tree_build(&t, m);
    tree_select(&t, o->max_nodes ? o->max_nodes : DEFAULT_MAX_NODES);
    fprintf(out, "\"flame\": {\"by\": \"%s\", \"stacks\": %zu, \"nodes_total\": %zu, \"frames\": [",
            sa_group_by_name(m->by), m->ngroups, t.n);
    /* Only the frames of kept nodes, numbered as written. */
    uint32_t *frame_row = sa_xcalloc(t.nframes, sizeof *frame_row), nrows = 0;
    for (size_t i = 0; i < t.nframes; i++)
        frame_row[i] = NO_FRAME;
    for (size_t i = 1; i < t.n; i++) {
        uint32_t f = t.nodes[i].frame;
        if (!t.nodes[i].keep || frame_row[f] != NO_FRAME)
            continue;
        fputs(nrows ? ",\n" : "\n", out);
        json_frame_row(out, t.frames[f]);
        frame_row[f] = nrows++;
    }
    fputs("],\n\"nodes\": [", out);
    json_nodes(out, &t, frame_row, m->diff);
    free(frame_row);
    fputs("]}", out);
    tree_free(&t);
}

/* "tables": show's groups by line, function, file and module (their
 * JSON "stats", --top rows each) of old (-> new). */
static void json_tables(FILE *out, const sa_snapshot *old_snap, const sa_snapshot *new_snap,
                        const sa_model_opts *o)
{
    static const sa_group_by bys[] = {SA_BY_LINE, SA_BY_FUNCTION, SA_BY_FILE, SA_BY_MODULE};
    fputs("\"tables\": {", out);
    for (size_t i = 0; i < sizeof bys / sizeof *bys; i++) {
        sa_model_opts to = *o;
        to.by = bys[i];
        to.whole_stacks = 0;
        to.cumulative = 0;
        sa_model m;
        sa_model_build(&m, old_snap, new_snap, &to);
        fprintf(out, "%s\"%s\": ", i ? ",\n" : "\n", sa_group_by_name(bys[i]));
        uint64_t rs[2], rc[2];
        sa_model_rest(&m, rs, rc);
        fprintf(out, "{\"total_size\": %" PRIu64 ", \"total_count\": %" PRIu64
                ", \"rest_size\": %" PRIu64 ", \"rest_count\": %" PRIu64,
                m.size[m.diff], m.count[m.diff], rs[m.diff], rc[m.diff]);
        sa_json_groups(out, &m, ", ");
        sa_model_free(&m);
    }
    fputc('}', out);
}

static void json_histogram(FILE *out, const sa_snapshot *s)
{
    fputs("\"histogram\": ", out);
    if (!s->has_histogram) {
        fputs("null", out);
        return;
    }
    fputc('[', out);
    const char *sep = "";
    for (int i = 0; i < 65; i++)
        if (s->hist_count[i] || s->hist_size[i]) {
            fprintf(out, "%s[%d,%" PRIu64 ",%" PRIu64 "]", sep, i, s->hist_count[i],
                    s->hist_size[i]);
            sep = ",";
        }
    fputc(']', out);
}

/* ns since the epoch as ms with a fraction (a JSON number a browser
 * reads without losing the milliseconds). */
static void json_ms(FILE *out, int64_t ns)
{
    int64_t ms = ns / 1000000, frac = ns % 1000000;
    if (frac < 0) {
        ms--;
        frac += 1000000;
    }
    fprintf(out, "%" PRId64 ".%06" PRId64, ms, frac);
}

static void json_timeline(FILE *out, const sa_snapshot *s)
{
    fputs("\"timeline\": [", out);
    for (uint32_t i = 0; i < s->ntimeline; i++) {
        fputs(i ? ",[" : "[", out);
        json_ms(out, s->timeline[i].time_ns);
        fprintf(out, ",%" PRIu64 ",%" PRIu64 "]", s->timeline[i].traced, s->timeline[i].rss);
    }
    fputc(']', out);
}

/* One snapshot: header, time, sampling, flame graph, tables, histogram,
 * timeline.  flame: m's whole-stack model if the caller has it, else NULL. */
static void json_snapshot(FILE *out, const sa_report_src *src, const sa_model *flame)
{
    const sa_model_opts *o = src->opts;
    fputs("{\"snapshot\": ", out);
    sa_json_header(out, src);
    fputs(",\n\"time_ms\": ", out);
    json_ms(out, src->snap->time_ns);
    fprintf(out, ", \"sample_interval\": %" PRIu64 ",\n", src->snap->sample_interval);
    sa_model own;
    if (!flame) {
        sa_model_opts fo = *o;
        fo.whole_stacks = 1;
        fo.cumulative = 0;
        sa_model_build(&own, src->snap, NULL, &fo);
        flame = &own;
    }
    json_flame(out, flame, o);
    if (flame == &own)
        sa_model_free(&own);
    fputs(",\n", out);
    json_tables(out, src->snap, NULL, o);
    fputs(",\n", out);
    json_histogram(out, src->snap);
    fputs(",\n", out);
    json_timeline(out, src->snap);
    fputc('}', out);
}

/* ---- Pages ------------------------------------------------------------- */

typedef struct snapshots_page {
    const sa_report_src *snaps;
    size_t n, initial;
    const sa_model *flame;        /* snaps[0]'s, from show */
} snapshots_page;

static void snapshots_data(FILE *out, void *ctx)
{
    const snapshots_page *p = ctx;
    fprintf(out, "{\"kind\": \"snapshots\", \"initial\": %zu, \"snapshots\": [", p->initial);
    for (size_t i = 0; i < p->n; i++) {
        fputs(i ? ",\n" : "\n", out);
        json_snapshot(out, &p->snaps[i], i == 0 ? p->flame : NULL);
    }
    fputs("]}", out);
}

size_t sa_html_initial(const sa_report_src *snaps, size_t n)
{
    size_t best = n ? n - 1 : 0;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const sa_snapshot *s = snaps[i].snap;
        if (s->trigger == SA_SNAP_TRIGGER_PEAK &&
            (!found || s->traced_current > snaps[best].snap->traced_current)) {
            best = i;
            found = 1;
        }
    }
    return best;
}

int sa_html_snapshots(FILE *out, const sa_report_src *snaps, size_t n, size_t initial)
{
    snapshots_page p = {snaps, n, initial, NULL};
    sa_html_page(out, "snapshots", snapshots_data, &p);
    return 0;
}

static void html_show(FILE *out, const sa_model *m, const sa_report_src *snap)
{
    snapshots_page p = {snap, 1, 0, m};
    sa_html_page(out, "snapshots", snapshots_data, &p);
}

typedef struct diff_page {
    const sa_model *m;
    const sa_report_src *old_snap, *new_snap;
} diff_page;

static void diff_data(FILE *out, void *ctx)
{
    const diff_page *p = ctx;
    fputs("{\"kind\": \"diff\", \"old\": ", out);
    sa_json_header(out, p->old_snap);
    fputs(",\n\"new\": ", out);
    sa_json_header(out, p->new_snap);
    fputs(",\n", out);
    json_flame(out, p->m, p->new_snap->opts);
    fputs(",\n", out);
    json_tables(out, p->old_snap->snap, p->new_snap->snap, p->new_snap->opts);
    fputs(",\n", out);
    json_histogram(out, p->new_snap->snap);
    fputs("}", out);
}

static void html_diff(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                      const sa_report_src *new_snap)
{
    diff_page p = {m, old_snap, new_snap};
    sa_html_page(out, "diff", diff_data, &p);
}

const sa_output_format sa_out_html = {
    .name = "html",
    .whole_stacks = 1,
    .top_default = 100,
    .show = html_show,
    .diff = html_diff,
};
