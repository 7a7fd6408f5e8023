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

#define SA_EXIT_USAGE 2

/* Print "snapalloc: WHAT: WHY" and exit 2. */
__attribute__((noreturn, format(printf, 2, 3)))
void sa_die(const char *what, const char *fmt, ...);

/* Strict decimal in [min, max]: no sign, no spaces, no trailing junk. */
int sa_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes with an optional K, M or G suffix (powers of 1024, optional
 * trailing "B" or "iB"). */
int sa_parse_bytes(const char *s, uint64_t *out);

/* The common handling of getopt's '?' and ':' results. */
__attribute__((noreturn))
void sa_bad_option(const char *cmd, int c, int optopt_, const char *arg);

int sa_cmd_run(int argc, char **argv);

#endif
