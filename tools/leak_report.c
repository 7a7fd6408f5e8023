/* leak_report.c - the three outputs of `snapalloc check`: the text report
 * (stderr), JSON, JUnit XML and HTML (--report FILE).  Schemas and the JUnit
 * mapping are documented in doc/leak-report.md.
 *
 * Text: per process, the unsuppressed leaks of the reported classes,
 * largest first, each with its stack from the call site outward; then the
 * summary lines valgrind prints ("definitely lost: 1,095,936 bytes in 111
 * blocks"), LSan's "Suppressions used" table, unused suppressions, the
 * growth verdict (with `snapalloc diff`'s listing when over budget) and one
 * verdict line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* open_memstream */
#endif
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "report.h"
#include "symbolize.h"
#include "util.h"

#define NO_FRAMES "<allocated before tracing started>"

static unsigned reported(const sa_check_opts *o)
{
    return (o->show | o->fail) & SA_LEAK_CLASS_BITS;
}

static int unsymbolized(const sa_sym_frame *f)
{
    return sa_sym_unsymbolized(f->function, f->module);
}

/* "file:line function" (with line), "function (module+0xOFF)" without. */
static void print_site(FILE *out, const sa_leak *l)
{
    if (l->nframes == 0) {
        fputs(NO_FRAMES, out);
        return;
    }
    const sa_sym_frame *f = &l->frames[0];
    if (f->line)
        fprintf(out, "%s:%" PRIu32 " %s", f->file, f->line, f->function);
    else if (unsymbolized(f))
        fputs(f->function, out);
    else
        fprintf(out, "%s (%s+0x%" PRIx64 ")", f->function, f->module, f->offset);
}

static void print_frames(FILE *out, const sa_leak *l)
{
    if (l->nframes == 0) {
        fprintf(out, "    " NO_FRAMES "\n");
        return;
    }
    for (uint32_t i = 0; i < l->nframes; i++) {
        const sa_sym_frame *f = &l->frames[i];
        fprintf(out, "    #%" PRIu32 " ", i);
        const char *mark = f->unloaded ? ", unloaded" : "";
        if (f->line)
            fprintf(out, "%s:%" PRIu32 " %s (%s%s)\n", f->file, f->line, f->function, f->module,
                    mark);
        else if (unsymbolized(f))
            fprintf(out, "%s\n", f->function);
        else
            fprintf(out, "%s (%s+0x%" PRIx64 "%s)\n", f->function, f->module, f->offset, mark);
    }
}

static void print_total(FILE *out, const char *label, const sa_leak_total *t)
{
    char b[40], n[40];
    fprintf(out, "%s: %s bytes in %s blocks\n", label, sa_leak_commas(b, sizeof b, t->bytes),
            sa_leak_commas(n, sizeof n, t->blocks));
}

static void print_growth(FILE *out, const sa_leak_proc *p, const sa_check_opts *o)
{
    char a[40], b[40], c[40], m[40];
    if (!p->baseline) {
        fprintf(out, "snapalloc: pid %" PRIu32 ": no baseline taken (--warmup SECONDS or "
                "snapalloc_mark_baseline()); growth not checked\n", p->pid);
        return;
    }
    uint64_t g = p->growth < 0 ? -(uint64_t)p->growth : (uint64_t)p->growth;
    fprintf(out, "growth (pid %" PRIu32 "): %s%s bytes since the baseline (%s -> %s bytes live), "
            "budget %s bytes: %s\n", p->pid, p->growth < 0 ? "-" : "+",
            sa_leak_commas(a, sizeof a, g),
            sa_leak_commas(b, sizeof b, p->baseline->total_size),
            sa_leak_commas(c, sizeof c, p->exit->total_size),
            sa_leak_commas(m, sizeof m, o->max_growth),
            p->growth_exceeded ? "exceeded" : "ok");
    if (p->growth_exceeded)
        sa_report_diff(out, &sa_out_text, p->baseline_path, p->baseline, p->exit_path, p->exit,
                       &o->ropts);
}

