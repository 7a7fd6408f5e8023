/* show.c - `snapalloc show SNAPSHOT`, `snapalloc diff OLD NEW` and
 * `snapalloc report SNAPSHOT|DIR`: their options, then the report
 * (report.h): the grouping model printed in the format --format names
 * (text, json, collapsed, pprof, html; --json is json), on stdout or, with
 * -o FILE, into FILE atomically.  report is the HTML page of one snapshot
 * or of every snapshot of one process in a directory (what `run` wrote).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* strverscmp */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "report.h"
#include "util.h"
#include "format/snapshot.h"

#define REPORT_OPTIONS_HELP \
    "  --by KEY           group by line (default: call site file:line and function),\n" \
    "                     function, file, module, or traceback (whole stack)\n" \
    "  --cumulative       charge every frame of a stack, not only the call site\n" \
    "                     (not with --by traceback)\n" \
    "  --top N            print the N largest groups (default 10; 0: all)\n" \
    "  --include PATTERN  keep traces whose call site matches PATTERN (fnmatch on\n" \
    "                     the file, function or module name); repeatable\n" \
    "  --exclude PATTERN  drop traces whose call site matches PATTERN; repeatable\n" \
    "  --all-frames       --include/--exclude test every frame of the stack\n" \
    "  --wrapper PATTERN  fold functions matching PATTERN into the allocation,\n" \
    "                     like malloc (e.g. xmalloc, g_malloc); repeatable\n" \
    "  --format FORMAT    text (default), json, collapsed, pprof or html; collapsed:\n" \
    "                     one line per stack, frames outermost first joined by\n" \
    "                     ';', then its bytes (show) or old and new bytes\n" \
    "                     (diff), for flame-graph tools; frames are named by\n" \
    "                     --by (default function), every group is printed\n" \
    "                     unless --top is given;\n" \
    "                     pprof (show only): a gzipped profile.proto for\n" \
    "                     go tool pprof, one sample per stack (inuse_space,\n" \
    "                     inuse_objects), to -o FILE or a non-terminal stdout\n" \
    "  --json             same as --format json\n" \
    "  -o FILE            write the report to FILE (a temporary file renamed\n" \
    "                     onto FILE once whole), not to stdout\n" \
    "  -h, --help         print this help\n"

static const char usage_show[] =
    "Usage: snapalloc show SNAPSHOT [OPTIONS]\n"
    "Print the live memory of SNAPSHOT grouped by call site, largest first\n"
    "(as Python's tracemalloc Snapshot.statistics()).\n"
    "\n"
    "Options:\n" REPORT_OPTIONS_HELP;

static const char usage_diff[] =
    "Usage: snapalloc diff OLD NEW [OPTIONS]\n"
    "Print how live memory changed from snapshot OLD to snapshot NEW, per group,\n"
    "largest change first (as Python's tracemalloc Snapshot.compare_to()).\n"
    "Groups are matched by symbol, so snapshots of two runs compare correctly.\n"
    "\n"
    "Options:\n" REPORT_OPTIONS_HELP
    "  --min-diff BYTES   omit groups whose size changed by less than BYTES\n"
    "                     (K, M, G suffixes allowed)\n";

static const char usage_report[] =
    "Usage: snapalloc report [OPTIONS] SNAPSHOT|DIR [-o FILE]\n"
    "Write one self-contained HTML page (no network access; open it in any\n"
    "browser, from a file) of SNAPSHOT, or of every snapshot of one process in\n"
    "DIR (what 'snapalloc run -o DIR' wrote): a flame graph of live memory by\n"
    "stack (zoom, search), the top groups by line, function, file and module\n"
    "(the numbers of 'show --format json'), memory over time with a marker per\n"
    "snapshot, and the size histogram.  The page opens on the peak snapshot\n"
    "(the largest of trigger peak), else the last one.\n"
    "\n"
    "Options:\n"
    "  -o FILE            the page (default: report.html in the current\n"
    "                     directory; '-': stdout)\n"
    "  --pid PID          DIR: the process whose snapshots are shown (default:\n"
    "                     the one that wrote the newest snapshot)\n"
    "  --by KEY           name the flame graph's frames by function (default),\n"
    "                     line, file or module\n"
    "  --top N            rows of each table (default 100; 0: all)\n"
    "  --max-nodes N      frames the flame graph keeps per snapshot (default\n"
    "                     4000; the rest of each frame's callees drawn as one)\n"
    "  --include PATTERN, --exclude PATTERN, --all-frames, --wrapper PATTERN\n"
    "                     as in 'snapalloc show'\n"
    "  -h, --help         print this help\n";

