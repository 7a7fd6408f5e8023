/* out_json.c - the JSON format of `show` and `diff`, also embedded in
 * check's JSON report (the growth diff, sa_json_diff_value), and the JSON
 * string writer every JSON output of the command uses.  Schema: the
 * snapshot header(s), group_by, cumulative, the number of groups and the
 * shown groups ("stats"), each with its site and, by traceback, frames.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"

/* A JSON string: quotes, backslashes and control characters escaped;
 * bytes that are not valid UTF-8 become U+FFFD so the output always
 * parses. */
/* Length of the valid UTF-8 sequence at p (2..4 bytes: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
int sa_utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    int n = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    uint32_t cp = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

size_t sa_utf8_put(FILE *out, const unsigned char *p, int n, const char *bad)
{
    if (n <= 0) {
        fputs(bad, out);
        return 1;
    }
    fwrite(p, 1, (size_t)n, out);
    return (size_t)n;
}

void sa_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\t': fputs("\\t", out); break;
            case '\r': fputs("\\r", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            p++;
        } else if (c < 0x80) {
            fputc((int)c, out);
            p++;
        } else {
            p += sa_utf8_put(out, p, sa_utf8_len(p), "\\ufffd");
        }
    }
    fputc('"', out);
}

/* The memory over time and the size histogram, when the file has them
 * (version 3): "timeline" [{time_ns, traced, rss}...] and "histogram"
 * [{lo, hi, count, size}...] of the non-empty buckets (sizes lo to hi,
 * both included). */
static void json_sections(FILE *out, const sa_snapshot *s)
{
    if (s->ntimeline) {
        fputs(", \"timeline\": [", out);
        for (uint32_t i = 0; i < s->ntimeline; i++)
            fprintf(out, "%s{\"time_ns\": %" PRId64 ", \"traced\": %" PRIu64 ", \"rss\": %" PRIu64
                    "}", i ? ", " : "", s->timeline[i].time_ns, s->timeline[i].traced,
                    s->timeline[i].rss);
        fputc(']', out);
    }
    if (s->has_histogram) {
        fputs(", \"histogram\": [", out);
        int first = 1;
        for (unsigned i = 0; i < SA_SNAP_HIST_BUCKETS; i++) {
            if (!s->hist_count[i])
                continue;
            uint64_t lo = i ? (uint64_t)1 << (i - 1) : 0;
            uint64_t hi = i ? lo + (lo - 1) : 0;
            fprintf(out, "%s{\"lo\": %" PRIu64 ", \"hi\": %" PRIu64 ", \"count\": %" PRIu64
                    ", \"size\": %" PRIu64 "}", first ? "" : ", ", lo, hi, s->hist_count[i],
                    s->hist_size[i]);
            first = 0;
        }
        fputc(']', out);
    }
}

void sa_json_header(FILE *out, const sa_report_src *src)
{
    const sa_snapshot *s = src->snap;
    char t[64];
    sa_report_time(t, sizeof t, s->time_ns, 1);
    fputs("{\"path\": ", out);
    sa_json_str(out, src->path);
    fprintf(out, ", \"version\": %" PRIu32 ", \"pid\": %" PRIu32 ", \"time_ns\": %" PRId64
            ", \"time\": \"%s\", \"exe\": ", s->version, s->pid, s->time_ns, t);
    sa_json_str(out, s->exe);
    fputs(", \"cmdline\": ", out);
    sa_json_str(out, s->cmdline);
    fprintf(out, ", \"frame_limit\": %" PRIu32 ", \"trigger\": \"%s\", \"sequence\": %" PRIu32
            ", \"traced_current\": %" PRIu64 ", \"traced_peak\": %" PRIu64
            ", \"total_size\": %" PRIu64 ", \"total_count\": %" PRIu64
            ", \"nstacks\": %" PRIu32 ", \"nmodules\": %" PRIu32
            ", \"sample_interval\": %" PRIu64 ", \"estimated\": %s",
            s->frame_limit, sa_report_trigger_name(s->trigger), s->sequence, s->traced_current,
            s->traced_peak, s->total_size, s->total_count, s->nstacks, s->nmodules,
            s->sample_interval, s->sample_interval ? "true" : "false");
    json_sections(out, s);
    fputc('}', out);
}

