/* run.c - `snapalloc run [OPTIONS] -- PROGRAM [ARGS...]`.
 *
 * Runs PROGRAM with libsnapalloc preloaded and the tracer configured
 * through the SNAPALLOC_* environment variables the library reads, waits
 * for it, lists the snapshot files written during the run and prints the
 * top call sites of the last one.  Everything the command itself prints
 * goes to stderr, so the program's stdout stays its own.  Finding the
 * library, preloading it and running the child with signal forwarding
 * are spawn.c's, shared with `check`.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* strverscmp */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "common/config.h"
#include "commands.h"
#include "report.h"
#include "format/snapshot.h"
#include "spawn.h"
#include "debug_report.h"
#include "util.h"

#define DEFAULT_DIR "snapalloc-out"

static const char usage_run[] =
    "Usage: snapalloc run [OPTIONS] -- PROGRAM [ARGS...]\n"
    "Run PROGRAM with libsnapalloc preloaded and tracing on.  Snapshots are\n"
    "written to DIR as EXE.PID.N.snap (child processes write their own), and\n"
    "the live memory at the run's peak of traced memory (within 1%, from 1 MiB)\n"
    "as EXE.PID.peak.snap; at the end the files written are listed and the top\n"
    "10 call sites of the last snapshot are printed, all on stderr.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR        directory for the snapshots (default: " DEFAULT_DIR ";\n"
    "                          created if needed)\n"
    "  -n, --frames N          frames stored per stack, 1..128 (default 32)\n"
    "      --signal SIG        take a snapshot when the program receives SIG\n"
    "                          (e.g. USR2, SIGUSR2, or a real-time signal number)\n"
    "      --interval SECONDS  take a snapshot every SECONDS seconds (e.g. 5, 0.5;\n"
    "                          0.001 to 1000000000)\n"
    "      --peak BYTES        instead of the peak file, take a numbered snapshot\n"
    "                          at each new peak of traced memory exceeding the\n"
    "                          last one dumped by BYTES (K, M, G)\n"
    "      --no-peak           no peak file (same as --peak off)\n"
    "      --sample BYTES      trace a sample: one allocation every BYTES on average\n"
    "                          (512K is the usual interval; up to 1G): reports give\n"
    "                          unbiased estimates, marked ~ (default: trace every one)\n"
    "      --unwind METHOD     libunwind (default) or fp (frame pointers)\n"
    "      --no-exit-snapshot  no snapshot when the program exits\n"
    "      --debug[=report]    debug mode (SNAPALLOC_DEBUG): guard bytes, fills and\n"
    "                          a quarantine; heap corruption and misuse are reported\n"
    "                          with the stacks, symbolized; the program is aborted\n"
    "                          at the first report, or carries on with =report\n"
    "      --guard[=RATE]      guard pages (SNAPALLOC_GUARD): one allocation in RATE\n"
    "                          (default 5000; all: every one) gets a page of its own\n"
    "                          between inaccessible pages; an access past it or after\n"
    "                          its free is reported, symbolized, and the program ends\n"
    "                          with SIGSEGV\n"
    "  -h, --help              print this help\n"
    "\n"
    "Environment: SNAPALLOC_LIB overrides the library preloaded; an existing\n"
    "LD_PRELOAD is kept after it.\n"
    "\n"
    "Exit status: the program's own; 128+N if it was killed by signal N; 127 if\n"
    "it could not be executed; 2 for a usage error.\n";

/* ---- The output directory ------------------------------------------- */

static void make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        sa_oom();
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                sa_die(dir, "cannot create directory: %s", strerror(errno));
            *s = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        sa_die(dir, "not a directory");
    if (access(dir, W_OK | X_OK) != 0)
        sa_die(dir, "not writable: %s", strerror(errno));
    free(p);
}

typedef struct dir_entry {
    char *name;
    ino_t ino;
    struct timespec mtime;
    off_t size;
} dir_entry;

typedef struct dir_list {
    dir_entry *v;
    size_t n;
} dir_list;

