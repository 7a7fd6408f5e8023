/* report.h - the reports of `show` and `diff` (and check's growth diff):
 * the grouping model (model.h) printed in one of the output formats.
 *
 * A format is a table entry (report.c) with a show and a diff printer that
 * read the model and the snapshots' headers; each lives in its own file
 * (out_text.c, out_json.c, out_collapsed.c, out_pprof.c, out_html.c).
 */
#ifndef SA_TOOLS_REPORT_H
#define SA_TOOLS_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "model.h"
#include "format/snapshot.h"

/* A snapshot and the path it was read from (only printed); opts: what
 * its model was built with (a format that builds more models, HTML's
 * tables, starts from them). */
typedef struct sa_report_src {
    const char *path;
    const sa_snapshot *snap;
    const sa_model_opts *opts;
} sa_report_src;

typedef struct sa_output_format {
    const char *name;          /* as --format takes it */
    /* The format draws whole stacks (sa_model_opts.whole_stacks): frames
     * named by function unless --by is given, every group unless --top
     * is, and no --cumulative. */
    int whole_stacks;
    /* Whole stacks of line-level frames (function, file, line, address),
     * whatever --by says: --by is refused. */
    int line_frames;
    /* Bytes, not text: never through the terminal-escaping stdout, and
     * never to a terminal. */
    int binary;
    /* --top's default when not given (0: the rule above, or 10). */
    size_t top_default;
    /* diff is NULL for a format that has no diff (pprof). */
    void (*show)(FILE *out, const sa_model *m, const sa_report_src *snap);
    void (*diff)(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                 const sa_report_src *new_snap);
} sa_output_format;

extern const sa_output_format sa_out_text, sa_out_json, sa_out_collapsed, sa_out_pprof,
    sa_out_html;

/* The format named name, or NULL. */
const sa_output_format *sa_output_format_find(const char *name);
/* "text, json, collapsed, pprof": the names, for messages. */
const char *sa_output_format_names(void);

/* The defaults of show and diff: by line, top 10, libdwfl symbols. */
void sa_model_opts_init(sa_model_opts *o);

/* The report of one snapshot, or of old -> new, in format f.  Returns 0,
 * or -1 after printing one error line if writing the output failed. */
int sa_report_show(FILE *out, const sa_output_format *f, const char *path,
                   const sa_snapshot *snap, const sa_model_opts *o);
int sa_report_diff(FILE *out, const sa_output_format *f, const char *old_path,
                   const sa_snapshot *old_snap, const char *new_path,
                   const sa_snapshot *new_snap, const sa_model_opts *o);

/* ---- For the formats ------------------------------------------------- */

/* "api", "exit", ... (SA_SNAP_TRIGGER_*), "unknown" past them. */
const char *sa_report_trigger_name(uint32_t trigger);
/* ns since the epoch, UTC: "2026-01-02 03:04:05 UTC", or ISO 8601. */
void sa_report_time(char *buf, size_t len, int64_t ns, int iso);

/* tracemalloc's _format_size: "512 B", "40.0 KiB", "1024 KiB", "+1.5 MiB"
 * (out_text.c). */
void sa_format_size(char *buf, size_t len, double size, int sign);

/* s as a JSON string ("null" for NULL); invalid UTF-8 becomes U+FFFD
 * (out_json.c). */
void sa_json_str(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at p (2..4 bytes), or 0. */
int sa_utf8_len(const unsigned char *p);
/* Writes the n bytes at p (a valid sequence, sa_utf8_len) or, n <= 0,
 * bad in place of p's first byte; returns the bytes of p consumed. */
size_t sa_utf8_put(FILE *out, const unsigned char *p, int n, const char *bad);
/* A snapshot's header object (JSON's "snapshot"). */
void sa_json_header(FILE *out, const sa_report_src *src);
/* The fields group_by, cumulative, groups and stats of m and the closing
 * brace, after sep (", " inside an object, "{" for an object of their own). */
void sa_json_groups(FILE *out, const sa_model *m, const char *sep);
/* The JSON diff document without its final newline, to embed. */
void sa_json_diff_value(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                        const sa_report_src *new_snap);

/* ---- HTML (out_html.c) ----------------------------------------------- */

/* The page of n snapshots of one process (`snapalloc report`; show's is
 * n == 1), opening on snaps[initial]; each src->opts as show's (frames
 * named by by, tables of top rows, max_nodes).  Returns 0. */
int sa_html_snapshots(FILE *out, const sa_report_src *snaps, size_t n, size_t initial);
/* The index of the snapshot the report opens on: the peak snapshot
 * (trigger peak) of the highest traced memory, else the last. */
size_t sa_html_initial(const sa_report_src *snaps, size_t n);
/* A page around the JSON that data writes (kind: "leak"; check's). */
void sa_html_page(FILE *out, const char *kind, void (*data)(FILE *, void *), void *ctx);

#endif