static void json_site(FILE *out, const sa_key_frame *k, sa_group_by by)
{
    fputs("{\"function\": ", out);
    sa_json_str(out, k->function);
    fputs(", \"file\": ", out);
    sa_json_str(out, k->file);
    if (by == SA_BY_LINE || by == SA_BY_TRACEBACK)
        fprintf(out, ", \"line\": %" PRIu32, k->line);
    else
        fputs(", \"line\": null", out);
    fputs(", \"module\": ", out);
    sa_json_str(out, k->module);
    if (k->module)
        fprintf(out, ", \"module_unloaded\": %s", k->unloaded ? "true" : "false");
    fputc('}', out);
}

static void json_stat(FILE *out, const sa_group *g, const sa_model *m)
{
    int diff = m->diff, w = diff ? 1 : 0;
    fprintf(out, "{\"size\": %" PRIu64, g->size[w]);
    if (diff)
        fprintf(out, ", \"size_diff\": %" PRId64, sa_group_size_diff(g));
    fprintf(out, ", \"count\": %" PRIu64, g->count[w]);
    if (diff)
        fprintf(out, ", \"count_diff\": %" PRId64, sa_group_count_diff(g));
    if (sa_model_sampled(m)) {   /* standard deviations, bytes (model.h) */
        fprintf(out, ", \"size_error\": %.0f", sa_group_size_sd(m, g, w));
        if (diff)
            fprintf(out, ", \"size_diff_error\": %.0f, \"within_sampling_error\": %s",
                    sa_group_diff_sd(m, g), sa_group_within_error(m, g) ? "true" : "false");
    }
    fputs(", \"site\": ", out);
    json_site(out, g->key[0], m->by);
    if (m->by == SA_BY_TRACEBACK) {
        fputs(", \"frames\": [", out);
        for (uint32_t i = 0; i < g->nkey; i++) {
            const sa_key_frame *k = g->key[i];
            fputs(i ? ", {\"function\": " : "{\"function\": ", out);
            sa_json_str(out, k->function);
            fputs(", \"file\": ", out);
            sa_json_str(out, k->file);
            fprintf(out, ", \"line\": %" PRIu32 ", \"module\": ", k->line);
            sa_json_str(out, k->module_path);
            fprintf(out, ", \"module_unloaded\": %s, \"offset\": %" PRIu64 "}",
                    k->unloaded ? "true" : "false", k->shown_offset);
        }
        fputc(']', out);
    }
    fputc('}', out);
}

/* The groups and what they were built with, after the header(s) (sep
 * ", ") or alone in an object (sep "{"). */
void sa_json_groups(FILE *out, const sa_model *m, const char *sep)
{
    fprintf(out, "%s\"group_by\": \"%s\", \"cumulative\": %s, \"groups\": %zu, \"stats\": [",
            sep, sa_group_by_name(m->by), m->cumulative ? "true" : "false", m->ngroups);
    for (size_t i = 0; i < m->nshown; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        json_stat(out, m->groups[i], m);
    }
    fputs("]}", out);
}

void sa_json_diff_value(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                        const sa_report_src *new_snap)
{
    fputs("{\"old\": ", out);
    sa_json_header(out, old_snap);
    fputs(", \"new\": ", out);
    sa_json_header(out, new_snap);
    sa_json_groups(out, m, ", ");
}

static void json_show(FILE *out, const sa_model *m, const sa_report_src *snap)
{
    fputs("{\"snapshot\": ", out);
    sa_json_header(out, snap);
    sa_json_groups(out, m, ", ");
    fputc('\n', out);
}

static void json_diff(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                      const sa_report_src *new_snap)
{
    sa_json_diff_value(out, m, old_snap, new_snap);
    fputc('\n', out);
}

const sa_output_format sa_out_json = {
    .name = "json",
    .show = json_show,
    .diff = json_diff,
};
