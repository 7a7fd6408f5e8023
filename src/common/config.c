/* common/config.c - THE reference list of the SNAPALLOC_* environment
 * variables the library reads: for each, its parser, accepted range,
 * default, warning for a bad value and where the value goes (which
 * module's configuration, which field).  The library reads them through
 * this table (common/config_read.c); the snapalloc command validates its
 * options with sa_config_var_check before setting them (tools/options.c);
 * tests/unit/test_config.c proves both accept the same values and that
 * every SNAPALLOC_* name in src/ is here.  Pure: no allocation, no
 * environment, no output.
 *
 * Names only the command reads (SNAPALLOC_LIB) are not here: the library
 * never sees them.
 */
#include "common/config.h"

#include <stddef.h>
#include <string.h>

#include "leak/heur.h"
#include "leak/leak.h"         /* sa_leak_config: where the values go (types only) */
#include "trace/config.h"      /* sa_trace_config */
#include "debug/debug_mode.h"       /* sa_debug_config */

#define TRACE(f) SA_CONFIG_TRACE, 0, offsetof(sa_trace_config, f)
#define LEAK(f) SA_CONFIG_LEAK, 0, offsetof(sa_leak_config, f)
#define DEBUG(f) SA_CONFIG_DEBUG, 0, offsetof(sa_debug_config, f)
#define LEAK_ON(f) SA_CONFIG_LEAK_ON, 0, offsetof(sa_leak_config, f)
#define SECONDS_WARNING(then) "not a number of seconds " SA_CONFIG_SECONDS_RANGE "; " then