/* ---- Options --------------------------------------------------------- */

enum {
    OPT_BY = 256, OPT_CUMULATIVE, OPT_TOP, OPT_INCLUDE, OPT_EXCLUDE, OPT_ALL_FRAMES,
    OPT_WRAPPER, OPT_FORMAT, OPT_JSON, OPT_MIN_DIFF, OPT_MAX_NODES, OPT_PID,
};

static const struct option report_longopts[] = {
    {"by", required_argument, NULL, OPT_BY},
    {"cumulative", no_argument, NULL, OPT_CUMULATIVE},
    {"top", required_argument, NULL, OPT_TOP},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"all-frames", no_argument, NULL, OPT_ALL_FRAMES},
    {"wrapper", required_argument, NULL, OPT_WRAPPER},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"json", no_argument, NULL, OPT_JSON},
    {"min-diff", required_argument, NULL, OPT_MIN_DIFF},
    {"max-nodes", required_argument, NULL, OPT_MAX_NODES},
    {"pid", required_argument, NULL, OPT_PID},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct report_args {
    sa_model_opts o;
    const sa_output_format *format;
    const char *output;        /* -o FILE, or NULL for stdout */
    int by_given, top_given;
    int page;                  /* the report command */
    int have_pid;
    uint32_t pid;              /* report --pid */
} report_args;

/* The options of the report command alone (--format is html's). */
static int page_option(int c, report_args *a)
{
    uint64_t v;
    switch (c) {
    case OPT_PID:
        if (!a->page)
            sa_die("--pid", "only 'snapalloc report' takes it");
        if (sa_parse_u64(optarg, 1, UINT32_MAX, &v) != 0)
            sa_die("--pid", "'%s' is not a process id", optarg);
        a->pid = (uint32_t)v;
        a->have_pid = 1;
        return 1;
    case OPT_FORMAT:
    case OPT_JSON:
        if (a->page && (c == OPT_JSON || strcmp(optarg, "html") != 0))
            sa_die(c == OPT_JSON ? "--json" : "--format",
                   "report writes html only (other formats: 'snapalloc show --format')");
        return 0;
    case OPT_CUMULATIVE:
    case OPT_MIN_DIFF:
        if (a->page)
            sa_die(c == OPT_CUMULATIVE ? "--cumulative" : "--min-diff",
                   "cannot be used with 'snapalloc report'");
        return 0;
    }
    return 0;
}

/* One option of show (nfiles 1), diff (nfiles 2) or report. */
static void report_option(const char *cmd, int c, int nfiles, char **argv, report_args *a)
{
    if (page_option(c, a))
        return;
    sa_model_opts *o = &a->o;
    uint64_t v;
    switch (c) {
    case OPT_BY:
        if (sa_group_by_parse(optarg, &o->by) != 0)
            sa_die("--by", "'%s' is not one of line, function, file, module, traceback", optarg);
        a->by_given = 1;
        break;
    case OPT_CUMULATIVE: o->cumulative = 1; break;
    case OPT_TOP:
        if (sa_parse_u64(optarg, 0, SIZE_MAX, &v) != 0)
            sa_die("--top", "'%s' is not a number (0 for all)", optarg);
        o->top = (size_t)v;
        a->top_given = 1;
        break;
    case OPT_INCLUDE: sa_push_arg(&o->include, &o->ninclude, optarg); break;
    case OPT_EXCLUDE: sa_push_arg(&o->exclude, &o->nexclude, optarg); break;
    case OPT_ALL_FRAMES: o->all_frames = 1; break;
    case OPT_WRAPPER: sa_push_arg(&o->wrappers, &o->nwrappers, optarg); break;
    case OPT_FORMAT:
        a->format = sa_output_format_find(optarg);
        if (!a->format)
            sa_die("--format", "'%s' is not one of %s", optarg, sa_output_format_names());
        break;
    case OPT_JSON: a->format = &sa_out_json; break;
    case 'o':
        if (!*optarg)
            sa_die("-o", "empty file name");
        a->output = optarg;
        break;
    case OPT_MAX_NODES:
        if (sa_parse_u64(optarg, 1, UINT32_MAX, &v) != 0)
            sa_die("--max-nodes", "'%s' is not a number of frames (1 or more)", optarg);
        o->max_nodes = (size_t)v;
        break;
    case OPT_MIN_DIFF:
        if (nfiles != 2)
            sa_bad_option(cmd, '?', 0, argv[optind - 1]);
        if (sa_parse_bytes(optarg, &o->min_diff) != 0)
            sa_die("--min-diff", "'%s' is not a size in bytes (K, M, G suffixes allowed)", optarg);
        break;
    case 'h':
        fputs(a->page ? usage_report : nfiles == 1 ? usage_show : usage_diff, stdout);
        exit(0);
    default:
        sa_bad_option(cmd, c, optopt, argv[optind - 1]);
    }
}

