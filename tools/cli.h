/* cli.h - what the subcommands of the snapalloc command share: one-line
 * errors, option value parsing, reading a snapshot (cli.c).
 *
 * Exit statuses (documented in snapalloc.1): 0 success; 2 usage error or
 * unreadable/corrupt input, after exactly one line "snapalloc: WHAT: WHY"
 * on stderr; `run` returns the program's own status.
 */
#ifndef SA_TOOLS_CLI_H
#define SA_TOOLS_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "common/config_parse.h"
#include "format/snapshot.h"
#include "options.h"

#define SA_EXIT_USAGE 2

/* Print "snapalloc: WHAT: WHY" and exit 2. */
__attribute__((noreturn, format(printf, 2, 3)))
void sa_die(const char *what, const char *fmt, ...);
/* Read a snapshot or die with `snapalloc: PATH: why` (exit 2). */
sa_snapshot *sa_load_snapshot(const char *path);

/* The library's parsers (common/config_parse.h), so that an option and its
 * environment variable accept the same values.  Strict decimal in
 * [min, max]: no sign, no spaces, no trailing junk. */
int sa_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes with an optional K, M or G suffix (powers of 1024, optional
 * trailing "B" or "iB"); 0 allowed. */
int sa_parse_bytes(const char *s, uint64_t *out);

/* The value of an option that sets a library variable (options.h), as
 * the library will read it, or exit 2 with "snapalloc: OPTION: 'VALUE'
 * is not ..." (the option's error text). */
sa_config_value sa_option_value(const char *option, const char *value);

/* -n/--frames N: frames stored per stack, 1..SA_CONFIG_MAX_FRAMES (or
 * exit 2): sa_option_value("-n"). */
uint64_t sa_parse_frames(const char *s);

/* The common handling of getopt's '?' and ':' results. */
__attribute__((noreturn))
void sa_bad_option(const char *cmd, int c, int optopt_, const char *arg);

/* Append s to a growing list (a repeatable option's values). */
void sa_push_arg(const char ***list, size_t *n, const char *s);

/* The program's words joined by single spaces (malloc'd). */
char *sa_join_args(char *const *argv);

/* `-- PROGRAM [ARGS...]` at argv[optind - 1]: the program, or exit 2
 * with "missing '--'" / "missing PROGRAM" naming cmd. */
char **sa_program_args(const char *cmd, int argc, char **argv, int optind_);

/* An output file written atomically: a new temporary file beside path
 * (so that an unwritable path fails before any work), unlinked at exit
 * unless sa_atomic_commit renames it onto path.  One at a time. */
FILE *sa_atomic_open(const char *path);
/* Close f and, if whole (the caller wrote everything it meant to) and
 * the writes succeeded, rename it onto path.  Returns 0, or -1 after one
 * error line ("write error") when a whole file could not be written; a
 * rename failure exits 2. */
int sa_atomic_commit(FILE *f, const char *path, int whole);

#endif