const sa_config_var sa_config_vars[] = {
    /* ---- the tracer (trace/config.c), in reading order ---- */
    {"SNAPALLOC_TRACE", SA_CONFIG_INT, TRACE(depth), 0, SA_CONFIG_MAX_FRAMES, "0", NULL,
     "not a number from 0 to 128; tracing stays off", NULL, NULL,
     "trace from start-up storing up to N frames a stack (0: off)", NULL},
    {"SNAPALLOC_SNAPSHOT_AT_EXIT", SA_CONFIG_BOOL, TRACE(at_exit), 0, 1, NULL, "SNAPALLOC_TRACE",
     "not 0 or 1; using 0", "not 0 or 1; using 1", NULL,
     "a snapshot at exit (default 1 when SNAPALLOC_TRACE traces)", NULL},
    {"SNAPALLOC_SNAPSHOT", SA_CONFIG_STRING, TRACE(tmpl), 1, SA_PATH_MAX - 1,
     SA_SNAPSHOT_DEFAULT_TEMPLATE, NULL,
     "empty or longer than 4095 bytes; using " SA_SNAPSHOT_DEFAULT_TEMPLATE, NULL, NULL,
     "snapshot path template: %p pid, %n sequence, %e program name, %% a %", NULL},
    {"SNAPALLOC_SIGNAL", SA_CONFIG_SIGNAL, TRACE(signo), 0, 0, NULL, NULL,
     "not the name or number of a signal; no signal trigger", NULL,
     "a handler would take away its default action (ending or stopping the program, "
     "or reporting a fault); use USR1, USR2, WINCH, URG, CHLD, CONT or a real-time "
     "signal; no signal trigger",
     "a snapshot when this signal arrives (default none)", NULL},
    {"SNAPALLOC_INTERVAL", SA_CONFIG_SECONDS, TRACE(interval_ns), 0, 0, NULL, NULL,
     SECONDS_WARNING("no interval trigger"), NULL, NULL,
     "a snapshot every SECONDS (default none)", NULL},
    /* Unset: auto when SNAPALLOC_TRACE traces (sa_trace_config_read). */
    {"SNAPALLOC_PEAK", SA_CONFIG_PEAK, TRACE(peak_step), 0, 0, NULL, NULL,
     "not auto, off, 0 or a positive byte count (suffixes K, M, G); no peak trigger", NULL, NULL,
     "auto: keep the high-water mark in one peak file (default when SNAPALLOC_TRACE traces); "
     "BYTES: a snapshot at each new peak BYTES above the last; off or 0: none", NULL},
    {"SNAPALLOC_UNWIND", SA_CONFIG_UNWIND, TRACE(unwind), 0, 0, "libunwind", NULL,
     "not libunwind or fp; using libunwind", NULL, NULL,
     "the unwinder: libunwind or fp (frame pointers)", NULL},
    /* A bad value samples at the usual mean (bad_value): whoever set it
     * wanted the cheap mode, not full tracing's cost. */
    {"SNAPALLOC_SAMPLE", SA_CONFIG_BYTES, TRACE(sample), 1, 1u << 30, NULL, NULL,
     "not a byte count from 1 to 1G (suffixes K, M, G); sampling every 512K", NULL, NULL,
     "trace a sample: one allocation every BYTES on average (default: every one)", "512K"},
    {"SNAPALLOC_SAMPLE_SEED", SA_CONFIG_INT, TRACE(sample_seed), 1, 2147483647, NULL, NULL,
     "not a number from 1 to 2147483647; seeded from the clock", NULL, NULL,
     "for tests: a fixed seed for the sampling draws (default: the clock)", NULL},
    /* Set by `snapalloc run`; a bad name is ignored silently. */
    {"SNAPALLOC_REPORT_SOCKET", SA_CONFIG_NAME, SA_CONFIG_TRACE, SA_CONFIG_INTERNAL,
     offsetof(sa_trace_config, report_sock), 0, 62, NULL, NULL, NULL, NULL, NULL,
     "the abstract socket `snapalloc run` learns failed writes from", NULL},

    /* ---- the leak check (leak/leak.c) ---- */
    {"SNAPALLOC_CHECK", SA_CONFIG_BOOL, LEAK(enabled), 0, 1, "0", NULL,
     "not 0 or 1; the leak check stays off", NULL, NULL,
     "check for leaks at exit (turns tracing on)", NULL},
    {"SNAPALLOC_CHECK_HEURISTICS", SA_CONFIG_HEURISTICS, LEAK(heuristics), 0, 0, "all", NULL,
     "expected all, none, or a list of stdstring, length64, newarray, "
     "multipleinheritance; using all", NULL, NULL,
     "memcheck's interior-pointer heuristics: all, none or a comma list", NULL},
    {"SNAPALLOC_CHECK_DIR", SA_CONFIG_STRING, LEAK_ON(dir), 1, SA_PATH_MAX - 65, NULL, NULL,
     "empty or too long; using a private directory and the analyzer", NULL, NULL,
     "where the check's files go (default: a private directory, then the analyzer)", NULL},
    {"SNAPALLOC_CHECK_WARMUP", SA_CONFIG_SECONDS, LEAK_ON(warmup_ns), 0, 0, NULL, NULL,
     SECONDS_WARNING("no warmup baseline"), NULL, NULL,
     "take the growth baseline after SECONDS (default none)", NULL},
    {"SNAPALLOC_CHECK_OPTIONS", SA_CONFIG_STRING, LEAK_ON(options), 0, SA_PATH_MAX - 1, NULL,
     NULL, "longer than 4095 bytes; ignored", NULL, NULL,
     "the analyzer's options (standalone check)", NULL},
    /* Read by the standalone check's analyzer run; bad: the installed one. */
    {"SNAPALLOC_CMD", SA_CONFIG_STRING, SA_CONFIG_ON_USE, 0, 0, 1, SA_PATH_MAX - 1, NULL, NULL,
     NULL, NULL, NULL, "the snapalloc command the standalone check runs", NULL},

    /* ---- debug mode (debug/debug.c) ---- */
    {"SNAPALLOC_DEBUG", SA_CONFIG_DEBUG_MODE, DEBUG(mode), 0, 0, "0", NULL,
     "expected 0, 1 or report; debug mode stays off", NULL, NULL,
     "guard bytes, fills, quarantine and misuse checks: 1 aborts at the first report, "
     "report carries on (turns tracing on)", NULL},
    {"SNAPALLOC_DEBUG_QUARANTINE", SA_CONFIG_BYTES, DEBUG(quarantine), 0, 0,
     SA_DEBUG_QUARANTINE_DEFAULT, NULL,
     "not a positive byte count (suffixes K, M, G); using " SA_DEBUG_QUARANTINE_DEFAULT, NULL, NULL,
     "bytes of freed blocks debug mode keeps from reuse (default " SA_DEBUG_QUARANTINE_DEFAULT ")", NULL},
    {"SNAPALLOC_DEBUG_FILE", SA_CONFIG_STRING, DEBUG(file), 1, SA_PATH_MAX - 1, NULL, NULL,
     "empty or longer than 4095 bytes; reports go to stderr", NULL, NULL,
     "where debug mode appends its reports (default stderr)", NULL},
    /* Guard pages (debug/guard.c); a bad rate leaves them off. */
    {"SNAPALLOC_GUARD", SA_CONFIG_GUARD, DEBUG(guard), 0, 0, "0", NULL,
     "expected 0, off, 1, on, all or a rate N from 2 to 1073741824; guard pages stay off",
     NULL, NULL,
     "sampled guard pages: 1 or on guards one allocation in 5000, N one in N, all every one",
     NULL},
    {"SNAPALLOC_GUARD_SLOTS", SA_CONFIG_INT, DEBUG(guard_slots), 1, 4096, SA_GUARD_DEFAULT_SLOTS,
     NULL, "not a number from 1 to 4096; using " SA_GUARD_DEFAULT_SLOTS, NULL, NULL,
     "guarded blocks alive or freed at once (default " SA_GUARD_DEFAULT_SLOTS ")", NULL},
    {"SNAPALLOC_GUARD_PER_SEC", SA_CONFIG_INT, DEBUG(guard_per_sec), 0, 1000000,
     SA_GUARD_DEFAULT_PER_SEC, NULL, "not a number from 0 to 1000000; using " SA_GUARD_DEFAULT_PER_SEC,
     NULL, NULL,
     "at most this many guarded blocks a second, whatever the rate (0: no bound; default "
     SA_GUARD_DEFAULT_PER_SEC ")", NULL},
    {"SNAPALLOC_GUARD_UNDERFLOW", SA_CONFIG_BOOL, DEBUG(guard_underflow), 0, 1, "0", NULL,
     "expected 0 or 1; using 0", NULL, NULL,
     "guarded blocks against the guard page before them (underflows), not after", NULL},

    /* ---- the allocator (alloc/init.c, before the first arena) ---- */
    {"SNAPALLOC_THP", SA_CONFIG_BOOL, SA_CONFIG_ALLOC, SA_CONFIG_EMPTY_IS_UNSET, 0, 0, 1, "0",
     NULL, "expected 0 or 1; huge pages stay off", NULL, NULL,
     "back the arenas with transparent huge pages", NULL},
    /* ---- the exit sequence (preload/lifecycle.c) ---- */
    {"SNAPALLOC_STATS", SA_CONFIG_BOOL, SA_CONFIG_STATS, SA_CONFIG_EMPTY_IS_UNSET, 0, 0, 1, "0",
     NULL, "expected 0 or 1; statistics stay off", NULL, NULL,
     "print the allocator statistics on stderr at exit", NULL},
};
const unsigned sa_config_nvars = sizeof sa_config_vars / sizeof sa_config_vars[0];

