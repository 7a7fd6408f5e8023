/* report.h - `snapalloc show` and `snapalloc diff`: grouping the stacks of
 * snapshots by call site (or function, file, module, whole traceback),
 * sorting, and printing as text, JSON or collapsed stacks.  The model is
 * Python's tracemalloc: Snapshot.statistics() and Snapshot.compare_to().
 *
 * Collapsed stacks are the input format of flame-graph tools
 * (flamegraph.pl, inferno, speedscope): one line per distinct stack, its
 * frames outermost first joined by ';', then the live bytes; diff prints
 * the old and the new bytes, difffolded.pl's two-column form, which
 * flamegraph.pl draws as a differential flame graph.
 */
#ifndef SA_TOOLS_REPORT_H
#define SA_TOOLS_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "format/snapshot.h"
#include "symbolize.h"

typedef enum sa_group_by {
    SA_BY_LINE, SA_BY_FUNCTION, SA_BY_FILE, SA_BY_MODULE, SA_BY_TRACEBACK,
} sa_group_by;

typedef struct sa_report_opts {
    sa_group_by by;
    int cumulative;            /* charge every frame of a stack (not traceback) */
    size_t top;                /* groups printed; 0: all */
    const char **include;      /* fnmatch patterns; a trace is kept if any matches */
    size_t ninclude;
    const char **exclude;      /* a trace is dropped if any matches */
    size_t nexclude;
    int all_frames;            /* filters test every frame, not the call site */
    const char **wrappers;     /* extra allocation wrappers to fold (fnmatch) */
    size_t nwrappers;
    uint64_t min_diff;         /* diff: omit groups with |size_diff| below */
    int json;
    int collapsed;             /* collapsed stacks; by names the frames */
} sa_report_opts;

/* Parses "line", "function", ... ; returns 0 or -1. */
int sa_group_by_parse(const char *s, sa_group_by *out);

/* The report for one snapshot (path is only printed).  Returns 0, or -1
 * after printing one error line if writing the output failed. */
int sa_report_show(FILE *out, const char *path, const sa_snapshot *snap,
                   const sa_report_opts *opts);

/* The differences from old to new, matched by symbol, not by address. */
int sa_report_diff(FILE *out, const char *old_path, const sa_snapshot *old_snap,
                   const char *new_path, const sa_snapshot *new_snap,
                   const sa_report_opts *opts);

/* Symbolize every frame of st (inlined chains expand, innermost first)
 * into *frames, grown as needed (*cap entries); *first is set to the
 * call site: the index of the first frame after the leading allocation
 * functions (malloc, operator new, libsnapalloc, o->wrappers), or the
 * outermost frame if the stack holds only those.  Returns the number of
 * frames, 0 for a stack recorded without any.
 *
 * With site_only, symbolization stops at the call site (the frames
 * returned end there): grouping by site needs no more, and every frame
 * left out is debug information not read (the first libc frame costs
 * decompressing libc's whole DWARF, ~0.1 s). */
size_t sa_report_symbolize(sa_symbolizer *sym, const sa_snap_stack *st,
                           const sa_report_opts *o, const sa_sym_frame ***frames,
                           size_t *cap, size_t *first, int site_only);

/* s as a JSON string ("null" for NULL); invalid UTF-8 becomes U+FFFD. */
void sa_json_str(FILE *out, const char *s);

/* tracemalloc's _format_size: "512 B", "40.0 KiB", "1024 KiB", "+1.5 MiB". */
void sa_format_size(char *buf, size_t len, double size, int sign);

int sa_utf8_len(const unsigned char *p);

#endif