static dir_list list_snapshots(const char *dir)
{
    dir_list l = {0};
    DIR *d = opendir(dir);
    if (!d)
        return l;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".snap") != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        l.v = sa_xrealloc(l.v, l.n + 1, sizeof *l.v);
        l.v[l.n].name = strdup(e->d_name);
        if (!l.v[l.n].name)
            sa_oom();
        l.v[l.n].ino = st.st_ino;
        l.v[l.n].mtime = st.st_mtim;
        l.v[l.n].size = st.st_size;
        l.n++;
    }
    closedir(d);
    return l;
}

static void dir_list_free(dir_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
}

static int was_there(const dir_list *before, const dir_entry *e)
{
    for (size_t i = 0; i < before->n; i++) {
        const dir_entry *b = &before->v[i];
        if (strcmp(b->name, e->name) == 0)
            return b->ino == e->ino && b->size == e->size &&
                   b->mtime.tv_sec == e->mtime.tv_sec && b->mtime.tv_nsec == e->mtime.tv_nsec;
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strverscmp(((const dir_entry *)a)->name, ((const dir_entry *)b)->name);
}

static int newer(const dir_entry *a, const dir_entry *b)
{
    if (a->mtime.tv_sec != b->mtime.tv_sec)
        return a->mtime.tv_sec > b->mtime.tv_sec;
    if (a->mtime.tv_nsec != b->mtime.tv_nsec)
        return a->mtime.tv_nsec > b->mtime.tv_nsec;
    return strverscmp(a->name, b->name) > 0;
}

/* ---- run ------------------------------------------------------------ */


/* The snapshots written during the run, and the last one of the program
 * itself (else of any process) shown. */
static void show_results(const char *absdir, const dir_list *before, pid_t pid)
{
    /* What was written during the run. */
    dir_list after = list_snapshots(absdir);
    dir_entry *fresh = sa_xcalloc(after.n, sizeof *fresh);
    size_t nfresh = 0;
    for (size_t i = 0; i < after.n; i++)
        if (!was_there(before, &after.v[i]))
            fresh[nfresh++] = after.v[i];
    if (nfresh > 1)
        qsort(fresh, nfresh, sizeof *fresh, cmp_name);
    if (nfresh == 0) {
        fprintf(stderr, "snapalloc: %s: no snapshot was written during the run\n", absdir);
        goto out;
    }
    fprintf(stderr, "snapalloc: %zu snapshot%s in %s:\n", nfresh, nfresh == 1 ? "" : "s", absdir);
    /* A program that spawns many processes writes many files: the list is
     * cut so that the report stays readable. */
    for (size_t i = 0; i < nfresh && i < 20; i++)
        fprintf(stderr, "  %s\n", fresh[i].name);
    if (nfresh > 20)
        fprintf(stderr, "  ... and %zu more\n", nfresh - 20);

    /* The last snapshot of the program itself (its children write files
     * too), else the last of any process; a peak file only if there is
     * nothing else (it was written earlier than its mtime says: it is
     * the state at the peak). */
    char mine[32];
    snprintf(mine, sizeof mine, ".%ld.", (long)pid);
    const dir_entry *last = NULL;
    for (int pass = 0; pass < 4 && !last; pass++)
        for (size_t i = 0; i < nfresh; i++)
            if ((pass >= 2 || strstr(fresh[i].name, mine)) &&
                ((pass & 1) || !strstr(fresh[i].name, ".peak.snap")) &&
                (!last || newer(&fresh[i], last)))
                last = &fresh[i];
    size_t len = strlen(absdir) + strlen(last->name) + 2;
    char *path = sa_xcalloc(len, 1);
    snprintf(path, len, "%s/%s", absdir, last->name);
    char err[256] = "";
    sa_snapshot *snap = sa_snapshot_read(path, err, sizeof err);
    if (!snap) {
        fprintf(stderr, "snapalloc: %s: %s\n", path, err[0] ? err : "cannot read snapshot");
        free(path);
        goto out;
    }
    sa_model_opts o;
    sa_model_opts_init(&o);
    fputc('\n', stderr);
    sa_report_show(stderr, &sa_out_text, path, snap, &o);
    sa_snapshot_free(snap);
    free(path);
out:
    free(fresh);
    dir_list_free(&after);
}

/* ---- Processes whose files could not be written ---------------------- */

static int report_sock = -1;

/* An abstract unix datagram socket, named in SNAPALLOC_REPORT_SOCKET, to
 * which the library sends one record per file it could not write, even
 * after dropping the privileges that the run's directory needs.  Nothing
 * is inherited: the program's descriptors are those of a plain run. */
static void report_sock_open(void)
{
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r ^= (unsigned long long)time(NULL) * 0x9e3779b97f4a7c15ull;
    char name[64];
    snprintf(name, sizeof name, "snapalloc-run.%d.%016llx", (int)getpid(), r);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path + 1, name, strlen(name));
    report_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (report_sock < 0 ||
        bind(report_sock, (struct sockaddr *)&a,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) != 0) {
        if (report_sock >= 0)
            close(report_sock);
        report_sock = -1;
        sa_set_env("SNAPALLOC_REPORT_SOCKET", NULL);
        return;
    }
    int big = 1 << 20;
    (void)setsockopt(report_sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sa_set_env("SNAPALLOC_REPORT_SOCKET", name);
}

/* After the run: "N files could not be written" and one line per record
 * (the first 20). */
static void report_failures(void)
{
    if (report_sock < 0)
        return;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 1024 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = sa_xrealloc(buf, cap, 1);
        }
        ssize_t n = recv(report_sock, buf + len, cap - len - 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* EAGAIN: every record has been read */
        len += (size_t)n;
        if (buf[len - 1] != '\n')
            buf[len++] = '\n';
    }
    close(report_sock);
    size_t nrec = 0;
    for (size_t i = 0; i < len; i++)
        nrec += buf && buf[i] == '\n';
    if (nrec) {
        buf[len] = '\0';
        fprintf(stderr, "snapalloc: %zu file%s could not be written (results lost):\n", nrec,
                nrec == 1 ? "" : "s");
        size_t shown = 0;
        for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
            *nl = '\0';
            char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (!t2 || shown++ >= 20)
                continue;
            *t1 = *t2 = '\0';
            fprintf(stderr, "  pid %s: %s: %s\n", line, t2 + 1, strerror(atoi(t1 + 1)));
        }
        if (nrec > 20)
            fprintf(stderr, "  ... and %zu more\n", nrec - 20);
    }
    free(buf);
}

