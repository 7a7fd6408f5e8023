/* cli.h - what the subcommands of the snapalloc command share: option value
 * parsing with one-line errors, and the subcommand entry points.
 *
 * Exit statuses (documented in snapalloc.1): 0 success; 2 usage error or
 * unreadable/corrupt input, after exactly one line "snapalloc: WHAT: WHY"
 * on stderr; `run` returns the program's own status.
 */
#ifndef SA_TOOLS_CLI_H
#define SA_TOOLS_CLI_H

#include <stdint.h>
#include "common/config_parse.h"
#include <sys/types.h>

#define SA_EXIT_USAGE 2

/* Print "snapalloc: WHAT: WHY" and exit 2. */
__attribute__((noreturn, format(printf, 2, 3)))
void sa_die(const char *what, const char *fmt, ...);
/* Read a snapshot or die with `snapalloc: PATH: why` (exit 2). */
struct sa_snapshot *sa_load_snapshot(const char *path);

/* The library's parsers (src/config_parse.h), so that an option and its
 * environment variable accept the same values.  Strict decimal in
 * [min, max]: no sign, no spaces, no trailing junk. */
int sa_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes with an optional K, M or G suffix (powers of 1024, optional
 * trailing "B" or "iB"); 0 allowed. */
int sa_parse_bytes(const char *s, uint64_t *out);

/* The common handling of getopt's '?' and ':' results. */
__attribute__((noreturn))
void sa_bad_option(const char *cmd, int c, int optopt_, const char *arg);

int sa_cmd_run(int argc, char **argv);
int sa_cmd_check(int argc, char **argv);

/* Running a program under the library (run.c), shared by run and check. */
/* The libsnapalloc.so to preload: SNAPALLOC_LIB, else the build tree's
 * next to an uninstalled command, else the installed one (or exit 2). */
char *sa_find_library(void);
/* setenv/unsetenv (value NULL) that exits on failure. */
void sa_set_env(const char *name, const char *value);
/* Prepend lib to LD_PRELOAD, keeping what was there. */
void sa_preload_env(const char *lib);
/* fork + execvp prog, forwarding signals sent to the command (and
 * extra_sig, if not 0) to it, and wait.  Returns the program's status
 * (128+N if killed by signal N); 127 with *exec_failed set, after one
 * error line, if it could not be executed. */
int sa_spawn_wait(char **prog, int extra_sig, pid_t *pid_out, int *exec_failed);
/* The signal that ended the program sa_spawn_wait last waited for; 0 if
 * it exited. */
extern int sa_spawn_signal;

#endif
