/* common/config.h - the one table of every SNAPALLOC_* environment
 * variable the library reads (common/config.c: the reference list), the
 * reader that fills the library's configuration from it
 * (common/config_read.c), and the check
 * the snapalloc command runs on an option's value before it sets the
 * variable, so that both accept exactly the same values.
 *
 * The reader runs inside the allocator, possibly before main: no
 * allocation, no stdio, secure_getenv only; a bad value gets one line
 * (sa_warn_setting) on the given descriptor and the variable's default.
 */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stdint.h>

#include "common/config_parse.h"

/* How a value is parsed and stored. */
typedef enum sa_config_kind {
    SA_CONFIG_INT,        /* decimal in [min, max] -> int */
    SA_CONFIG_BOOL,       /* 0 or 1 -> int */
    SA_CONFIG_SIGNAL,     /* sa_config_parse_signal -> int */
    SA_CONFIG_SECONDS,    /* sa_config_parse_seconds -> uint64_t ns */
    SA_CONFIG_BYTES,      /* sa_config_parse_bytes (> 0) -> uint64_t */
    SA_CONFIG_PEAK,       /* off or 0 -> 0, auto -> SA_CONFIG_PEAK_AUTO, else BYTES */
    SA_CONFIG_UNWIND,     /* libunwind, fp -> int SA_UNWIND_* */
    SA_CONFIG_HEURISTICS, /* sa_leak_heur_parse -> unsigned mask */
    SA_CONFIG_STRING,     /* copied; length in [min, max] -> char[max + 1] */
    SA_CONFIG_NAME,       /* a STRING of letters, digits, '.', '-', '_' */
    SA_CONFIG_DEBUG_MODE, /* 0, 1 or report -> int 0, 1, 2 */
    SA_CONFIG_GUARD,      /* sa_config_parse_guard -> uint64_t */
} sa_config_kind;

/* Which module reads a variable, and so what its offset is into. */
typedef enum sa_config_group {
    SA_CONFIG_TRACE,      /* sa_trace_config (trace/config.c) */
    SA_CONFIG_LEAK,       /* sa_leak_config (leak/leak.c), always read */
    SA_CONFIG_LEAK_ON,    /* sa_leak_config, read only when the check is on */
    SA_CONFIG_ALLOC,      /* an int: sa_arena_thp (alloc/init.c, before any arena) */
    SA_CONFIG_STATS,      /* an int: statistics at exit (preload/lifecycle.c) */
    SA_CONFIG_ON_USE,     /* read where it is used (sa_config_var_get) */
    SA_CONFIG_DEBUG,      /* sa_debug_config (debug/debug.c) */
} sa_config_group;

/* SNAPALLOC_PEAK=auto: the high-water mark file (trace/trace.c). */
#define SA_CONFIG_PEAK_AUTO UINT64_MAX

/* Flags. */
#define SA_CONFIG_EMPTY_IS_UNSET 1u  /* "" means unset (no warning) */
#define SA_CONFIG_INTERNAL 2u        /* set by the command for itself; not documented */

typedef struct sa_config_var {
    const char *name;
    uint8_t kind;          /* sa_config_kind */
    uint8_t group;         /* sa_config_group */
    uint8_t flags;         /* SA_CONFIG_EMPTY_IS_UNSET... */
    uint16_t offset;       /* where in the group's struct the value goes */
    uint64_t min, max;     /* INT: the value; STRING, NAME: the length */
    /* The default, in the variable's own syntax (parsed like a value);
     * NULL: zero, or "" for a string. */
    const char *dflt;
    /* Instead: 1 if this earlier variable of the group is non-zero, else
     * 0 (and the warning is warning_on when it is 1). */
    const char *default_follows;
    /* The line after `snapalloc: NAME="VALUE": ` for a bad value; NULL:
     * a bad value is ignored silently (the variable is the command's). */
    const char *warning;
    const char *warning_on;   /* see default_follows */
    const char *refused;      /* SIGNAL: a signal a handler must not take */
    const char *doc;          /* one line: what it does */
    /* The value a bad one stands for, in the variable's syntax (NULL: the
     * default).  SNAPALLOC_SAMPLE: whoever set it wanted sampling. */
    const char *bad_value;
} sa_config_var;

/* The table, in reading order. */
extern const sa_config_var sa_config_vars[];
extern const unsigned sa_config_nvars;

/* A parsed value (which member: the kind). */
typedef union sa_config_value {
    int i;
    uint64_t u;
    unsigned mask;
} sa_config_value;

/* Parse s as v's value: 0 and *out (strings: their length), -1, or
 * SA_SIGNAL_REFUSED. */
int sa_config_parse_var(const sa_config_var *v, const char *s, sa_config_value *out);
/* v's warning for parse result rc (default_on: its default is 1). */
const char *sa_config_warning(const sa_config_var *v, int rc, int default_on);

/* The entry named name, or NULL. */
const sa_config_var *sa_config_var_find(const char *name);

/* Would the library accept value for name?  0 (and *out filled when not
 * NULL; strings are not copied), or -1 with *err (when not NULL) set to
 * the library's warning text for it (NULL for a silent variable or an
 * unknown name). */
int sa_config_var_check(const char *name, const char *value, sa_config_value *out,
                        const char **err);

/* Read one variable into dest (its group's struct): 0 unset (dest gets
 * the default), 1 set and valid, -1 bad (one warning line on fd, dest
 * gets the default). */
int sa_config_read_var(const sa_config_var *v, void *dest, int fd);

/* Read every variable of group, in table order, into dest. */
void sa_config_read_group(sa_config_group group, void *dest, int fd);

/* An SA_CONFIG_ON_USE string variable's value if set and valid, else
 * NULL (no warning: such variables are silent). */
const char *sa_config_var_get(const char *name);

#endif