_Static_assert(sizeof(((sa_trace_config *)0)->tmpl) >= SA_PATH_MAX, "SNAPALLOC_SNAPSHOT fits");
_Static_assert(sizeof(((sa_trace_config *)0)->report_sock) >= 63, "SNAPALLOC_REPORT_SOCKET fits");
_Static_assert(sizeof(((sa_debug_config *)0)->file) >= SA_PATH_MAX, "SNAPALLOC_DEBUG_FILE fits");
_Static_assert(sizeof(((sa_leak_config *)0)->dir) >= SA_PATH_MAX - 64, "SNAPALLOC_CHECK_DIR fits");
_Static_assert(sizeof(((sa_leak_config *)0)->options) >= SA_PATH_MAX, "SNAPALLOC_CHECK_OPTIONS fits");

const sa_config_var *sa_config_var_find(const char *name)
{
    for (unsigned i = 0; name && i < sa_config_nvars; i++)
        if (strcmp(sa_config_vars[i].name, name) == 0)
            return &sa_config_vars[i];
    return NULL;
}

static int name_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* 0 and *out, -1, or SA_SIGNAL_REFUSED. */
int sa_config_parse_var(const sa_config_var *v, const char *s, sa_config_value *out)
{
    uint64_t n;
    switch ((sa_config_kind)v->kind) {
    case SA_CONFIG_INT:
        if (sa_config_parse_u64(s, v->min, v->max, &n) != 0)
            return -1;
        out->i = (int)n;
        return 0;
    case SA_CONFIG_BOOL: return sa_config_parse_bool(s, &out->i);
    case SA_CONFIG_SIGNAL: return sa_config_parse_signal(s, &out->i);
    case SA_CONFIG_SECONDS: return sa_config_parse_seconds(s, &out->u);
    case SA_CONFIG_BYTES:
        if (sa_config_parse_bytes(s, &out->u) != 0 || (v->max && out->u > v->max))
            return -1;
        return 0;
    case SA_CONFIG_PEAK:
        if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
            out->u = 0;
            return 0;
        }
        if (strcmp(s, "auto") == 0) {
            out->u = SA_CONFIG_PEAK_AUTO;
            return 0;
        }
        return sa_config_parse_bytes(s, &out->u);
    case SA_CONFIG_UNWIND: return sa_config_parse_unwind(s, &out->i);
    case SA_CONFIG_DEBUG_MODE: return sa_config_parse_debug_mode(s, &out->i);
    case SA_CONFIG_GUARD: return sa_config_parse_guard(s, &out->u);
    case SA_CONFIG_HEURISTICS: return sa_leak_heur_parse(s, &out->mask);
    case SA_CONFIG_NAME:
        if (!name_chars_ok(s))
            return -1;
        /* fall through */
    case SA_CONFIG_STRING:
        n = strlen(s);
        if (n < v->min || n > v->max)
            return -1;
        out->u = n;
        return 0;
    }
    return -1;
}

/* The warning for a bad value s of v (default_on: the default is 1). */
const char *sa_config_warning(const sa_config_var *v, int rc, int default_on)
{
    if (rc == SA_SIGNAL_REFUSED && v->refused)
        return v->refused;
    return default_on && v->warning_on ? v->warning_on : v->warning;
}

int sa_config_var_check(const char *name, const char *value, sa_config_value *out,
                        const char **err)
{
    const sa_config_var *v = sa_config_var_find(name);
    sa_config_value tmp;
    if (err)
        *err = NULL;
    if (!v || !value)
        return -1;
    if (!*value && (v->flags & SA_CONFIG_EMPTY_IS_UNSET)) {
        if (out)
            out->u = 0;   /* as unset: the default of these switches, off */
        return 0;
    }
    int rc = sa_config_parse_var(v, value, out ? out : &tmp);
    if (rc != 0 && err)
        *err = sa_config_warning(v, rc, 0);
    return rc == 0 ? 0 : -1;
}
