/* leak.h - the analysis behind `snapalloc check`: reading the leak sets a
 * process wrote at exit (PID.definite.snap ... PID.done, see
 * doc/leak-report.md), grouping their stacks by call site, applying
 * suppressions and the growth budget, and the verdict.  Printing (text,
 * JSON, JUnit) is in leak_report.c.
 */
#ifndef SA_TOOLS_LEAK_H
#define SA_TOOLS_LEAK_H

#include <stdint.h>
#include <stdio.h>
#include "leak/heur.h"
#include "model.h"
#include "format/snapshot.h"
#include "suppress.h"
#include "symbolize.h"

/* Leak classes, in report order, numbered as the library numbers them
 * (src/leak.h): the file of class k holds sequence k.  Arrays indexed by
 * class have SA_LEAK_NCLASSES entries, the first unused. */
enum {
    SA_LEAK_DEFINITE = 1, SA_LEAK_INDIRECT = 2, SA_LEAK_POSSIBLE = 3, SA_LEAK_REACHABLE = 4,
    SA_LEAK_NCLASSES = 5,
    SA_LEAK_GROWTH = SA_LEAK_NCLASSES,   /* a bit of the --fail-on mask only */
};
#define SA_LEAK_FIRST SA_LEAK_DEFINITE
#define SA_KIND_BIT(k) (1u << (k))
/* The bits of the four classes (growth aside). */
#define SA_LEAK_CLASS_BITS (SA_KIND_BIT(SA_LEAK_NCLASSES) - SA_KIND_BIT(SA_LEAK_FIRST))

/* check's files carry SA_SNAP_TRIGGER_LEAK (the classes) or
 * SA_SNAP_TRIGGER_BASELINE (snapshot.h). */
/* Heuristic h's file, PID.heuristic-NAME.snap (written only when the
 * heuristic reached a block), holds sequence SA_CHECK_HEUR_SEQ + h. */
#define SA_CHECK_HEUR_SEQ 5

/* The exit status of a check that could not check (nothing was loaded, a
 * process was killed before its scan, no directory, no analyzer): the gate
 * fails closed, with a status distinct from a usage error (2) and from the
 * leak status (23 by default). */
#define SA_CHECK_NOT_CHECKED 24

/* "definite", "indirect", ... (--fail-on/--show and JSON names). */
const char *sa_leak_kind_name(int kind);
/* "definitely lost", "indirectly lost", "possibly lost", "still reachable". */
const char *sa_leak_kind_label(int kind);
/* Parses "definite,possible,..." into a mask; growth allowed when
 * allow_growth.  Returns 0 or -1. */
int sa_leak_kinds_parse(const char *s, int allow_growth, unsigned *mask);

typedef struct sa_leak_total {
    uint64_t bytes, blocks;
} sa_leak_total;

/* One call site of one class in one process. */
typedef struct sa_leak {
    int kind;
    uint64_t bytes, blocks;
    uint32_t nstacks;          /* distinct stacks merged into it */
    sa_sym_frame *frames;      /* the largest of them, from the call site outward */
    uint32_t nframes;          /* 0: allocated before tracing started */
    int supp;                  /* index of the suppression that matched, or -1 */
} sa_leak;

typedef struct sa_leak_proc {
    uint32_t pid;
    int checked;               /* PID.done was there */
    const char *exe, *cmdline; /* from its leak files (NULL if not checked) */
    sa_leak *leaks;            /* by kind, then largest first */
    size_t nleaks;
    sa_leak_total total[SA_LEAK_NCLASSES];       /* not suppressed */
    sa_leak_total suppressed[SA_LEAK_NCLASSES];
    /* Still reachable only through heuristic h (memcheck's "reachable via
     * heuristic"): part of total[SA_LEAK_REACHABLE], suppressions aside. */
    sa_leak_total heur[SA_LEAK_NHEUR];
    /* --max-growth */
    char *baseline_path, *exit_path;
    sa_snapshot *baseline, *exit;             /* NULL: no baseline taken */
    int64_t growth;                           /* exit - baseline, live bytes */
    int growth_exceeded;
} sa_leak_proc;

typedef struct sa_check_opts {
    unsigned show;             /* kinds reported (fail kinds are added) */
    unsigned fail;             /* kinds (and SA_LEAK_GROWTH) that fail */
    int have_max_growth;
    uint64_t max_growth;
    size_t top;                /* call sites per kind in text and JUnit; 0: all */
    int exitcode;
    sa_model_opts ropts;       /* --wrapper, and --top for the growth diff */
    sa_supp_list supp;
} sa_check_opts;

typedef struct sa_check_result {
    const char *dir;
    sa_leak_proc *procs;       /* by pid */
    size_t nprocs, nchecked;
    sa_leak_total total[SA_LEAK_NCLASSES];   /* over processes, not suppressed */
    sa_leak_total suppressed;              /* over the kinds considered */
    sa_leak_total heur[SA_LEAK_NHEUR];     /* over processes */
    unsigned failed;           /* kinds (and SA_LEAK_GROWTH) that failed */
    int passed;                /* nothing failed and not_checked is empty */
    char not_checked[512];     /* why the check could not check ("" if it did) */
} sa_check_result;

/* Read and analyze every set in dir.  Unreadable or inconsistent input
 * exits with status 2 after one line. */
void sa_leak_analyze(const char *dir, sa_check_opts *o, sa_check_result *r);

/* Frees what sa_leak_analyze allocated in r. */
void sa_check_result_free(sa_check_result *r);

/* Output (leak_report.c).  Text goes to stderr; program/exit_status are
 * what `check -- PROGRAM` ran (NULL/-1 with --analyze). */
void sa_leak_print_text(FILE *out, const sa_check_result *r, const sa_check_opts *o);
void sa_leak_write_json(FILE *out, const sa_check_result *r, const sa_check_opts *o,
                        const char *program, int exit_status, int status);
void sa_leak_write_junit(FILE *out, const sa_check_result *r, const sa_check_opts *o);
/* The JSON report drawn by the HTML page (out_html.c). */
void sa_leak_write_html(FILE *out, const sa_check_result *r, const sa_check_opts *o,
                        const char *program, int exit_status, int status);

/* 1095936 -> "1,095,936". */
const char *sa_leak_commas(char *buf, size_t len, uint64_t v);

#endif