/* The unsuppressed leaks of class k in p, the first --top of them with
 * their stacks, then one line for the rest. */
static void print_class(FILE *out, const sa_leak_proc *p, int k, const sa_check_opts *o)
{
    size_t shown = 0, more = 0;
    sa_leak_total rest = {0, 0};
    char b[40], n[40];
    for (size_t j = 0; j < p->nleaks; j++) {
        const sa_leak *l = &p->leaks[j];
        if (l->kind != k || l->supp >= 0)
            continue;
        if (o->top && shown >= o->top) {
            more++;
            rest.bytes += l->bytes;
            rest.blocks += l->blocks;
            continue;
        }
        shown++;
        fprintf(out, "\n%s bytes in %s blocks are %s at ", sa_leak_commas(b, sizeof b, l->bytes),
                sa_leak_commas(n, sizeof n, l->blocks), sa_leak_kind_label(k));
        print_site(out, l);
        if (l->nstacks > 1)
            fprintf(out, " (%" PRIu32 " stacks, the largest shown)", l->nstacks);
        fputc('\n', out);
        print_frames(out, l);
    }
    if (more)
        fprintf(out, "\n... %zu more call site%s: %s bytes in %s blocks %s\n", more,
                more == 1 ? "" : "s", sa_leak_commas(b, sizeof b, rest.bytes),
                sa_leak_commas(n, sizeof n, rest.blocks), sa_leak_kind_label(k));
}

static void print_procs(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    unsigned rep = reported(o);
    for (size_t i = 0; i < r->nprocs; i++) {
        const sa_leak_proc *p = &r->procs[i];
        if (!p->checked) {
            fprintf(out, "snapalloc: pid %" PRIu32 ": not checked (it ended without its exit "
                    "check: killed by a signal, or _exit)\n", p->pid);
            continue;
        }
        fprintf(out, "snapalloc check: pid %" PRIu32 ": %s\n", p->pid,
                p->cmdline && *p->cmdline ? p->cmdline : p->exe ? p->exe : "?");
        for (int k = SA_LEAK_FIRST; k < SA_LEAK_NCLASSES; k++)
            if (rep & SA_KIND_BIT(k))
                print_class(out, p, k, o);
        fputc('\n', out);
    }
}

/* valgrind's LEAK SUMMARY, with memcheck's "of which reachable via
 * heuristic" lines. */
static void print_summary(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    unsigned rep = reported(o);
    fputs("LEAK SUMMARY:\n", out);
    for (int k = SA_LEAK_FIRST; k < SA_LEAK_NCLASSES; k++)
        if (rep & SA_KIND_BIT(k))
            print_total(out, sa_leak_kind_label(k), &r->total[k]);
    for (int h = 0; h < SA_LEAK_NHEUR; h++)
        if (r->heur[h].blocks) {
            char label[96];
            snprintf(label, sizeof label, "%sreachable via heuristic %s",
                     rep & SA_KIND_BIT(SA_LEAK_REACHABLE) ? "  of which " : "",
                     sa_leak_heur_names[h]);
            print_total(out, label, &r->heur[h]);
        }
    print_total(out, "suppressed", &r->suppressed);
}

/* LSan's "Suppressions used" table, then the suppressions unused. */
static void print_suppressions(FILE *out, const sa_supp_list *l)
{
    int used = 0;
    for (size_t i = 0; i < l->n; i++)
        used |= l->v[i].leaks > 0;
    if (used) {
        fputs("Suppressions used:\n  count      bytes template\n", out);
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i].leaks)
                fprintf(out, "%7" PRIu64 " %10" PRIu64 " %s\n", l->v[i].leaks, l->v[i].bytes,
                        l->v[i].pattern);
    }
    int unused = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!l->v[i].leaks) {
            if (!unused++)
                fputs("Unused suppressions:\n", out);
            fprintf(out, "  %s:%u: leak:%s\n", l->v[i].file, l->v[i].line, l->v[i].pattern);
        }
}

