/* check.c - `snapalloc check`: leak checking for CI.
 *
 *   snapalloc check [OPTIONS] -- PROGRAM [ARGS...]
 *   snapalloc check --analyze DIR [OPTIONS]
 *
 * The first form runs PROGRAM with libsnapalloc preloaded and
 * SNAPALLOC_CHECK=1, SNAPALLOC_CHECK_DIR=DIR: at exit every process scans
 * its heap and writes its leak set into DIR (PID.definite.snap ...
 * PID.done, doc/leak-report.md).  The command then analyzes DIR itself, as
 * the second form does; that second form is also what the library runs in
 * standalone mode (SNAPALLOC_CHECK=1 without a DIR, under a test runner).
 *
 * Exit status: the program's own (0 with --analyze) when the check
 * passes, else the leak exit code (23 by default, as LeakSanitizer's); 24
 * when it could not check (the gate fails closed: nothing was loaded, the
 * program was killed before its scan); 2 for a usage error or unreadable
 * input.
 *
 * With -o DIR every run writes into a new DIR/check.XXXXXX of its own, so
 * that two checks sharing DIR never see each other's sets; the report is
 * written to a temporary file renamed onto --report FILE only when the
 * check produced a verdict.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "debug_report.h"
#include "leak.h"
#include "report.h"
#include "spawn.h"
#include "util.h"

#define DEFAULT_EXITCODE 23

static const char usage_check[] =
    "Usage: snapalloc check [OPTIONS] -- PROGRAM [ARGS...]\n"
    "       snapalloc check --analyze DIR [OPTIONS]\n"
    "Run PROGRAM with libsnapalloc preloaded and check it for leaks at exit\n"
    "(every process it starts is checked too), or analyze the leak files a\n"
    "check left in DIR.  The report goes to stderr.\n"
    "\n"
    "Options:\n"
    "      --fail-on KINDS     what fails the check: a comma list of definite,\n"
    "                          indirect, possible, reachable, growth (default\n"
    "                          definite,indirect, plus growth with --max-growth)\n"
    "      --show KINDS        what is reported (default definite,indirect,possible;\n"
    "                          the --fail-on kinds are always reported)\n"
    "      --exitcode N        exit status when the check fails, 1..255 (default 23)\n"
    "      --max-growth BYTES  fail if live memory at exit exceeds the baseline by\n"
    "                          more than BYTES (K, M, G suffixes allowed)\n"
    "      --warmup SECONDS    take the baseline SECONDS after start-up (else the\n"
    "                          program calls snapalloc_mark_baseline())\n"
    "      --suppressions FILE leak:PATTERN lines (LeakSanitizer's format);\n"
    "                          repeatable\n"
    "      --report FILE       also write the report to FILE\n"
    "      --format FORMAT     json, junit or html (default: junit for a FILE ending\n"
    "                          .xml, html for .html, else json); html: one page\n"
    "                          of the lost blocks by kind and call site, stacks\n"
    "      --top N             call sites reported per kind (default 0: all)\n"
    "      --wrapper PATTERN   fold functions matching PATTERN into the allocation,\n"
    "                          like malloc; repeatable\n"
    "  -n, --frames N          frames stored per stack, 1..128 (default 32)\n"
    "      --heuristics LIST   memcheck's interior-pointer heuristics: all (default),\n"
    "                          none, or a comma list of stdstring, length64,\n"
    "                          newarray, multipleinheritance (as valgrind's\n"
    "                          --leak-check-heuristics)\n"
    "      --unwind METHOD     libunwind (default) or fp: frame pointers, cheaper\n"
    "                          (LeakSanitizer's default), exact call sites but\n"
    "                          shorter stacks through code without frame pointers\n"
    "  -o, --output DIR        keep the leak files in a new DIR/check.XXXXXX (default:\n"
    "                          a temporary directory in $TMPDIR, removed afterwards)\n"
    "      --debug[=1]         debug mode as well (SNAPALLOC_DEBUG=report; =1 aborts\n"
    "                          at the first report): heap corruption and misuse\n"
    "                          reports, symbolized; any report fails the check\n"
    "      --analyze DIR       analyze the files in DIR instead of running a program\n"
    "  -h, --help              print this help\n"
    "\n"
    "Exit status: the program's own (0 with --analyze) when the check passes;\n"
    "the --exitcode status when it fails; 24 when nothing could be checked (no\n"
    "process wrote results: libsnapalloc not loaded, or the program was killed\n"
    "before its check ran); 2 for a usage error or unreadable input.\n";

/* ---- The check directory -------------------------------------------- */

static char *tmpdir;   /* removed at exit when we made it */

/* Remove the files of the temporary directory (all ours: a new mkdtemp). */
static void clean_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

