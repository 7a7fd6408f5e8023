/* test_html.c - the HTML format's data (tools/out_html.c) from snapshots
 * built in memory (symbolized by a stub): the sections today's tracer may
 * not write yet (the timeline, the size histogram) embedded exactly when
 * present and as empty/null when absent, the peak snapshot opened first,
 * the flame graph's node cap and its summed rest, and '<' never raw inside
 * the data's <script> element.  The page's drawing is cli_html.sh's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* open_memstream */
#endif
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "symbolize.h"

/* out_json.c's header needs these two (report.c links every format). */
const char *sa_report_trigger_name(uint32_t t)
{
    return t == SA_SNAP_TRIGGER_PEAK ? "peak" : t == SA_SNAP_TRIGGER_EXIT ? "exit" : "api";
}

void sa_report_time(char *buf, size_t len, int64_t ns, int iso)
{
    (void)ns;
    (void)iso;
    snprintf(buf, len, "T");
}

/* ---- A stub symbolizer: offset k is function fK in module m(K%2) ---- */

static sa_sym_frame frames_of[64];

static void *stub_open(const sa_snapshot *snap)
{
    return (void *)snap;
}

static uint32_t stub_lookup(void *s, const sa_snap_frame *frame, const sa_sym_frame **out)
{
    (void)s;
    uint64_t k = frame->offset;
    cr_assert(k < 64);
    sa_sym_frame *f = &frames_of[k];
    if (!f->function) {
        char name[32];
        snprintf(name, sizeof name, k == 63 ? "operator<" : "f%d", (int)k);
        f->function = sa_intern(name);
        f->file = sa_intern("x.c");
        f->line = (uint32_t)k;
        f->module = f->module_path = sa_intern(k % 2 ? "m1" : "m0");
        f->offset = k;
    }
    *out = f;
    return 1;
}

static void stub_close(void *s)
{
    (void)s;
}

static const sa_sym_ops stub_ops = {stub_open, stub_lookup, stub_close};

/* ---- Snapshots ------------------------------------------------------- */

typedef struct tsnap {
    sa_snapshot s;
    sa_snap_stack stacks[64];
    sa_snap_frame frames[64][4];
    sa_snap_point points[3];
} tsnap;

/* Stack i: frames (outermost last) 1 -> 2+i%30 -> leaf 32+i%31, size
 * (i+1)*10, i+1 blocks. */
static void make(tsnap *t, uint32_t nstacks, uint32_t trigger, uint64_t current)
{
    memset(t, 0, sizeof *t);
    t->s.version = 2;
    t->s.exe = "/bin/prog";
    t->s.cmdline = "prog";
    t->s.trigger = trigger;
    t->s.traced_current = current;
    t->s.time_ns = 1700000000123456789LL;
    for (uint32_t i = 0; i < nstacks; i++) {
        t->frames[i][0] = (sa_snap_frame){0, 32 + i % 31};
        t->frames[i][1] = (sa_snap_frame){0, 2 + i % 30};
        t->frames[i][2] = (sa_snap_frame){0, 1};
        t->stacks[i] = (sa_snap_stack){3, t->frames[i], (i + 1) * 10, i + 1};
        t->s.total_size += (i + 1) * 10;
        t->s.total_count += i + 1;
    }
    t->s.nstacks = nstacks;
    t->s.stacks = t->stacks;
}

static sa_model_opts opts;

static char *page(const sa_report_src *src, size_t n, size_t initial)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(sa_html_snapshots(f, src, n, initial), 0);
    fclose(f);
    return buf;
}

/* The data element's text. */
static char *data_of(char *html)
{
    char *start = strstr(html, "<script type=\"application/json\" id=\"sa-data\">\n");
    cr_assert(start);
    start = strchr(start, '\n') + 1;
    char *end = strstr(start, "\n</script>");
    cr_assert(end);
    *end = '\0';
    return start;
}

static void init(void)
{
    memset(&opts, 0, sizeof opts);
    opts.by = SA_BY_FUNCTION;
    opts.top = 100;
    opts.sym = &stub_ops;
}

TestSuite(html, .init = init);