static void print_verdict(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    if (r->passed) {
        fputs("snapalloc check: passed\n", out);
        return;
    }
    if (!r->failed) {
        fprintf(out, "snapalloc check: NOT CHECKED: %s (exit status %d)\n", r->not_checked,
                SA_CHECK_NOT_CHECKED);
        return;
    }
    if (r->not_checked[0])
        fprintf(out, "snapalloc check: also not checked: %s\n", r->not_checked);
    fputs("snapalloc check: FAILED:", out);
    const char *sep = " ";
    for (int k = SA_LEAK_FIRST; k <= SA_LEAK_GROWTH; k++)
        if (r->failed & SA_KIND_BIT(k)) {
            fprintf(out, "%s%s", sep,
                    k == SA_LEAK_GROWTH ? "growth over budget" : sa_leak_kind_label(k));
            sep = ", ";
        }
    fprintf(out, " (exit status %d)\n", o->exitcode);
}

void sa_leak_print_text(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    print_procs(out, r, o);
    if (r->nchecked == 0) {
        fprintf(out, "snapalloc check: NOT CHECKED: %s (exit status %d)\n", r->not_checked,
                SA_CHECK_NOT_CHECKED);
        fflush(out);
        return;
    }
    print_summary(out, r, o);
    print_suppressions(out, &o->supp);
    if (o->have_max_growth)
        for (size_t i = 0; i < r->nprocs; i++)
            if (r->procs[i].checked)
                print_growth(out, &r->procs[i], o);
    print_verdict(out, r, o);
    fflush(out);
}

/* ---- JSON ----------------------------------------------------------- */

static void json_total(FILE *out, const char *name, const sa_leak_total *t)
{
    fprintf(out, "\"%s\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}", name, t->bytes,
            t->blocks);
}

static void json_kinds(FILE *out, unsigned mask)
{
    fputc('[', out);
    const char *sep = "";
    for (int k = SA_LEAK_FIRST; k <= SA_LEAK_GROWTH; k++)
        if (mask & SA_KIND_BIT(k)) {
            fprintf(out, "%s\"%s\"", sep, sa_leak_kind_name(k));
            sep = ", ";
        }
    fputc(']', out);
}

static void json_frame(FILE *out, const sa_sym_frame *f)
{
    fputs("{\"function\": ", out);
    sa_json_str(out, f->function);
    fputs(", \"file\": ", out);
    sa_json_str(out, strcmp(f->file, "??") ? f->file : NULL);
    fprintf(out, ", \"line\": %" PRIu32 ", \"module\": ", f->line);
    sa_json_str(out, strcmp(f->module_path, "??") ? f->module_path : NULL);
    fprintf(out, ", \"offset\": %" PRIu64 "}", f->offset);
}

/* The diff report of show/diff's JSON, embedded: the model of baseline ->
 * exit in the JSON format. */
static void json_diff(FILE *out, const sa_leak_proc *p, const sa_check_opts *o)
{
    sa_model m;
    sa_model_build(&m, p->baseline, p->exit, &o->ropts);
    sa_report_src a = {p->baseline_path, p->baseline, &o->ropts},
                  b = {p->exit_path, p->exit, &o->ropts};
    sa_json_diff_value(out, &m, &a, &b);
    sa_model_free(&m);
}

static void json_summary(FILE *out, const sa_check_result *r, unsigned rep)
{
    fputs(",\n \"summary\": {", out);
    const char *sep = "";
    for (int k = SA_LEAK_FIRST; k < SA_LEAK_NCLASSES; k++)
        if (rep & SA_KIND_BIT(k)) {
            fputs(sep, out);
            json_total(out, sa_leak_kind_name(k), &r->total[k]);
            sep = ", ";
        }
    fputs(sep, out);
    json_total(out, "suppressed", &r->suppressed);
    fputs(", \"reachable_via_heuristic\": {", out);
    for (int h = 0; h < SA_LEAK_NHEUR; h++) {
        fputs(h ? ", " : "", out);
        json_total(out, sa_leak_heur_names[h], &r->heur[h]);
    }
    fputs("}}", out);
}

