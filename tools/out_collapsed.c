/* out_collapsed.c - collapsed stacks, the input format of flame-graph
 * tools (flamegraph.pl, inferno, speedscope): one line per distinct
 * stack, its frames outermost first joined by ';', then the live bytes;
 * diff prints the old and the new bytes, difffolded.pl's two-column form,
 * which flamegraph.pl draws as a differential flame graph.  The model
 * groups whole stacks for it (whole_stacks).
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "symbolize.h"

/* s in a collapsed-stack frame: ';' separates frames and a line ends the
 * record, so ';' becomes ':' and control characters '?'. */
static void collapsed_str(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, out);
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* One frame of a collapsed stack: "function" (--by function, the
 * default), "function (file.c:123)" (--by line), the file's base name or
 * the module; module+0xOFFSET for a frame without symbols. */
static void collapsed_frame(FILE *out, const sa_key_frame *k, sa_group_by by)
{
    switch (by) {
    case SA_BY_LINE:
    case SA_BY_TRACEBACK:
        collapsed_str(out, k->function);
        if (k->line) {
            fputs(" (", out);
            collapsed_str(out, base_name(k->file));
            fprintf(out, ":%" PRIu32 ")", k->line);
        } else if (!sa_sym_unsymbolized(k->function, k->module)) {
            fputs(" (", out);
            collapsed_str(out, k->module);
            fprintf(out, "+0x%" PRIx64 ")", k->offset);
        }
        break;
    case SA_BY_FUNCTION:
        collapsed_str(out, k->function);
        break;
    case SA_BY_FILE:
        collapsed_str(out, k->module ? k->module : base_name(k->file));
        break;
    case SA_BY_MODULE:
        collapsed_str(out, k->module);
        break;
    }
}

/* A group's frames, outermost first (the key is innermost first). */
static void collapsed_stack(FILE *out, const sa_group *g, sa_group_by by)
{
    for (uint32_t i = g->nkey; i-- > 0;) {
        collapsed_frame(out, g->key[i], by);
        if (i)
            fputc(';', out);
    }
}

static void collapsed_show(FILE *out, const sa_model *m, const sa_report_src *snap)
{
    (void)snap;
    for (size_t i = 0; i < m->nshown; i++) {
        collapsed_stack(out, m->groups[i], m->by);
        fprintf(out, " %" PRIu64 "\n", m->groups[i]->size[0]);
    }
}

static void collapsed_diff(FILE *out, const sa_model *m, const sa_report_src *old_snap,
                           const sa_report_src *new_snap)
{
    (void)old_snap;
    (void)new_snap;
    for (size_t i = 0; i < m->nshown; i++) {
        collapsed_stack(out, m->groups[i], m->by);
        fprintf(out, " %" PRIu64 " %" PRIu64 "\n", m->groups[i]->size[0], m->groups[i]->size[1]);
    }
}

const sa_output_format sa_out_collapsed = {
    .name = "collapsed",
    .whole_stacks = 1,
    .show = collapsed_show,
    .diff = collapsed_diff,
};