static void remove_tmpdir(void)
{
    if (!tmpdir)
        return;
    clean_dir(tmpdir);
    rmdir(tmpdir);
}

/* ---- The run directory ---------------------------------------------- */

/* A new directory for this run's files: DIR/check.XXXXXX with -o DIR,
 * else $TMPDIR/snapalloc-check.XXXXXX, removed at exit. */
static void make_run_dir(const char *outdir, char *buf, size_t len)
{
    if (outdir) {
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
            sa_die(outdir, "cannot create directory: %s", strerror(errno));
        char real[PATH_MAX];
        if (!realpath(outdir, real))
            sa_die(outdir, "%s", strerror(errno));
        struct stat st;
        if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
            sa_die(outdir, "not a directory");
        if ((size_t)snprintf(buf, len, "%s/check.XXXXXX", real) >= len)
            sa_die(outdir, "%s", strerror(ENAMETOOLONG));
        if (!mkdtemp(buf))
            sa_die(outdir, "cannot create a directory in it: %s", strerror(errno));
        return;
    }
    const char *t = secure_getenv("TMPDIR");
    if ((size_t)snprintf(buf, len, "%s/snapalloc-check.XXXXXX", t && *t ? t : "/tmp") >= len)
        sa_die("TMPDIR", "%s", strerror(ENAMETOOLONG));
    if (!mkdtemp(buf))
        sa_die(buf, "cannot create directory: %s", strerror(errno));
    tmpdir = buf;
    atexit(remove_tmpdir);
}

/* The program itself left no set: killed before its check ran. */
static void check_killed(sa_check_result *r, pid_t pid, const char *program)
{
    if (!sa_spawn_signal)
        return;
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].pid == (uint32_t)pid && r->procs[i].checked)
            return;
    char name[32];
    const char *abbrev = sigabbrev_np(sa_spawn_signal);
    if (abbrev)
        snprintf(name, sizeof name, "SIG%s", abbrev);
    else
        snprintf(name, sizeof name, "signal %d", sa_spawn_signal);
    snprintf(r->not_checked, sizeof r->not_checked,
             "%s was killed by %s before the leak check ran", program, name);
    r->passed = 0;
}

/* ---- Options -------------------------------------------------------- */

enum {
    OPT_FAIL_ON = 256, OPT_SHOW, OPT_EXITCODE, OPT_MAX_GROWTH, OPT_WARMUP, OPT_SUPPRESSIONS,
    OPT_REPORT, OPT_FORMAT, OPT_TOP, OPT_WRAPPER, OPT_ANALYZE, OPT_UNWIND, OPT_HEURISTICS,
    OPT_SAMPLE, OPT_DEBUG,
};

typedef struct check_args {
    sa_check_opts o;
    int have_fail, junit, html;
    const char *warmup, *report, *format, *outdir, *analyze, *unwind, *heuristics;
    const char *debug;         /* --debug: SNAPALLOC_DEBUG's value, or NULL */
    char debug_file[PATH_MAX]; /* its reports */
    const char **supp_files;
    size_t nsupp;
    uint64_t frames;
    char **prog;               /* NULL with --analyze */
} check_args;

/* The options of the verdict: what fails, what is shown, how it ends.
 * Returns 0 if c is not one of them. */
static int verdict_option(int c, check_args *a)
{
    sa_check_opts *o = &a->o;
    uint64_t v;
    switch (c) {
    case OPT_FAIL_ON:
        if (sa_leak_kinds_parse(optarg, 1, &o->fail) != 0)
            sa_die("--fail-on", "'%s' is not a comma list of definite, indirect, possible, "
                   "reachable, growth", optarg);
        a->have_fail = 1;
        return 1;
    case OPT_SHOW:
        if (sa_leak_kinds_parse(optarg, 0, &o->show) != 0)
            sa_die("--show", "'%s' is not a comma list of definite, indirect, possible, "
                   "reachable", optarg);
        return 1;
    case OPT_EXITCODE:
        if (sa_parse_u64(optarg, 1, 255, &v) != 0)
            sa_die("--exitcode", "'%s' is not a number between 1 and 255", optarg);
        o->exitcode = (int)v;
        return 1;
    case OPT_MAX_GROWTH:
        if (sa_parse_bytes(optarg, &o->max_growth) != 0)
            sa_die("--max-growth", "'%s' is not a size in bytes (K, M, G suffixes allowed)",
                   optarg);
        o->have_max_growth = 1;
        return 1;
    case OPT_SUPPRESSIONS: sa_push_arg(&a->supp_files, &a->nsupp, optarg); return 1;
    case OPT_TOP:
        if (sa_parse_u64(optarg, 0, SIZE_MAX, &v) != 0)
            sa_die("--top", "'%s' is not a number (0 for all)", optarg);
        o->top = (size_t)v;
        o->ropts.top = v ? (size_t)v : 10;
        return 1;
    case OPT_WRAPPER: sa_push_arg(&o->ropts.wrappers, &o->ropts.nwrappers, optarg); return 1;
    }
    return 0;
}