static void json_leak(FILE *out, const sa_leak_proc *p, const sa_leak *l, const sa_check_opts *o)
{
    fprintf(out, "{\"pid\": %" PRIu32 ", \"kind\": \"%s\", \"bytes\": %" PRIu64
            ", \"blocks\": %" PRIu64 ", \"stacks\": %" PRIu32 ", \"fails\": %s, \"site\": ",
            p->pid, sa_leak_kind_name(l->kind), l->bytes, l->blocks, l->nstacks,
            l->supp < 0 && (o->fail & SA_KIND_BIT(l->kind)) ? "true" : "false");
    if (l->nframes == 0) {
        fputs("null", out);
    } else {
        const sa_sym_frame *f = &l->frames[0];
        fputs("{\"function\": ", out);
        sa_json_str(out, f->function);
        fputs(", \"file\": ", out);
        sa_json_str(out, strcmp(f->file, "??") ? f->file : NULL);
        fprintf(out, ", \"line\": %" PRIu32 ", \"module\": ", f->line);
        sa_json_str(out, f->module);
        fputc('}', out);
    }
    fputs(", \"frames\": [", out);
    for (uint32_t k = 0; k < l->nframes; k++) {
        if (k)
            fputs(", ", out);
        json_frame(out, &l->frames[k]);
    }
    fputs("], \"suppressed_by\": ", out);
    sa_json_str(out, l->supp >= 0 ? o->supp.v[l->supp].pattern : NULL);
    fputc('}', out);
}

static void json_suppressions(FILE *out, const sa_supp_list *l)
{
    fputs(",\n \"suppressions\": [", out);
    for (size_t i = 0; i < l->n; i++) {
        const sa_supp *s = &l->v[i];
        fputs(i ? ", {\"pattern\": " : "{\"pattern\": ", out);
        sa_json_str(out, s->pattern);
        fputs(", \"file\": ", out);
        sa_json_str(out, s->file);
        fprintf(out, ", \"line\": %u, \"leaks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", s->line,
                s->leaks, s->bytes);
    }
    fputc(']', out);
}

static void json_growth(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    fputs(",\n \"growth\": ", out);
    if (!o->have_max_growth) {
        fputs("null", out);
        return;
    }
    fprintf(out, "{\"max_growth\": %" PRIu64 ", \"exceeded\": %s, \"processes\": [",
            o->max_growth, r->failed & SA_KIND_BIT(SA_LEAK_GROWTH) ? "true" : "false");
    const char *sep = "";
    for (size_t i = 0; i < r->nprocs; i++) {
        const sa_leak_proc *p = &r->procs[i];
        if (!p->checked)
            continue;
        fprintf(out, "%s{\"pid\": %" PRIu32 ", \"baseline\": %s", sep, p->pid,
                p->baseline ? "true" : "false");
        sep = ",\n  ";
        if (p->baseline) {
            fprintf(out, ", \"baseline_bytes\": %" PRIu64 ", \"exit_bytes\": %" PRIu64
                    ", \"growth_bytes\": %" PRId64 ", \"exceeded\": %s, \"diff\": ",
                    p->baseline->total_size, p->exit->total_size, p->growth,
                    p->growth_exceeded ? "true" : "false");
            json_diff(out, p, o);
        }
        fputc('}', out);
    }
    fputs("]}", out);
}

static void json_processes(FILE *out, const sa_check_result *r)
{
    fputs(",\n \"processes\": [", out);
    for (size_t i = 0; i < r->nprocs; i++) {
        const sa_leak_proc *p = &r->procs[i];
        fprintf(out, "%s{\"pid\": %" PRIu32 ", \"checked\": %s, \"exe\": ", i ? ", " : "",
                p->pid, p->checked ? "true" : "false");
        sa_json_str(out, p->exe);
        fputs(", \"cmdline\": ", out);
        sa_json_str(out, p->cmdline);
        fputc('}', out);
    }
    fputc(']', out);
}