/* ---- Options and environment ----------------------------------------- */

typedef struct run_opts {
    const char *dir, *unwind, *interval, *sample, *debug, *guard;
    const char *peak;   /* SNAPALLOC_PEAK; NULL: the library's default */
    uint64_t frames;
    int snapsig, exit_snapshot;
} run_opts;

/* SNAPALLOC_PEAK for a checked --peak value: auto, off, or the bytes. */
static const char *peak_value(uint64_t v)
{
    static char buf[32];
    if (v == SA_CONFIG_PEAK_AUTO)
        return "auto";
    if (v == 0)
        return "off";
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return buf;
}

/* Parses the options; returns the program's argv, or NULL after --help. */
static char **parse_run_args(int argc, char **argv, run_opts *r)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"frames", required_argument, NULL, 'n'},
        {"signal", required_argument, NULL, 'S'},
        {"interval", required_argument, NULL, 'I'},
        {"peak", required_argument, NULL, 'P'},
        {"no-peak", no_argument, NULL, 'K'},
        {"unwind", required_argument, NULL, 'U'},
        {"sample", required_argument, NULL, 'A'},
        {"no-exit-snapshot", no_argument, NULL, 'X'},
        {"debug", optional_argument, NULL, 'D'},
        {"guard", optional_argument, NULL, 'G'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *r = (run_opts){.dir = DEFAULT_DIR, .frames = SA_TRACE_DEFAULT_FRAMES, .exit_snapshot = 1};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:o:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg)
                sa_die("-o", "empty directory name");
            r->dir = optarg;
            break;
        case 'n': r->frames = sa_parse_frames(optarg); break;
        case 'S': r->snapsig = sa_option_value("--signal", optarg).i; break;
        case 'I':
            sa_option_value("--interval", optarg);
            r->interval = optarg;
            break;
        case 'P':
            r->peak = peak_value(sa_option_value("--peak", optarg).u);
            break;
        case 'K': r->peak = "off"; break;
        case 'U':
            sa_option_value("--unwind", optarg);
            r->unwind = optarg;
            break;
        case 'A':
            sa_option_value("--sample", optarg);
            r->sample = optarg;
            break;
        case 'X': r->exit_snapshot = 0; break;
        case 'D': r->debug = sa_debug_option(optarg); break;
        case 'G':
            r->guard = optarg ? optarg : "on";
            sa_option_value("--guard", r->guard);
            break;
        case 'h':
            fputs(usage_run, stdout);
            return NULL;
        default:
            sa_bad_option("run", c, optopt, argv[optind - 1]);
        }
    }
    return sa_program_args("run", argc, argv, optind);
}

