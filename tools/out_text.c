/* out_text.c - the text format of `show` and `diff` (and of check's
 * growth report): tracemalloc's layout.  A header per snapshot, a title
 * line, one line per sa_group ("file:line function: size=..., count=...,
 * average=..."), the traceback under it with --by traceback, and one line
 * for the groups past --top.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"
#include "symbolize.h"

void sa_format_size(char *buf, size_t len, double size, int sign)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        if (fabs(size) < 100 && u != 0) {
            snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (fabs(size) < 10 * 1024 || u == 4) {
            snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

static int unsymbolized(const sa_key_frame *k)
{
    return sa_sym_unsymbolized(k->function, k->module);
}

/* ", unloaded" after a module dlclose'd before the snapshot. */
static const char *unloaded_mark(const sa_key_frame *k)
{
    return k->unloaded ? ", unloaded" : "";
}

/* The one-line name of a key frame (without the traceback's module). */
static void print_key_frame(FILE *out, const sa_key_frame *k, sa_group_by by)
{
    switch (by) {
    case SA_BY_LINE:
    case SA_BY_TRACEBACK:
        if (k->line)
            fprintf(out, "%s:%" PRIu32 " %s", k->file, k->line, k->function);
        else if (unsymbolized(k))
            fputs(k->function, out);
        else
            fprintf(out, "%s (%s+0x%" PRIx64 "%s)", k->function, k->module, k->offset,
                    unloaded_mark(k));
        break;
    case SA_BY_FUNCTION:
        fprintf(out, "%s (%s%s)", k->function, k->module, unloaded_mark(k));
        break;
    case SA_BY_FILE:
        if (k->module)
            fprintf(out, "%s (%s%s)", k->file, k->module, unloaded_mark(k));
        else
            fputs(k->file, out);
        break;
    case SA_BY_MODULE:
        fputs(k->module, out);
        if (k->unloaded)
            fputs(" (unloaded)", out);
        break;
    }
}

static void print_traceback(FILE *out, const sa_group *g)
{
    for (uint32_t i = 0; i < g->nkey; i++) {
        const sa_key_frame *k = g->key[i];
        fputs("  ", out);
        print_key_frame(out, k, SA_BY_TRACEBACK);
        if (k->line)
            fprintf(out, " (%s%s)", k->module, unloaded_mark(k));
        fputc('\n', out);
    }
}

/* One line for the memory over time, when the file has it: its points,
 * the span and the highest traced and resident values among them. */
static void print_timeline(FILE *out, const sa_snapshot *s)
{
    if (!s->ntimeline)
        return;
    uint64_t traced = 0, rss = 0;
    for (uint32_t i = 0; i < s->ntimeline; i++) {
        if (s->timeline[i].traced > traced)
            traced = s->timeline[i].traced;
        if (s->timeline[i].rss > rss)
            rss = s->timeline[i].rss;
    }
    char t[32], r[32];
    sa_format_size(t, sizeof t, (double)traced, 0);
    sa_format_size(r, sizeof r, (double)rss, 0);
    double span = (double)(s->timeline[s->ntimeline - 1].time_ns - s->timeline[0].time_ns) / 1e9;
    fprintf(out, "  timeline: %" PRIu32 " point%s over %.1f s, highest traced=%s, rss=%s\n",
            s->ntimeline, s->ntimeline == 1 ? "" : "s", span, t, r);
}

static void print_header(FILE *out, const char *label, const sa_report_src *src)
{
    const sa_snapshot *s = src->snap;
    char t[64], cur[32], peak[32], tot[32];
    sa_report_time(t, sizeof t, s->time_ns, 0);
    sa_format_size(cur, sizeof cur, (double)s->traced_current, 0);
    sa_format_size(peak, sizeof peak, (double)s->traced_peak, 0);
    sa_format_size(tot, sizeof tot, (double)s->total_size, 0);
    fprintf(out, "%s: %s\n", label, src->path);
    fprintf(out, "  program: %s (pid %" PRIu32 ")\n", s->exe ? s->exe : "?", s->pid);
    if (s->cmdline && s->cmdline[0])
        fprintf(out, "  command: %s\n", s->cmdline);
    fprintf(out, "  taken: %s, trigger %s, sequence %" PRIu32 ", frame limit %" PRIu32 "\n",
            t, sa_report_trigger_name(s->trigger), s->sequence, s->frame_limit);
    const char *est = s->sample_interval ? "~" : "";
    if (s->sample_interval) {
        char iv[32];
        sa_format_size(iv, sizeof iv, (double)s->sample_interval, 0);
        fprintf(out, "  estimated from samples every %s (~: an estimate)\n", iv);
    }
    fprintf(out, "  traced memory: current=%s%s, peak=%s%s\n", est, cur, est, peak);
    print_timeline(out, s);
    fprintf(out, "  total: size=%s%s, count=%s%" PRIu64 ", stacks=%" PRIu32 "\n",
            est, tot, est, s->total_count, s->nstacks);
}