/* A non-empty name for option opt. */
static const char *name_arg(const char *opt, const char *what)
{
    if (!*optarg)
        sa_die(opt, "empty %s name", what);
    return optarg;
}

/* The options of the run and of the files: how the program is traced,
 * where the sets and the report go. */
static void run_option(int c, check_args *a, char **argv)
{
    switch (c) {
    case OPT_WARMUP:
        sa_option_value("--warmup", optarg);
        a->warmup = optarg;
        break;
    case OPT_REPORT: a->report = name_arg("--report", "file"); break;
    case OPT_FORMAT:
        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "junit") != 0 &&
            strcmp(optarg, "html") != 0)
            sa_die("--format", "'%s' is not one of json, junit, html", optarg);
        a->format = optarg;
        break;
    case 'n': a->frames = sa_parse_frames(optarg); break;
    case OPT_UNWIND:
        sa_option_value("--unwind", optarg);
        a->unwind = optarg;
        break;
    case OPT_HEURISTICS:
        sa_option_value("--heuristics", optarg);
        a->heuristics = optarg;
        break;
    case 'o': a->outdir = name_arg("-o", "directory"); break;
    case OPT_ANALYZE: a->analyze = name_arg("--analyze", "directory"); break;
    case OPT_SAMPLE:
        sa_die("--sample", "a leak check traces every allocation (a sampled scan cannot be "
               "exact); use snapalloc run --sample");
    case OPT_DEBUG: a->debug = sa_debug_option(optarg ? optarg : "report"); break;
    default:
        sa_bad_option("check", c, optopt, argv[optind - 1]);
    }
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = s ? strlen(s) : 0, k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* What the options say together: the default --fail-on, the report's
 * format, and the program (none with --analyze). */
static void check_combination(check_args *a, int argc, char **argv)
{
    sa_check_opts *o = &a->o;
    if (!a->have_fail)
        o->fail = SA_KIND_BIT(SA_LEAK_DEFINITE) | SA_KIND_BIT(SA_LEAK_INDIRECT) |
                  (o->have_max_growth ? SA_KIND_BIT(SA_LEAK_GROWTH) : 0);
    if ((o->fail & SA_KIND_BIT(SA_LEAK_GROWTH)) && !o->have_max_growth)
        sa_die("--fail-on", "growth needs a budget (--max-growth BYTES)");
    if (a->format && !a->report)
        sa_die("--format", "needs --report FILE");
    const char *rep = a->report;
    a->junit = a->format ? strcmp(a->format, "junit") == 0 : has_suffix(rep, ".xml");
    a->html = a->format ? strcmp(a->format, "html") == 0 : has_suffix(rep, ".html");
    if (!a->analyze) {
        const char *sample = getenv("SNAPALLOC_SAMPLE");
        if (sample)
            sa_die("check", "SNAPALLOC_SAMPLE is set: a leak check traces every allocation "
                   "(a sampled scan cannot be exact); unset it");
        a->prog = sa_program_args("check", argc, argv, optind);
        return;
    }
    int dashdash = optind >= 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0;
    if (dashdash || optind < argc)
        sa_die("check", "--analyze DIR takes no program (snapalloc check --analyze DIR "
               "[OPTIONS])");
    if (a->outdir || a->warmup || a->heuristics || a->debug)
        sa_die(a->outdir ? "-o" : a->warmup ? "--warmup" : a->heuristics ? "--heuristics" : "--debug",
               "cannot be used with --analyze");
}

/* Parses the command line; returns 0, or 1 after --help. */
static int parse_check_args(int argc, char **argv, check_args *a)
{
    static const struct option longopts[] = {
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"show", required_argument, NULL, OPT_SHOW},
        {"exitcode", required_argument, NULL, OPT_EXITCODE},
        {"max-growth", required_argument, NULL, OPT_MAX_GROWTH},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"suppressions", required_argument, NULL, OPT_SUPPRESSIONS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"top", required_argument, NULL, OPT_TOP},
        {"wrapper", required_argument, NULL, OPT_WRAPPER},
        {"frames", required_argument, NULL, 'n'},
        {"unwind", required_argument, NULL, OPT_UNWIND},
        {"heuristics", required_argument, NULL, OPT_HEURISTICS},
        {"output", required_argument, NULL, 'o'},
        {"analyze", required_argument, NULL, OPT_ANALYZE},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"debug", optional_argument, NULL, OPT_DEBUG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->o.show = SA_KIND_BIT(SA_LEAK_DEFINITE) | SA_KIND_BIT(SA_LEAK_INDIRECT) |
                SA_KIND_BIT(SA_LEAK_POSSIBLE);
    a->o.exitcode = DEFAULT_EXITCODE;
    sa_model_opts_init(&a->o.ropts);
    a->frames = SA_TRACE_DEFAULT_FRAMES;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:n:o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_check, stdout);
            return 1;
        }
        if (!verdict_option(c, a))
            run_option(c, a, argv);
    }
    check_combination(a, argc, argv);
    return 0;
}

