/* trace/config.h - the tracer's environment variables and the snapshot
 * triggers they configure (trace/config.c).
 *
 *   SNAPALLOC_TRACE, SNAPSHOT, SNAPSHOT_AT_EXIT, SIGNAL, INTERVAL, PEAK,
 *   UNWIND, SAMPLE, SAMPLE_SEED and REPORT_SOCKET: their values, defaults and warnings are the
 *   table's (common/config.c), which sa_trace_config_read reads.
 *
 * The parsers are pure functions (string in, value out, 0 or -1) so that
 * they can be tested with garbage directly.
 */
#ifndef SA_TRACE_CONFIG_H
#define SA_TRACE_CONFIG_H

#include "common/compiler.h"
#include "common/config_parse.h"

#include <stddef.h>
#include <stdint.h>

#define SA_SNAPSHOT_DEFAULT_TEMPLATE "snapalloc.%e.%p.%n.snap"
#define SA_PATH_MAX 4096

typedef struct sa_trace_config {
    int depth;              /* SNAPALLOC_TRACE; 0 = off */
    int at_exit;            /* SNAPALLOC_SNAPSHOT_AT_EXIT */
    int signo;              /* 0 = none */
    uint64_t interval_ns;   /* 0 = none */
    uint64_t peak_step;     /* 0 = none, SA_CONFIG_PEAK_AUTO = the high-water mark */
    int peak_defaulted;     /* peak_step is auto because SNAPALLOC_PEAK is unset */
    int unwind;             /* SA_UNWIND_* */
    uint64_t sample;        /* SNAPALLOC_SAMPLE: mean interval, 0 = every block */
    int sample_seed;        /* SNAPALLOC_SAMPLE_SEED (tests); 0 = the clock */
    char tmpl[SA_PATH_MAX]; /* SNAPALLOC_SNAPSHOT */
    char report_sock[64];   /* SNAPALLOC_REPORT_SOCKET: abstract socket name, "" = none */
    int exact;              /* the leak check: every block traced, whatever
                               snapalloc_start_sampled asks (leak/leak.h) */
    int lazy_counters;      /* no live counts while running (set by the leak
                               check's configuration, leak/leak.h) */
} sa_trace_config;

/* Parsers: 0 and *out set, or -1 (out untouched). */
int sa_config_parse_template(const char *s);               /* usable template? */

/* Expand a snapshot path template into dst (dstlen bytes, NUL-terminated).
 * Unknown %x sequences and a trailing % are copied as they are.  Returns
 * the length, or -1 if it does not fit. */
int sa_config_expand(char *dst, size_t dstlen, const char *tmpl,
                     uint32_t pid, uint32_t seq, const char *exe);
/* The same with %n as seq_text when not NULL (the peak file's "peak");
 * *has_n (when not NULL) says whether the template has a %n. */
int sa_config_expand_seq(char *dst, size_t dstlen, const char *tmpl, uint32_t pid,
                         const char *seq_text, uint32_t seq, const char *exe, int *has_n);

/* Fill *c from the environment (secure_getenv); each malformed variable
 * gets one warning line on fd and its safe default. */
void sa_trace_config_read(sa_trace_config *c, int fd);

/* The configuration read at start-up (trace/config.c). */
extern SA_HIDDEN sa_trace_config sa_trace_cfg;

/* Errno as text without strerror (it may allocate for the locale):
 * "Permission denied" etc. for common errors, NULL otherwise. */
const char *sa_config_errno_text(int err);

/* Triggers (trace/config.c), used by trace/trace.c. */
void sa_trigger_setup(void);          /* after sa_trace_cfg is read: signal handler */
void sa_trigger_helper_ensure(void);  /* start the helper thread if wanted and allowed */
void sa_trigger_start_helper(void);   /* from sa_trace_start: allow and start it */
void sa_trigger_postfork_child(void);
/* Print "snapalloc: cannot write snapshot PATH: WHY" on the stderr the
 * library saved, once per path and error: a trigger failing again is not
 * reported again. */
void sa_trigger_report(const char *path, int err);
/* The same with note appended to the line. */
void sa_trigger_report_note(const char *path, int err, const char *note);

/* The tracer's services for the triggers (trace/dump.c, trace/trace.c). */
/* Write a snapshot (path NULL: the template), serialised with the other
 * snapshot writers; with wait 0, give up with -EALREADY if one is running.
 * The path used is copied to used (SA_PATH_MAX bytes) when not NULL.
 * Returns 0 or a negative errno (-EINVAL when not tracing). */
int sa_trace_dump(const char *path, uint32_t trigger, int wait, char *used);
/* The reentrancy guard: enter returns the previous state for leave. */
int sa_trace_guard_enter(void);
void sa_trace_guard_leave(int prev);
/* Make the next traced allocation take the slow path (to restart the
 * helper thread in a fork child). */
void sa_trace_request_slowpath(void);
/* The live traced memory recorded by snapalloc_mark_baseline(): returns
 * 1 and fills size/count if it was called, else 0. */
int sa_trace_baseline(uint64_t *size, uint64_t *count);

#endif
