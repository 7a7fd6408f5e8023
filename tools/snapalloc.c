/* snapalloc.c - the snapalloc command's main: terminal-safe standard
 * streams, the top-level help and version, and the dispatch to the
 * subcommands (commands.h: run.c, check.c, show.c).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

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
    "  report [OPTIONS] SNAPSHOT|DIR       one self-contained HTML page: flame graph,\n"
    "                                      tables, memory over time (report.html)\n"
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
        return sa_cmd_show(argc - 1, argv + 1);
    if (strcmp(cmd, "diff") == 0)
        return sa_cmd_diff(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return sa_cmd_report(argc - 1, argv + 1);
    if (cmd[0] == '-')
        sa_die(cmd, "unknown option (try 'snapalloc --help')");
    sa_die(cmd, "unknown command (try 'snapalloc --help')");
}