/* ---- Running and reporting ------------------------------------------ */

/* Runs the program with the check configured, its sets going to a new
 * directory (into dirbuf).  Returns its status; *pid is set. */
static int run_checked(check_args *a, char *dirbuf, size_t len, pid_t *pid,
                       int *exec_failed)
{
    char *lib = sa_find_library();
    make_run_dir(a->outdir, dirbuf, len);
    char num[32];
    sa_preload_env(lib);
    free(lib);
    snprintf(num, sizeof num, "%llu", (unsigned long long)a->frames);
    sa_set_env("SNAPALLOC_CHECK", "1");
    sa_set_env("SNAPALLOC_CHECK_DIR", dirbuf);
    sa_set_env("SNAPALLOC_TRACE", num);
    sa_set_env("SNAPALLOC_CHECK_WARMUP", a->warmup);
    sa_set_env("SNAPALLOC_CHECK_OPTIONS", NULL);
    sa_set_env("SNAPALLOC_UNWIND", a->unwind);
    sa_set_env("SNAPALLOC_CHECK_HEURISTICS", a->heuristics);
    sa_set_env("SNAPALLOC_DEBUG", a->debug);
    if (a->debug)
        sa_debug_file_make(a->debug_file, sizeof a->debug_file);
    *exec_failed = 0;
    return sa_spawn_wait(a->prog, 0, pid, exec_failed);
}

/* Analyzes dir, prints the text report and writes the report file;
 * returns the exit status. */
static int analyze_and_report(check_args *a, const char *dir, FILE *rf, const char *program,
                              int prog_status, pid_t pid)
{
    sa_check_opts *o = &a->o;
    sa_check_result r;
    sa_leak_analyze(dir, o, &r);
    if (a->prog)
        check_killed(&r, pid, a->prog[0]);
    int status = r.passed ? (a->prog ? prog_status : 0)
                 : r.failed ? o->exitcode : SA_CHECK_NOT_CHECKED;
    sa_leak_print_text(stderr, &r, o);
    if (a->outdir)
        fprintf(stderr, "snapalloc check: leak files kept in %s\n", dir);
    if (rf) {
        if (a->junit)
            sa_leak_write_junit(rf, &r, o);
        else if (a->html)
            sa_leak_write_html(rf, &r, o, program, prog_status, status);
        else
            sa_leak_write_json(rf, &r, o, program, prog_status, status);
        if (sa_atomic_commit(rf, a->report, 1) != 0)
            exit(SA_EXIT_USAGE);
    }
    sa_check_result_free(&r);
    return status;
}

int sa_cmd_check(int argc, char **argv)
{
    check_args a;
    if (parse_check_args(argc, argv, &a))
        return 0;
    /* Bad suppression files fail before the program runs. */
    for (size_t i = 0; i < a.nsupp; i++)
        sa_supp_load(&a.o.supp, a.supp_files[i]);
    /* So is an unwritable report file. */
    FILE *rf = a.report ? sa_atomic_open(a.report) : NULL;

    char dirbuf[PATH_MAX];
    const char *dir = a.analyze;
    int prog_status = -1;
    char *program = NULL;
    pid_t pid = 0;
    int debug_reports = 0;
    if (a.prog) {
        int exec_failed;
        program = sa_join_args(a.prog);
        prog_status = run_checked(&a, dirbuf, sizeof dirbuf, &pid, &exec_failed);
        debug_reports = a.debug ? sa_debug_file_show(a.debug_file) : 0;
        if (exec_failed) {
            free(program);
            return prog_status;
        }
        dir = dirbuf;
    }
    int status = analyze_and_report(&a, dir, rf, program, prog_status, pid);
    /* Debug mode's reports fail the check as leaks do. */
    if (debug_reports && status != a.o.exitcode) {
        fprintf(stderr, "snapalloc check: failed: %d debug mode report%s\n", debug_reports,
                debug_reports == 1 ? "" : "s");
        status = a.o.exitcode;
    }
    sa_supp_free(&a.o.supp);
    free(a.supp_files);
    free(a.o.ropts.wrappers);
    free(program);
    return status;
}
