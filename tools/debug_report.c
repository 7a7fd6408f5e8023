/* debug_report.c - debug mode's raw report file, printed symbolized: a
 * frame line "snapalloc: debug:     #N 0xADDR MODULE+0xOFFSET" becomes
 * "snapalloc: debug:     #N FUNCTION FILE:LINE" (one line per inlined
 * call), every other line is printed as it is.  The modules are those the
 * frames name, without build ids (the program has just run). */
#include "debug_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "format/snapshot.h"
#include "cli.h"
#include "options.h"
#include "spawn.h"
#include "symbolize.h"
#include "util.h"

#define FRAME_PREFIX "snapalloc: debug:     #"
#define END_LINE "snapalloc: debug: end of report"
/* Guard pages' faulting stack (src/debug/guard.c): its frame #0 is the
 * faulting instruction itself, not a return address, so it is looked up
 * at its own offset (the symbolizer looks a return address up at
 * offset - 1, inside its call). */
#define FAULT_SECTION "snapalloc: debug: accessed at:"

/* The index of module path in snap, added if new. */
static uint32_t module_index(sa_snapshot *snap, const char *path, size_t len)
{
    for (uint32_t i = 0; i < snap->nmodules; i++)
        if (strlen(snap->modules[i].path) == len && memcmp(snap->modules[i].path, path, len) == 0)
            return i;
    snap->modules = sa_xrealloc(snap->modules, snap->nmodules + 1, sizeof *snap->modules);
    sa_snap_module *m = &snap->modules[snap->nmodules];
    memset(m, 0, sizeof *m);
    m->path = sa_xcalloc(len + 1, 1);
    memcpy(m->path, path, len);
    return snap->nmodules++;
}

/* Parse "N 0xADDR PATH+0xOFF" after the prefix; 0 if not a frame. */
static int parse_frame(sa_snapshot *snap, const char *s, unsigned *n, sa_snap_frame *f)
{
    char *end;
    *n = (unsigned)strtoul(s, &end, 10);
    if (end == s || *end != ' ')
        return 0;
    const char *path = strchr(end + 1, ' ');
    if (!path)
        return 0;
    path++;
    const char *plus = strrchr(path, '+');
    if (!plus || strncmp(plus, "+0x", 3) != 0)
        return 0;
    f->offset = strtoull(plus + 3, NULL, 16);
    f->module = module_index(snap, path, (size_t)(plus - path));
    return 1;
}

static void print_frame(sa_symbolizer *sym, const sa_snap_frame *f, unsigned n, FILE *out)
{
    const sa_sym_frame *sf;
    uint32_t k = sa_sym_lookup(sym, f, &sf);
    for (uint32_t i = 0; i < k; i++) {
        fprintf(out, FRAME_PREFIX "%u %s", n, sf[i].function);
        if (sf[i].line)
            fprintf(out, " %s:%" PRIu32, sf[i].file, sf[i].line);
        else
            fprintf(out, " (%s)", sf[i].module);
        fputs(sf[i].inlined ? " (inlined)\n" : "\n", out);
    }
}

/* The file's lines, and the modules its frames name (first pass). */
typedef struct report_lines {
    char **line;
    size_t n;
} report_lines;

static void read_lines(FILE *in, report_lines *r, sa_snapshot *snap)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        unsigned n;
        sa_snap_frame f;
        if (line[len - 1] == '\n')
            line[--len] = 0;
        if (strncmp(line, FRAME_PREFIX, strlen(FRAME_PREFIX)) == 0)
            parse_frame(snap, line + strlen(FRAME_PREFIX), &n, &f);
        r->line = sa_xrealloc(r->line, r->n + 1, sizeof *r->line);
        r->line[r->n++] = line;
        line = NULL;
        cap = 0;
    }
    free(line);
}

int sa_debug_report_print(const char *path, FILE *out)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    sa_snapshot snap;
    memset(&snap, 0, sizeof snap);
    report_lines r = {NULL, 0};
    read_lines(in, &r, &snap);
    fclose(in);
    sa_symbolizer *sym = sa_sym_new(&snap);
    int reports = 0, in_fault = 0;
    for (size_t i = 0; i < r.n; i++) {
        unsigned n;
        sa_snap_frame f;
        const char *line = r.line[i];
        if (strncmp(line, FRAME_PREFIX, strlen(FRAME_PREFIX)) == 0 &&
            parse_frame(&snap, line + strlen(FRAME_PREFIX), &n, &f)) {
            if (in_fault && n == 0)
                f.offset++;
            print_frame(sym, &f, n, out);
        } else {
            in_fault = strcmp(line, FAULT_SECTION) == 0;
            fprintf(out, "%s\n", line);
        }
        if (strcmp(line, END_LINE) == 0)
            reports++;
        free(r.line[i]);
    }
    free(r.line);
    sa_sym_free(sym);
    for (uint32_t i = 0; i < snap.nmodules; i++)
        free(snap.modules[i].path);
    free(snap.modules);
    return reports;
}

const char *sa_debug_option(const char *arg)
{
    const char *v = arg ? arg : "1";
    sa_config_value val;
    if (sa_option_check("--debug", v, &val) != 0 || val.i == 0)
        sa_die("--debug", "'%s' is not 1 or report", v);
    return v;
}

void sa_debug_file_make(char *path, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, len, "%s/snapalloc-debug.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        sa_die(path, "cannot create the debug report file: %s", strerror(errno));
    close(fd);
    sa_set_env("SNAPALLOC_DEBUG_FILE", path);
}

int sa_debug_file_show(const char *path)
{
    fflush(stdout);
    int n = sa_debug_report_print(path, stderr);
    if (n)
        fprintf(stderr, "snapalloc: debug: %d report%s\n", n, n == 1 ? "" : "s");
    unlink(path);
    return n;
}
