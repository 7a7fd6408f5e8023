/* snapalloc.c - the snapalloc command: subcommand dispatch, `show` and
 * `diff` option handling, and the option-value parsers every subcommand
 * shares.  `run` lives in run.c; grouping and printing in report.c;
 * symbolization in symbolize.c.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <stdint.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "format/snapshot.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

void sa_die(const char *what, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "snapalloc: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(SA_EXIT_USAGE);
}

int sa_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return sa_config_parse_u64(s, min, max, out);
}

int sa_parse_bytes(const char *s, uint64_t *out)
{
    return sa_config_parse_size(s, out);
}

void sa_bad_option(const char *cmd, int c, int optopt_, const char *arg)
{
    char name[64];
    /* A long option's optopt is its code (256 and up, or a letter shared
     * with its short form): its name comes from the argument itself. */
    int is_long = arg && strncmp(arg, "--", 2) == 0;
    if (optopt_ && !is_long && optopt_ < 128 && isgraph(optopt_))
        snprintf(name, sizeof name, "-%c", optopt_);
    else
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg ? arg : "?", "="), arg ? arg : "?");
    if (c == ':')
        sa_die(name, "missing value (see 'snapalloc %s --help')", cmd);
    sa_die(name, "unknown option (see 'snapalloc %s --help')", cmd);
}

/* ---- Help ------------------------------------------------------------ */

static const char usage_main[] =
    "Usage: snapalloc COMMAND [OPTIONS] [ARGS]\n"
    "Trace the heap of a program and report its live memory by call site.\n"
    "\n"
    "Commands:\n"
    "  run [OPTIONS] -- PROGRAM [ARGS...]  run PROGRAM with libsnapalloc preloaded\n"
    "                                      and tracing on; report its last snapshot\n"
    "  show SNAPSHOT [OPTIONS]             live memory of a snapshot, grouped\n"
    "  diff OLD NEW [OPTIONS]              what changed between two snapshots\n"
    "  check [OPTIONS] -- PROGRAM [ARGS...]\n"
    "                                      run PROGRAM and check it for leaks at exit\n"
    "                                      (LeakSanitizer-style exit status 23)\n"
    "\n"
    "  snapalloc COMMAND --help   options of COMMAND\n"
    "  snapalloc --version        print the version\n"
    "\n"
    "Exit status: 0 success, 2 usage error or unreadable input; `run` exits\n"
    "with the program's status (128+N if killed by signal N, 127 if it could\n"
    "not be executed); `check` too, or 23 (--exitcode) when leaks fail it,\n"
    "24 when nothing could be checked.\n";

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
    "  --format FORMAT    text (default), json, or collapsed: one line per stack,\n" \
    "                     frames outermost first joined by ';', then its bytes\n" \
    "                     (show) or old and new bytes (diff), for flame-graph\n" \
    "                     tools; frames are named by --by (default function),\n" \
    "                     every group is printed unless --top is given\n" \
    "  --json             same as --format json\n" \
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

/* ---- show / diff ----------------------------------------------------- */

enum {
    OPT_BY = 256, OPT_CUMULATIVE, OPT_TOP, OPT_INCLUDE, OPT_EXCLUDE, OPT_ALL_FRAMES,
    OPT_WRAPPER, OPT_FORMAT, OPT_JSON, OPT_MIN_DIFF,
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
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void push_pattern(const char ***list, size_t *n, const char *p)
{
    *list = sa_xrealloc(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = p;
}

/* Parses the options of show (nfiles 1) or diff (nfiles 2); files are the
 * positional arguments, wherever they appear. */
static void parse_report_args(const char *cmd, int argc, char **argv, int nfiles,
                              const char **files, sa_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->by = SA_BY_LINE;
    o->top = 10;
    int by_given = 0, top_given = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", report_longopts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case OPT_BY:
            if (sa_group_by_parse(optarg, &o->by) != 0)
                sa_die("--by", "'%s' is not one of line, function, file, module, traceback",
                       optarg);
            by_given = 1;
            break;
        case OPT_CUMULATIVE: o->cumulative = 1; break;
        case OPT_TOP:
            if (sa_parse_u64(optarg, 0, SIZE_MAX, &v) != 0)
                sa_die("--top", "'%s' is not a number (0 for all)", optarg);
            o->top = (size_t)v;
            top_given = 1;
            break;
        case OPT_INCLUDE: push_pattern(&o->include, &o->ninclude, optarg); break;
        case OPT_EXCLUDE: push_pattern(&o->exclude, &o->nexclude, optarg); break;
        case OPT_ALL_FRAMES: o->all_frames = 1; break;
        case OPT_WRAPPER: push_pattern(&o->wrappers, &o->nwrappers, optarg); break;
        case OPT_FORMAT:
            o->json = strcmp(optarg, "json") == 0;
            o->collapsed = strcmp(optarg, "collapsed") == 0;
            if (!o->json && !o->collapsed && strcmp(optarg, "text") != 0)
                sa_die("--format", "'%s' is not one of text, json, collapsed", optarg);
            break;
        case OPT_JSON: o->json = 1; o->collapsed = 0; break;
        case OPT_MIN_DIFF:
            if (nfiles != 2)
                sa_bad_option(cmd, '?', 0, argv[optind - 1]);
            if (sa_parse_bytes(optarg, &o->min_diff) != 0)
                sa_die("--min-diff", "'%s' is not a size in bytes (K, M, G suffixes allowed)",
                       optarg);
            break;
        case 'h':
            fputs(nfiles == 1 ? usage_show : usage_diff, stdout);
            exit(0);
        default:
            sa_bad_option(cmd, c, optopt, argv[optind - 1]);
        }
    }
    if (o->cumulative && o->by == SA_BY_TRACEBACK)
        sa_die("--cumulative", "cannot be used with --by traceback");
    if (o->collapsed) {
        /* A flame graph wants every stack, its frames named by function
         * unless --by says otherwise. */
        if (o->cumulative)
            sa_die("--cumulative", "cannot be used with --format collapsed (stacks are whole)");
        if (!by_given)
            o->by = SA_BY_FUNCTION;
        if (!top_given)
            o->top = 0;
    }
    int npos = argc - optind;
    if (npos != nfiles)
        sa_die(cmd, "%s (see 'snapalloc %s --help')",
               npos < nfiles ? (nfiles == 1 ? "missing SNAPSHOT" : "needs two snapshots, OLD and NEW")
                             : "too many arguments", cmd);
    for (int i = 0; i < nfiles; i++)
        files[i] = argv[optind + i];
}

