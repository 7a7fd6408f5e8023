/* cli.c - the helpers every subcommand shares (cli.h): one-line errors
 * with exit status 2, option values parsed by the library's own parsers,
 * an option's value checked as the library will read its variable
 * (options.c), getopt's errors, repeatable options, `-- PROGRAM` and reading a
 * snapshot.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

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

sa_snapshot *sa_load_snapshot(const char *path)
{
    char err[256] = "";
    sa_snapshot *s = sa_snapshot_read(path, err, sizeof err);
    if (!s)
        sa_die(path, "%s", err[0] ? err : "cannot read snapshot");
    return s;
}

int sa_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return sa_config_parse_u64(s, min, max, out);
}

int sa_parse_bytes(const char *s, uint64_t *out)
{
    return sa_config_parse_size(s, out);
}

sa_config_value sa_option_value(const char *option, const char *value)
{
    sa_config_value v;
    if (sa_option_check(option, value, &v) != 0)
        sa_die(option, "'%s' %s", value, sa_option_find(option)->error);
    return v;
}

uint64_t sa_parse_frames(const char *s)
{
    return (uint64_t)sa_option_value("-n", s).i;
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

void sa_push_arg(const char ***list, size_t *n, const char *s)
{
    *list = sa_xrealloc(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = s;
}

char *sa_join_args(char *const *argv)
{
    size_t len = 1;
    for (char *const *a = argv; *a; a++)
        len += strlen(*a) + 1;
    char *s = sa_xcalloc(len, 1);
    for (char *const *a = argv; *a; a++) {
        if (a != argv)
            strcat(s, " ");
        strcat(s, *a);
    }
    return s;
}

char **sa_program_args(const char *cmd, int argc, char **argv, int optind_)
{
    int dashdash = optind_ >= 1 && optind_ <= argc && strcmp(argv[optind_ - 1], "--") == 0;
    if (!dashdash && optind_ < argc)
        sa_die(cmd, "missing '--' before the program (snapalloc %s [OPTIONS] -- PROGRAM)", cmd);
    if (!dashdash || optind_ >= argc)
        sa_die(cmd, "missing PROGRAM (snapalloc %s [OPTIONS] -- PROGRAM [ARGS...])", cmd);
    return argv + optind_;
}

/* ---- Output files written atomically ---------------------------------- */

static char *atomic_tmp;   /* unlinked at exit unless renamed */

static void remove_atomic_tmp(void)
{
    if (atomic_tmp)
        unlink(atomic_tmp);
}

FILE *sa_atomic_open(const char *path)
{
    size_t len = strlen(path) + 32;
    atomic_tmp = sa_xcalloc(len, 1);
    snprintf(atomic_tmp, len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(atomic_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        sa_die(path, "%s", strerror(errno));
    static int registered;
    if (!registered++)
        atexit(remove_atomic_tmp);
    FILE *f = fdopen(fd, "w");
    if (!f)
        sa_oom();
    return f;
}

int sa_atomic_commit(FILE *f, const char *path, int whole)
{
    int bad = fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad && whole) {
        fprintf(stderr, "snapalloc: %s: write error\n", path);
        return -1;
    }
    if (!whole || bad)
        return -1;   /* the temporary file goes at exit */
    if (rename(atomic_tmp, path) != 0)
        sa_die(path, "%s", strerror(errno));
    free(atomic_tmp);
    atomic_tmp = NULL;
    return 0;
}
