/* report.c - show and diff's reports: the table of output formats, the
 * entry points that build the model and hand it to a format, and what the
 * formats share about a snapshot's header.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "symbolize.h"

/* The formats, in the order --help and messages list them. */
static const sa_output_format *const formats[] = {
    &sa_out_text, &sa_out_json, &sa_out_collapsed, &sa_out_pprof, &sa_out_html,
};
#define NFORMATS (sizeof formats / sizeof *formats)

const sa_output_format *sa_output_format_find(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

const char *sa_output_format_names(void)
{
    static char names[256];
    if (!names[0])
        for (size_t i = 0; i < NFORMATS; i++) {
            if (i)
                strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, formats[i]->name, sizeof names - strlen(names) - 1);
        }
    return names;
}

void sa_model_opts_init(sa_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->by = SA_BY_LINE;
    o->top = 10;
    o->sym = &sa_sym_dwfl;
}

static int finish(FILE *out)
{
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "snapalloc: output: write error\n");
        return -1;
    }
    return 0;
}

int sa_report_show(FILE *out, const sa_output_format *f, const char *path,
                   const sa_snapshot *snap, const sa_model_opts *o)
{
    sa_model m;
    sa_model_build(&m, snap, NULL, o);
    sa_report_src src = {path, snap, o};
    f->show(out, &m, &src);
    sa_model_free(&m);
    return finish(out);
}

int sa_report_diff(FILE *out, const sa_output_format *f, const char *old_path,
                   const sa_snapshot *old_snap, const char *new_path,
                   const sa_snapshot *new_snap, const sa_model_opts *o)
{
    sa_model m;
    sa_model_build(&m, old_snap, new_snap, o);
    sa_report_src a = {old_path, old_snap, o}, b = {new_path, new_snap, o};
    f->diff(out, &m, &a, &b);
    sa_model_free(&m);
    return finish(out);
}

/* ---- Snapshot headers ------------------------------------------------ */

const char *sa_report_trigger_name(uint32_t t)
{
    static const char *const names[] = {
        [SA_SNAP_TRIGGER_API] = "api", [SA_SNAP_TRIGGER_EXIT] = "exit",
        [SA_SNAP_TRIGGER_SIGNAL] = "signal", [SA_SNAP_TRIGGER_INTERVAL] = "interval",
        [SA_SNAP_TRIGGER_PEAK] = "peak", [SA_SNAP_TRIGGER_LEAK] = "leak",
        [SA_SNAP_TRIGGER_BASELINE] = "baseline",
    };
    return t < sizeof names / sizeof *names ? names[t] : "unknown";
}

void sa_report_time(char *buf, size_t len, int64_t ns, int iso)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) ||
        !strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "?");
}