/* The environment the library reads; what the options leave out is
 * unset, so that `run` does what its command line says. */
static void set_run_env(const run_opts *r, const char *absdir)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)r->frames);
    sa_set_env("SNAPALLOC_TRACE", num);
    size_t tlen = strlen(absdir) + 32;
    char *tmpl = sa_xcalloc(tlen, 1);
    snprintf(tmpl, tlen, "%s/%%e.%%p.%%n.snap", absdir);
    sa_set_env("SNAPALLOC_SNAPSHOT", tmpl);
    free(tmpl);
    sa_set_env("SNAPALLOC_SNAPSHOT_AT_EXIT", r->exit_snapshot ? "1" : "0");
    char sigbuf[32];
    snprintf(sigbuf, sizeof sigbuf, "%d", r->snapsig);
    sa_set_env("SNAPALLOC_SIGNAL", r->snapsig ? sigbuf : NULL);
    sa_set_env("SNAPALLOC_INTERVAL", r->interval);
    sa_set_env("SNAPALLOC_PEAK", r->peak);
    sa_set_env("SNAPALLOC_UNWIND", r->unwind);
    sa_set_env("SNAPALLOC_SAMPLE", r->sample);
    sa_set_env("SNAPALLOC_DEBUG", r->debug);
    sa_set_env("SNAPALLOC_GUARD", r->guard);
}

int sa_cmd_run(int argc, char **argv)
{
    run_opts r;
    char **prog = parse_run_args(argc, argv, &r);
    if (!prog)
        return 0;
    char *lib = sa_find_library();
    if (strpbrk(lib, ": "))
        sa_die(lib, "cannot be preloaded: its path contains ':' or a space");
    make_dirs(r.dir);
    char absdir[PATH_MAX];
    if (!realpath(r.dir, absdir))
        sa_die(r.dir, "%s", strerror(errno));
    sa_preload_env(lib);
    free(lib);
    set_run_env(&r, absdir);

    dir_list before = list_snapshots(absdir);
    report_sock_open();
    char debug_file[PATH_MAX];
    if (r.debug || r.guard)
        sa_debug_file_make(debug_file, sizeof debug_file);
    int exec_failed = 0;
    pid_t pid;
    int rc = sa_spawn_wait(prog, r.snapsig, &pid, &exec_failed);
    if (r.debug || r.guard)
        sa_debug_file_show(debug_file);
    if (exec_failed) {
        dir_list_free(&before);
        if (report_sock >= 0)
            close(report_sock);
        return rc;
    }
    show_results(absdir, &before, pid);
    dir_list_free(&before);
    report_failures();
    return rc;
}