void sa_leak_write_json(FILE *out, const sa_check_result *r, const sa_check_opts *o,
                        const char *program, int exit_status, int status)
{
    unsigned rep = reported(o);
    fputs("{\"program\": ", out);
    sa_json_str(out, program);
    if (exit_status >= 0)
        fprintf(out, ", \"exit_status\": %d", exit_status);
    else
        fputs(", \"exit_status\": null", out);
    fprintf(out, ", \"passed\": %s, \"exitcode\": %d, \"status\": %d, \"not_checked\": ",
            r->passed ? "true" : "false", o->exitcode, status);
    sa_json_str(out, r->not_checked[0] ? r->not_checked : NULL);
    fputs(", \"fail_on\": ", out);
    json_kinds(out, o->fail);
    fputs(", \"show\": ", out);
    json_kinds(out, rep);
    fputs(", \"failed\": ", out);
    json_kinds(out, r->failed);
    json_summary(out, r, rep);
    fputs(",\n \"leaks\": [", out);
    const char *sep = "\n  ";
    for (size_t i = 0; i < r->nprocs; i++)
        for (size_t j = 0; j < r->procs[i].nleaks; j++) {
            fputs(sep, out);
            json_leak(out, &r->procs[i], &r->procs[i].leaks[j], o);
            sep = ",\n  ";
        }
    fputc(']', out);
    json_suppressions(out, &o->supp);
    json_growth(out, r, o);
    json_processes(out, r);
    fputs("}\n", out);
}

/* ---- HTML ------------------------------------------------------------ */

/* The page (out_html.c) draws the JSON report: the lost blocks by kind
 * and call site, each with its stack. */
typedef struct html_leak {
    const sa_check_result *r;
    const sa_check_opts *o;
    const char *program;
    int exit_status, status;
} html_leak;

static void html_leak_data(FILE *out, void *ctx)
{
    const html_leak *h = ctx;
    fputs("{\"kind\": \"leak\", \"report\": ", out);
    sa_leak_write_json(out, h->r, h->o, h->program, h->exit_status, h->status);
    fputs("}", out);
}

void sa_leak_write_html(FILE *out, const sa_check_result *r, const sa_check_opts *o,
                        const char *program, int exit_status, int status)
{
    html_leak h = {r, o, program, exit_status, status};
    sa_html_page(out, "leak", html_leak_data, &h);
}

/* ---- JUnit XML ------------------------------------------------------ */

/* Text for XML 1.0 attributes and content: markup characters escaped,
 * characters XML forbids (most C0 controls) and invalid UTF-8 replaced by
 * U+FFFD, so the document always parses. */
static void xml_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&': fputs("&amp;", out); break;
            case '<': fputs("&lt;", out); break;
            case '>': fputs("&gt;", out); break;
            case '"': fputs("&quot;", out); break;
            case '\'': fputs("&apos;", out); break;
            case '\n': fputs("&#10;", out); break;
            case '\t': fputs("&#9;", out); break;
            default:
                if (c < 0x20 || c == 0x7f)
                    fputs("\xef\xbf\xbd", out);
                else
                    fputc((int)c, out);
            }
            p++;
            continue;
        }
        int n = sa_utf8_len(p);
        /* XML 1.0 also excludes U+FFFE and U+FFFF. */
        if (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)
            n = 0;
        p += sa_utf8_put(out, p, n, "\xef\xbf\xbd");
    }
}

/* Everything printed into a string, then escaped. */
static void xml_printed(FILE *out, void (*fn)(FILE *, const sa_leak *), const sa_leak *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        sa_oom();
    fn(m, l);
    fclose(m);
    xml_str(out, buf);
    free(buf);
}

/* Whether leak l is a failing JUnit test case: not suppressed, of a kind
 * that fails the check, within --top of its kind (counted in per). */
static int junit_case(const sa_leak *l, const sa_check_opts *o, size_t *per)
{
    if (l->supp >= 0 || !(o->fail & SA_KIND_BIT(l->kind)))
        return 0;
    if (o->top && per[l->kind] >= o->top)
        return 0;
    per[l->kind]++;
    return 1;
}

