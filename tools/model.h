/* model.h - the grouping model behind `show`, `diff` and check's growth
 * report: from one snapshot (show) or two (diff), the list of groups (key
 * frames, size and count in each snapshot), filtered, sorted, cut to
 * --top, with totals.  Nothing here prints; the output formats (report.h)
 * read the model.  The model is Python's tracemalloc:
 * Snapshot.statistics() and Snapshot.compare_to().
 *
 * Symbolization goes through a small interface (sa_sym_ops, symbolize.h)
 * so that the command uses libdwfl and a unit test a stub.
 */
#ifndef SA_TOOLS_MODEL_H
#define SA_TOOLS_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "format/snapshot.h"
#include "symbolize.h"

typedef enum sa_group_by {
    SA_BY_LINE, SA_BY_FUNCTION, SA_BY_FILE, SA_BY_MODULE, SA_BY_TRACEBACK,
} sa_group_by;

typedef struct sa_model_opts {
    sa_group_by by;
    int cumulative;            /* charge every frame of a stack (not traceback) */
    size_t top;                /* groups shown; 0: all */
    const char **include;      /* fnmatch patterns; a trace is kept if any matches */
    size_t ninclude;
    const char **exclude;      /* a trace is dropped if any matches */
    size_t nexclude;
    int all_frames;            /* filters test every frame, not the call site */
    const char **wrappers;     /* extra allocation wrappers to fold (fnmatch) */
    size_t nwrappers;
    uint64_t min_diff;         /* diff: drop groups with |size_diff| below */
    /* Group whole stacks whatever `by` is (a flame graph's input); `by`
     * then names their frames, and with file or module a run of frames in
     * one file or module becomes one frame. */
    int whole_stacks;
    size_t max_nodes;          /* HTML: flame-graph frames kept per snapshot (0: 4000) */
    const sa_sym_ops *sym;     /* the symbolizer (sa_sym_dwfl in the command) */
} sa_model_opts;

/* One frame of a group's key; fields outside the grouping are NULL/0. */
typedef struct sa_key_frame {
    const char *function, *file, *module;
    uint32_t line;
    uint64_t offset;             /* part of the key only for line == 0 */
    uint64_t shown_offset;       /* informational (JSON) */
    const char *module_path;     /* informational (JSON) */
    int unloaded;                /* the module was dlclose'd (part of the key with module) */
    int inlined;                 /* informational (pprof): inlined into the next
                                    frame, one address with it */
} sa_key_frame;

typedef struct sa_group {
    uint32_t nkey;               /* 1, or the stack's frames (whole stacks) */
    const sa_key_frame **key;    /* innermost (the call site) first */
    uint64_t size[2], count[2];  /* [0] the only/old snapshot, [1] new */
    /* the model's own */
    uint64_t hash;
    uint32_t last_stack;         /* cumulative: charged once per stack */
    int last_snap;
} sa_group;

typedef struct sa_model {
    sa_group_by by;
    int cumulative;
    int diff;                    /* built from two snapshots */
    sa_group **groups;           /* sorted (show: size, count; diff: |size_diff|,
                                    size, |count_diff|; ties by key) */
    size_t ngroups;              /* after --min-diff */
    size_t nshown;               /* the first nshown are shown (--top) */
    uint64_t size[2], count[2];  /* totals over the groups */
    /* The snapshots' sampling intervals (0: exact; else sizes and counts
     * are estimates, format/snapshot.h). */
    uint64_t sample_interval[2];
    struct sa_group_table *table;
} sa_model;

/* Sampling error (doc/snapshot-format.md): a site of X estimated bytes at
 * interval T has a standard deviation of at most sqrt(T X) (the blocks
 * larger than T, recorded always, have none); the two snapshots of a diff
 * are sampled independently.  A change within SA_SAMPLE_NOISE standard
 * deviations is reported as noise, not growth. */
#define SA_SAMPLE_NOISE 2.0
static inline int sa_model_sampled(const sa_model *m)
{
    return m->sample_interval[0] || m->sample_interval[1];
}
double sa_group_size_sd(const sa_model *m, const sa_group *g, int w);
double sa_group_diff_sd(const sa_model *m, const sa_group *g);
/* Whether g's size change is within the sampling error (never when exact). */
int sa_group_within_error(const sa_model *m, const sa_group *g);

/* Builds the model of old (show: new_snap NULL) or of old -> new. */
void sa_model_build(sa_model *m, const sa_snapshot *old_snap, const sa_snapshot *new_snap,
                    const sa_model_opts *o);
void sa_model_free(sa_model *m);

/* Sums over the groups not shown (from nshown on). */
void sa_model_rest(const sa_model *m, uint64_t size[2], uint64_t count[2]);

static inline int64_t sa_group_size_diff(const sa_group *g)
{
    return (int64_t)(g->size[1] - g->size[0]);
}
static inline int64_t sa_group_count_diff(const sa_group *g)
{
    return (int64_t)(g->count[1] - g->count[0]);
}

/* "line", "function", ...; sa_group_by_parse returns 0 or -1. */
const char *sa_group_by_name(sa_group_by by);
int sa_group_by_parse(const char *s, sa_group_by *out);

/* Symbolize every frame of st (inlined chains expand, innermost first)
 * into *frames, grown as needed (*cap entries); *first is set to the
 * call site: the index of the first frame after the leading allocation
 * functions (malloc, operator new, libsnapalloc, o->wrappers), or the
 * outermost frame if the stack holds only those.  Returns the number of
 * frames, 0 for a stack recorded without any.  sym is o->sym's.
 *
 * With site_only, symbolization stops at the call site (the frames
 * returned end there): grouping by site needs no more, and every frame
 * left out is debug information not read (the first libc frame costs
 * decompressing libc's whole DWARF, ~0.1 s). */
size_t sa_model_symbolize(void *sym, const sa_snap_stack *st, const sa_model_opts *o,
                          const sa_sym_frame ***frames, size_t *cap, size_t *first,
                          int site_only);

#endif