/* Parses the options of show (nfiles 1) or diff (nfiles 2); files are the
 * positional arguments, wherever they appear. */
static void parse_report_args(const char *cmd, int argc, char **argv, int nfiles,
                              const char **files, report_args *a)
{
    memset(a, 0, sizeof *a);
    sa_model_opts_init(&a->o);
    a->page = strcmp(cmd, "report") == 0;
    a->format = a->page ? &sa_out_html : &sa_out_text;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", report_longopts, NULL)) != -1)
        report_option(cmd, c, nfiles, argv, a);
    sa_model_opts *o = &a->o;
    if (o->cumulative && o->by == SA_BY_TRACEBACK)
        sa_die("--cumulative", "cannot be used with --by traceback");
    if (nfiles == 2 && !a->format->diff)
        sa_die("diff", "--format %s is not supported (go tool pprof -diff_base OLD NEW "
               "compares two profiles written by show)", a->format->name);
    if (a->format->line_frames) {
        if (a->by_given)
            sa_die("--by", "cannot be used with --format %s (its frames are lines)",
                   a->format->name);
        o->by = SA_BY_TRACEBACK;
        a->by_given = 1;
    }
    if (a->format->whole_stacks) {
        /* A flame graph wants every stack, its frames named by function
         * unless --by says otherwise. */
        if (o->cumulative)
            sa_die("--cumulative", "cannot be used with --format %s (stacks are whole)",
                   a->format->name);
        o->whole_stacks = 1;
        if (!a->by_given)
            o->by = SA_BY_FUNCTION;
        if (!a->top_given)
            o->top = a->format->top_default;
    }
    if (o->max_nodes && a->format != &sa_out_html)
        sa_die("--max-nodes", "needs --format html");
    int npos = argc - optind;
    if (npos != nfiles)
        sa_die(cmd, "%s (see 'snapalloc %s --help')",
               npos < nfiles ? (nfiles == 1 ? (a->page ? "missing SNAPSHOT or DIR" : "missing SNAPSHOT")
                                            : "needs two snapshots, OLD and NEW")
                             : "too many arguments", cmd);
    for (int i = 0; i < nfiles; i++)
        files[i] = argv[optind + i];
}

static void free_report_args(report_args *a)
{
    free(a->o.include);
    free(a->o.exclude);
    free(a->o.wrappers);
}

/* ---- The output ----------------------------------------------------- */

/* Where the report goes: a new temporary file beside -o FILE (renamed
 * onto it by output_commit), else stdout; a binary format gets fd 1 raw
 * (stdout escapes control bytes) and never a terminal. */
static FILE *output_open(const report_args *a, const char *cmd)
{
    if (!a->output) {
        if (!a->format->binary)
            return stdout;
        if (isatty(STDOUT_FILENO))
            sa_die(cmd, "--format %s is binary: give -o FILE or redirect stdout",
                   a->format->name);
        FILE *raw = fdopen(dup(STDOUT_FILENO), "w");
        if (!raw)
            sa_die(cmd, "stdout: %s", strerror(errno));
        return raw;
    }
    return sa_atomic_open(a->output);
}

/* Closes out (rc: the report's status) and, with -o, renames the
 * temporary file onto FILE if the report is whole.  Returns 0 or -1. */
static int output_commit(FILE *out, const report_args *a, int rc)
{
    if (out == stdout)
        return rc;
    if (a->output) {
        int committed = sa_atomic_commit(out, a->output, rc == 0);
        return rc != 0 ? rc : committed;
    }
    if (fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "snapalloc: stdout: write error\n");
        rc = -1;
    }
    return rc;
}

/* ---- The commands ---------------------------------------------------- */

int sa_cmd_show(int argc, char **argv)
{
    const char *files[1];
    report_args a;
    parse_report_args("show", argc, argv, 1, files, &a);
    sa_snapshot *s = sa_load_snapshot(files[0]);
    FILE *out = output_open(&a, "show");
    int rc = sa_report_show(out, a.format, files[0], s, &a.o);
    rc = output_commit(out, &a, rc);
    sa_snapshot_free(s);
    free_report_args(&a);
    return rc == 0 ? 0 : SA_EXIT_USAGE;
}