Test(html, sections_absent)
{
    tsnap t;
    make(&t, 3, SA_SNAP_TRIGGER_EXIT, 0);
    sa_report_src src = {"a.snap", &t.s, &opts};
    char *html = page(&src, 1, 0);
    cr_expect(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
    cr_expect(strstr(html, "<body data-kind=\"snapshots\">"));
    const char *d = data_of(html);
    cr_expect(strstr(d, "\"histogram\": null"), "%s", d);
    cr_expect(strstr(d, "\"timeline\": []"));
    cr_expect(strstr(d, "\"sample_interval\": 0"));
    cr_expect(strstr(d, "\"time_ms\": 1700000000123.456789"));
    free(html);
}

Test(html, sections_present)
{
    tsnap t;
    make(&t, 3, SA_SNAP_TRIGGER_EXIT, 0);
    t.s.has_histogram = 1;
    t.s.hist_count[0] = 2;             /* two blocks of 0 bytes */
    t.s.hist_count[7] = 3;
    t.s.hist_size[7] = 300;
    t.s.hist_count[64] = 1;
    t.s.hist_size[64] = UINT64_C(1) << 63;
    t.points[0] = (sa_snap_point){1000000, 10, 4096};
    t.points[1] = (sa_snap_point){2500000, 600, 8192};
    t.points[2] = (sa_snap_point){-1, 0, 0};   /* before the epoch: still a number */
    t.s.ntimeline = 3;
    t.s.timeline = t.points;
    t.s.sample_interval = 4096;
    sa_report_src src = {"a.snap", &t.s, &opts};
    char *html = page(&src, 1, 0);
    const char *d = data_of(html);
    cr_expect(strstr(d, "\"histogram\": [[0,2,0],[7,3,300],[64,1,9223372036854775808]]"), "%s", d);
    cr_expect(strstr(d, "\"timeline\": [[1.000000,10,4096],[2.500000,600,8192],[-1.999999,0,0]]"),
              "%s", d);
    cr_expect(strstr(d, "\"sample_interval\": 4096"));
    free(html);
}

Test(html, opens_on_the_peak)
{
    tsnap a, b, c, e;
    make(&a, 1, SA_SNAP_TRIGGER_PEAK, 500);
    make(&b, 1, SA_SNAP_TRIGGER_PEAK, 900);
    make(&c, 1, SA_SNAP_TRIGGER_PEAK, 700);
    make(&e, 1, SA_SNAP_TRIGGER_EXIT, 100);
    sa_report_src src[] = {{"a", &a.s, &opts}, {"b", &b.s, &opts}, {"c", &c.s, &opts},
                           {"e", &e.s, &opts}};
    cr_expect_eq(sa_html_initial(src, 4), 1);
    /* No peak snapshot: the last. */
    a.s.trigger = b.s.trigger = c.s.trigger = SA_SNAP_TRIGGER_API;
    cr_expect_eq(sa_html_initial(src, 4), 3);
    char *html = page(src, 4, 3);
    cr_expect(strstr(data_of(html), "{\"kind\": \"snapshots\", \"initial\": 3,"));
    free(html);
}

/* Node rows: [parent, frame, size, count]; the root's size is the total. */
static void parse_nodes(const char *d, long rows[][4], size_t *n)
{
    const char *p = strstr(d, "\"nodes\": [");
    cr_assert(p);
    p += strlen("\"nodes\": [");
    *n = 0;
    while ((p = strchr(p, '[')) && *n < 4096) {
        long *r = rows[(*n)++];
        cr_assert_eq(sscanf(p, "[%ld,%ld,%ld,%ld]", &r[0], &r[1], &r[2], &r[3]), 4);
        p = strchr(p, ']');
        if (p[1] == ']')
            break;
    }
}

Test(html, node_cap_sums_the_rest)
{
    tsnap t;
    make(&t, 64, SA_SNAP_TRIGGER_EXIT, 0);
    t.frames[63][0].offset = 63;       /* "operator<": '<' escaped */
    opts.max_nodes = 10;
    sa_report_src src = {"a.snap", &t.s, &opts};
    char *html = page(&src, 1, 0);
    const char *d = data_of(html);
    cr_expect_null(strchr(d, '<'), "a raw '<' in the data");
    static long rows[4096][4];
    size_t n;
    parse_nodes(d, rows, &n);
    /* 64 stacks: root, f1, 30 middles, 31 + leaves: capped to 10 kept
     * frames plus rest rows; every row's callees sum to it. */
    size_t kept = 0, rest = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i][1] >= 0 || i == 0)
            kept++;
        else
            rest++;
        cr_expect(rows[i][0] < (long)i, "row %zu before its caller", i);
    }
    cr_expect_eq(kept, 10);
    cr_expect_gt(rest, 0);
    cr_expect_eq(rows[0][2], (long)t.s.total_size);
    cr_expect_eq(rows[0][3], (long)t.s.total_count);
    for (size_t i = 0; i < n; i++) {
        long size = 0, count = 0;
        int callees = 0;
        for (size_t j = i + 1; j < n; j++)
            if (rows[j][0] == (long)i) {
                size += rows[j][2];
                count += rows[j][3];
                callees = 1;
            }
        if (callees) {
            cr_expect_eq(size, rows[i][2], "row %zu: callees' bytes", i);
            cr_expect_eq(count, rows[i][3], "row %zu: callees' blocks", i);
        }
    }
    cr_expect(strstr(d, "\"nodes_total\": 96"), "%.200s", strstr(d, "\"flame\""));
    free(html);
}
