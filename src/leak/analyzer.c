/* leak/analyzer.c - the standalone check's verdict (no
 * SNAPALLOC_CHECK_DIR): `snapalloc check --analyze DIR OPTIONS...` run
 * with posix_spawn on the files just written, its exit status the
 * process's; when it cannot run, a built-in summary of the four classes
 * that fails closed.
 */
#include "leak/check.h"

#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fmt.h"
#include "common/os.h"
#include "trace/config.h"

#ifndef SNAPALLOC_BINDIR
#define SNAPALLOC_BINDIR "/usr/local/bin"
#endif

extern char **environ;

static void summary_line(sa_buf *b, const char *what, uint64_t bytes, uint64_t blocks)
{
    sa_buf_str(b, "snapalloc: ");
    sa_buf_str(b, what);
    sa_buf_str(b, ": ");
    sa_buf_u64(b, bytes);
    sa_buf_str(b, " bytes in ");
    sa_buf_u64(b, blocks);
    sa_buf_str(b, " blocks\n");
}

/* The analyzer could not run: a summary of our own; 23 if it found
 * definite or indirect leaks, else SA_LEAK_NOT_CHECKED (without the
 * analyzer, the options and suppressions were not applied: fail closed). */
static int builtin_summary(const sa_leak_result *r)
{
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    summary_line(&b, "definitely lost", r->bytes[SA_LEAK_DEFINITE], r->blocks[SA_LEAK_DEFINITE]);
    summary_line(&b, "indirectly lost", r->bytes[SA_LEAK_INDIRECT], r->blocks[SA_LEAK_INDIRECT]);
    summary_line(&b, "possibly lost", r->bytes[SA_LEAK_POSSIBLE], r->blocks[SA_LEAK_POSSIBLE]);
    summary_line(&b, "still reachable", r->bytes[SA_LEAK_REACHABLE], r->blocks[SA_LEAK_REACHABLE]);
    if (r->blocks[SA_LEAK_DEFINITE] + r->blocks[SA_LEAK_INDIRECT]) {
        sa_buf_flush(&b);
        return 23;
    }
    sa_buf_str(&b, "snapalloc: leak check: not checked without the analyzer (exit status 24)\n");
    sa_buf_flush(&b);
    return SA_LEAK_NOT_CHECKED;
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* The analyzer's path into cmd (SA_PATH_MAX): SNAPALLOC_CMD, else the
 * installed command.  0 or -ENAMETOOLONG. */
static int analyzer_path(char *cmd)
{
    const char *env_cmd = sa_config_var_get("SNAPALLOC_CMD");   /* the table's check */
    if (env_cmd) {
        strcpy(cmd, env_cmd);
        return 0;
    }
    const char *bin = SNAPALLOC_BINDIR "/snapalloc";
    if (strlen(bin) >= SA_PATH_MAX)
        return -ENAMETOOLONG;
    strcpy(cmd, bin);
    return 0;
}

/* argv: "snapalloc check --analyze DIR", then SNAPALLOC_CHECK_OPTIONS
 * split at spaces in opts (a copy of them, which this cuts up). */
static void analyzer_argv(char **argv, const char *dir, char *opts)
{
    size_t a = 0;
    argv[a++] = "snapalloc";
    argv[a++] = "check";
    argv[a++] = "--analyze";
    argv[a++] = (char *)dir;
    for (char *p = opts; *p;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        argv[a++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv[a] = NULL;
}

/* Start cmd and wait for it: its exit status (128 + the signal that
 * killed it), or -errno if it could not be started. */
static int spawn_wait(const char *cmd, char **argv, char **envp)
{
    pid_t pid;
    /* The analyzer reports on the program's stderr, even if the program
     * closed fd 2 at exit (coreutils do). */
    posix_spawn_file_actions_t fa;
    int have_fa = sa_os_stderr() != 2 && posix_spawn_file_actions_init(&fa) == 0;
    if (have_fa)
        posix_spawn_file_actions_adddup2(&fa, sa_os_stderr(), 2);
    int rc = posix_spawn(&pid, cmd, have_fa ? &fa : NULL, NULL, argv, envp);
    if (have_fa)
        posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -rc;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
}

/* Run `CMD check --analyze DIR OPTIONS...` with the program's environment
 * but LD_PRELOAD and SNAPALLOC_*; its exit status, or -errno if it could
 * not be started.  Its arrays are mapped: we must not allocate here. */
static int run_analyzer(const char *dir)
{
    char cmd[SA_PATH_MAX];
    if (analyzer_path(cmd) != 0)
        return -ENAMETOOLONG;
    size_t nenv = 0;
    for (char **e = environ; e && *e; e++)
        nenv++;
    size_t optlen = strlen(sa_leak_cfg.options);
    size_t nargs = 4 + optlen / 2 + 2;
    size_t bytes = sa_os_page_round((nenv + 1 + nargs) * sizeof(char *) + optlen + 1);
    char **mem = sa_os_map(bytes, SA_OS_PAGE);
    if (!mem)
        return -ENOMEM;
    char **envp = mem, **argv = mem + nenv + 1;
    char *opts = (char *)(argv + nargs);
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!has_prefix(*e, "LD_PRELOAD=") && !has_prefix(*e, "SNAPALLOC_"))
            envp[k++] = *e;
    envp[k] = NULL;
    memcpy(opts, sa_leak_cfg.options, optlen + 1);
    analyzer_argv(argv, dir, opts);
    int rc = spawn_wait(cmd, argv, envp);
    sa_os_unmap(mem, bytes);
    return rc;
}

static void analyzer_failed(int err)
{
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: cannot run the leak analyzer: ");
    const char *why = sa_config_errno_text(-err);
    if (why) {
        sa_buf_str(&b, why);
    } else {
        sa_buf_str(&b, "errno ");
        sa_buf_u64(&b, (uint64_t)-err);
    }
    sa_buf_str(&b, "; built-in summary follows\n");
    sa_buf_flush(&b);
}

int sa_leak_verdict(const char *dir, const sa_leak_result *r, int written)
{
    int status = written == 0 ? run_analyzer(dir) : -EIO;
    if (status < 0) {
        if (written == 0)
            analyzer_failed(status);
        status = builtin_summary(r);
    }
    return status;
}