int sa_cmd_diff(int argc, char **argv)
{
    const char *files[2];
    report_args a;
    parse_report_args("diff", argc, argv, 2, files, &a);
    sa_snapshot *old_snap = sa_load_snapshot(files[0]);
    sa_snapshot *new_snap = sa_load_snapshot(files[1]);
    FILE *out = output_open(&a, "diff");
    int rc = sa_report_diff(out, a.format, files[0], old_snap, files[1], new_snap, &a.o);
    rc = output_commit(out, &a, rc);
    sa_snapshot_free(old_snap);
    sa_snapshot_free(new_snap);
    free_report_args(&a);
    return rc == 0 ? 0 : SA_EXIT_USAGE;
}

/* ---- report ----------------------------------------------------------- */

typedef struct page_snaps {
    sa_report_src *v;
    char **paths;              /* every file read, kept or not */
    size_t n, npaths;
} page_snaps;

static int cmp_snap_time(const void *pa, const void *pb)
{
    const sa_report_src *a = pa, *b = pb;
    if (a->snap->time_ns != b->snap->time_ns)
        return a->snap->time_ns < b->snap->time_ns ? -1 : 1;
    if (a->snap->sequence != b->snap->sequence)
        return a->snap->sequence < b->snap->sequence ? -1 : 1;
    return strverscmp(a->path, b->path);
}

/* Every *.snap of dir, read (a corrupt one exits 2 naming it). */
static void read_dir(const char *dir, page_snaps *all)
{
    DIR *d = opendir(dir);
    if (!d)
        sa_die(dir, "%s", strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".snap") != 0)
            continue;
        char *path = sa_xcalloc(strlen(dir) + len + 2, 1);
        sprintf(path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        all->v = sa_xrealloc(all->v, all->n + 1, sizeof *all->v);
        all->paths = sa_xrealloc(all->paths, all->n + 1, sizeof *all->paths);
        all->paths[all->npaths++] = path;
        all->v[all->n++] = (sa_report_src){path, sa_load_snapshot(path), NULL};
    }
    closedir(d);
    if (all->n == 0)
        sa_die(dir, "no snapshot (*.snap) in this directory");
}

/* Keeps the snapshots of one process (--pid, else the newest's), oldest
 * first. */
static void pick_process(page_snaps *all, const report_args *a, const char *dir)
{
    uint32_t pid = a->pid;
    if (!a->have_pid) {
        const sa_report_src *newest = &all->v[0];
        for (size_t i = 1; i < all->n; i++)
            if (cmp_snap_time(&all->v[i], newest) > 0)
                newest = &all->v[i];
        pid = newest->snap->pid;
    }
    size_t kept = 0;
    for (size_t i = 0; i < all->n; i++) {
        if (all->v[i].snap->pid == pid)
            all->v[kept++] = all->v[i];
        else
            sa_snapshot_free((sa_snapshot *)all->v[i].snap);
    }
    if (kept == 0)
        sa_die("--pid", "no snapshot of process %" PRIu32 " in %s", pid, dir);
    all->n = kept;
    qsort(all->v, all->n, sizeof *all->v, cmp_snap_time);
}

int sa_cmd_report(int argc, char **argv)
{
    const char *files[1];
    report_args a;
    parse_report_args("report", argc, argv, 1, files, &a);
    if (!a.output)
        a.output = "report.html";
    else if (strcmp(a.output, "-") == 0)
        a.output = NULL;
    page_snaps all = {0};
    struct stat st;
    if (stat(files[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        read_dir(files[0], &all);
        pick_process(&all, &a, files[0]);
    } else {
        if (a.have_pid)
            sa_die("--pid", "needs a directory of snapshots, not a file");
        all.v = sa_xcalloc(1, sizeof *all.v);
        all.v[0] = (sa_report_src){files[0], sa_load_snapshot(files[0]), NULL};
        all.n = 1;
    }
    for (size_t i = 0; i < all.n; i++)
        all.v[i].opts = &a.o;
    FILE *out = output_open(&a, "report");
    int rc = sa_html_snapshots(out, all.v, all.n, sa_html_initial(all.v, all.n));
    rc = output_commit(out, &a, rc);
    if (rc == 0 && a.output)
        fprintf(stderr, "snapalloc: report of %zu snapshot%s written to %s (open it in a "
                "browser)\n", all.n, all.n == 1 ? "" : "s", a.output);
    for (size_t i = 0; i < all.n; i++)
        sa_snapshot_free((sa_snapshot *)all.v[i].snap);
    for (size_t i = 0; i < all.npaths; i++)
        free(all.paths[i]);
    free(all.v);
    free(all.paths);
    free_report_args(&a);
    return rc == 0 ? 0 : SA_EXIT_USAGE;
}