sa_snapshot *sa_load_snapshot(const char *path)
{
    char err[256] = "";
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    if (!s)
        sa_die(path, "%s", err[0] ? err : "cannot read snapshot");
    return s;
}

static void free_report_opts(sa_report_opts *o)
{
    free(o->include);
    free(o->exclude);
    free(o->wrappers);
}

static int cmd_show(int argc, char **argv)
{
    const char *files[1];
    sa_report_opts o;
    parse_report_args("show", argc, argv, 1, files, &o);
    sa_snapshot *s = sa_load_snapshot(files[0]);
    int rc = sa_report_show(stdout, files[0], s, &o);
    sa_snapshot_free(s);
    free_report_opts(&o);
    return rc == 0 ? 0 : SA_EXIT_USAGE;
}

static int cmd_diff(int argc, char **argv)
{
    const char *files[2];
    sa_report_opts o;
    parse_report_args("diff", argc, argv, 2, files, &o);
    sa_snapshot *a = sa_load_snapshot(files[0]);
    sa_snapshot *b = sa_load_snapshot(files[1]);
    int rc = sa_report_diff(stdout, files[0], a, files[1], b, &o);
    sa_snapshot_free(a);
    sa_snapshot_free(b);
    free_report_opts(&o);
    return rc == 0 ? 0 : SA_EXIT_USAGE;
}

/* ---- Terminal-safe output ------------------------------------------- */

/* Snapshots carry paths, function names and a command line that the
 * program (or whoever wrote the file) chose: printed raw, an escape
 * sequence in them would drive the reader's terminal.  stdout and stderr
 * are replaced by streams that write every control character but newline
 * and tab as \xHH.  (JSON and XML escape their strings already; report
 * files do not pass through here.) */
static ssize_t escape_write(void *cookie, const char *buf, size_t len)
{
    int fd = (int)(intptr_t)cookie;
    char out[4096 + 8];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        else
            out[o++] = (char)c;
        if (o >= 4096 || i + 1 == len) {
            for (size_t w = 0; w < o;) {
                ssize_t n = write(fd, out + w, o - w);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    return i > 0 ? (ssize_t)i : -1;
                w += (size_t)n;
            }
            o = 0;
        }
    }
    return (ssize_t)len;
}

static FILE *escaping_stream(int fd, int mode)
{
    cookie_io_functions_t io = {.write = escape_write};
    FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);
    if (f)
        setvbuf(f, NULL, mode, BUFSIZ);
    return f;
}

static void escape_std_streams(void)
{
    FILE *out = escaping_stream(1, isatty(1) ? _IOLBF : _IOFBF);
    FILE *err = escaping_stream(2, _IOLBF);
    if (out)
        stdout = out;
    if (err)
        stderr = err;
}

int main(int argc, char **argv)
{
    escape_std_streams();
    if (argc < 2)
        sa_die("missing command", "try 'snapalloc --help'");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("snapalloc %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return sa_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return sa_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (strcmp(cmd, "diff") == 0)
        return cmd_diff(argc - 1, argv + 1);
    if (cmd[0] == '-')
        sa_die(cmd, "unknown option (try 'snapalloc --help')");
    sa_die(cmd, "unknown command (try 'snapalloc --help')");
}