/* Under sampling, after a diff's size change: its error, and whether the
 * change is noise (model.h). */
static void print_error(FILE *out, const sa_group *g, const sa_model *m)
{
    char e[32];
    sa_format_size(e, sizeof e, SA_SAMPLE_NOISE * sa_group_diff_sd(m, g), 0);
    fprintf(out, sa_group_within_error(m, g) ? " within the sampling error (+/-%s)"
                                             : " +/-%s", e);
}

static void print_stat(FILE *out, const sa_group *g, const sa_model *m)
{
    char size[32], sd[32], avg[32];
    int w = m->diff ? 1 : 0;
    const char *est = sa_model_sampled(m) ? "~" : "";
    print_key_frame(out, g->key[0], m->by);
    sa_format_size(size, sizeof size, (double)g->size[w], 0);
    if (m->diff) {
        sa_format_size(sd, sizeof sd, (double)sa_group_size_diff(g), 1);
        fprintf(out, ": size=%s%s (%s%s", est, size, est, sd);
        if (*est)
            print_error(out, g, m);
        fprintf(out, "), count=%s%" PRIu64 " (%s%+" PRId64 ")", est, g->count[1], est,
                sa_group_count_diff(g));
    } else {
        fprintf(out, ": size=%s%s, count=%s%" PRIu64, est, size, est, g->count[0]);
    }
    if (g->count[w]) {
        sa_format_size(avg, sizeof avg, (double)g->size[w] / (double)g->count[w], 0);
        fprintf(out, ", average=%s%s", est, avg);
    }
    fputc('\n', out);
    if (m->by == SA_BY_TRACEBACK)
        print_traceback(out, g);
}

/* "N other: ..." for the groups past --top. */
static void print_other(FILE *out, const sa_model *m)
{
    if (m->nshown >= m->ngroups)
        return;
    uint64_t size[2], count[2];
    sa_model_rest(m, size, count);
    size_t n = m->ngroups - m->nshown;
    char s[32], sd[32];
    const char *est = sa_model_sampled(m) ? "~" : "";
    if (m->diff) {
        sa_format_size(s, sizeof s, (double)size[1], 0);
        sa_format_size(sd, sizeof sd, (double)(int64_t)(size[1] - size[0]), 1);
        fprintf(out, "%zu other: size=%s%s (%s%s), count=%s%" PRIu64 " (%s%+" PRId64 ")\n", n,
                est, s, est, sd, est, count[1], est, (int64_t)(count[1] - count[0]));
    } else {
        sa_format_size(s, sizeof s, (double)size[0], 0);
        fprintf(out, "%zu other: size=%s%s, count=%s%" PRIu64 "\n", n, est, s, est, count[0]);
    }
}

static void print_groups(FILE *out, const sa_model *m)
{
    fprintf(out, "[ %s %zu%s %sby %s ]\n", m->nshown < m->ngroups ? "Top" : "All", m->nshown,
            m->diff ? " differences" : "", m->cumulative ? "cumulative " : "",
            sa_group_by_name(m->by));
    for (size_t i = 0; i < m->nshown; i++)
        print_stat(out, m->groups[i], m);
    print_other(out, m);
}

static void text_show(FILE *out, const sa_model *m, const sa_report_src *snap)
{
    print_header(out, "snapshot", snap);
    print_groups(out, m);
}

static void text_diff(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                      const sa_report_src *new_snap)
{
    print_header(out, "old", old_snap);
    print_header(out, "new", new_snap);
    print_groups(out, m);
}

const sa_output_format sa_out_text = {
    .name = "text",
    .show = text_show,
    .diff = text_diff,
};