static void junit_leak(FILE *out, const sa_leak_proc *p, const sa_leak *l)
{
    char b[40], n[40];
    fprintf(out, "    <testcase classname=\"snapalloc.leak.%s\" name=\"",
            sa_leak_kind_name(l->kind));
    xml_printed(out, print_site, l);
    fprintf(out, "\">\n      <failure message=\"%s: %s bytes in %s blocks\" "
            "type=\"leak\">", sa_leak_kind_label(l->kind),
            sa_leak_commas(b, sizeof b, l->bytes), sa_leak_commas(n, sizeof n, l->blocks));
    fprintf(out, "pid %" PRIu32 ", %" PRIu32 " stack%s, the largest:&#10;", p->pid,
            l->nstacks, l->nstacks == 1 ? "" : "s");
    xml_printed(out, print_frames, l);
    fputs("</failure>\n    </testcase>\n", out);
}

/* The failing test cases of p's leaks, written when out is not NULL;
 * returns how many there are. */
static size_t junit_leaks(FILE *out, const sa_leak_proc *p, const sa_check_opts *o)
{
    size_t per[SA_LEAK_NCLASSES] = {0}, cases = 0;
    for (size_t j = 0; j < p->nleaks; j++) {
        if (!junit_case(&p->leaks[j], o, per))
            continue;
        cases++;
        if (out)
            junit_leak(out, p, &p->leaks[j]);
    }
    return cases;
}

static void junit_growth(FILE *out, const sa_leak_proc *p, const sa_check_opts *o)
{
    char g[40], m[40];
    uint64_t mag = p->growth < 0 ? -(uint64_t)p->growth : (uint64_t)p->growth;
    fprintf(out, "    <testcase classname=\"snapalloc.growth\" name=\"pid %" PRIu32 "\"", p->pid);
    if (p->growth_exceeded && (o->fail & SA_KIND_BIT(SA_LEAK_GROWTH)))
        fprintf(out, ">\n      <failure message=\"growth: %s%s bytes since the baseline, "
                "budget %s bytes\" type=\"growth\"/>\n    </testcase>\n",
                p->growth < 0 ? "-" : "+", sa_leak_commas(g, sizeof g, mag),
                sa_leak_commas(m, sizeof m, o->max_growth));
    else
        fputs("/>\n", out);
}

void sa_leak_write_junit(FILE *out, const sa_check_result *r, const sa_check_opts *o)
{
    /* Count first: the attributes come before the cases. */
    size_t tests = 0, failures = 0, leaks = 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        const sa_leak_proc *p = &r->procs[i];
        leaks += junit_leaks(NULL, p, o);
        if (o->have_max_growth && p->checked && p->baseline) {
            tests++;
            failures += p->growth_exceeded && (o->fail & SA_KIND_BIT(SA_LEAK_GROWTH));
        }
    }
    int errors = r->not_checked[0] != 0;
    tests += leaks || errors ? leaks + errors : 1;
    failures += leaks;

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"snapalloc check\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%d\">\n", tests, failures, errors);
    fprintf(out, "  <testsuite name=\"snapalloc check\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%d\" skipped=\"0\">\n", tests, failures, errors);
    if (errors) {
        fputs("    <testcase classname=\"snapalloc.check\" name=\"not checked\">\n"
              "      <error message=\"", out);
        xml_str(out, r->not_checked);
        fputs("\" type=\"not-checked\"/>\n    </testcase>\n", out);
    }
    for (size_t i = 0; i < r->nprocs; i++) {
        const sa_leak_proc *p = &r->procs[i];
        junit_leaks(out, p, o);
        if (o->have_max_growth && p->checked && p->baseline)
            junit_growth(out, p, o);
    }
    if (!leaks && !errors)
        fputs("    <testcase classname=\"snapalloc.leak\" name=\"no leaks\"/>\n", out);
    fputs("  </testsuite>\n</testsuites>\n", out);
}
