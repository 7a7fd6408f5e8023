/* leak/leak.c - the leak check's configuration: the SNAPALLOC_CHECK*
 * variables (sa_leak_cfg) and what they change in the tracer's.
 *
 * The rest of the check, one concern a file (leak/leak.h has the sequence
 * at exit):
 *   leak/scrub.c        clearing what the program has not written
 *   leak/scan.c         the block index, the mark phase, cliques, classes
 *   leak/scan_roots.c   the scan's run: the roots around stopping the world
 *   leak/world.c        stopping and resuming the other threads
 *   leak/roots.c        where the roots are (modules, maps, stacks, TLS)
 *   leak/heuristics.c   memcheck's interior-pointer heuristics
 *   leak/files.c        the check directory and the class snapshot files
 *   leak/analyzer.c     the standalone verdict: `snapalloc check --analyze`
 *   leak/check.c        the exit-time check, the baseline and the warmup
 */
#include "leak/leak.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_parse.h"
#include "common/fmt.h"
#include "common/os.h"

sa_leak_config sa_leak_cfg;

/* ---- Configuration ------------------------------------------------------ */


/* The variables, their ranges, defaults and warnings are the table's
 * (common/config.c); what the check implies for the tracer is here. */
void sa_leak_config_read(sa_leak_config *c, sa_trace_config *t, int fd)
{
    /* Field by field: a memset would touch (and make resident) the 8 KiB
     * of string buffers in every process that never checks. */
    c->dir_given = 0;
    c->warmup_ns = 0;
    c->dir[0] = '\0';
    c->options[0] = '\0';
    sa_config_read_group(SA_CONFIG_LEAK, c, fd);   /* CHECK, CHECK_HEURISTICS */
    sa_leak_scrub_on = c->enabled;
    if (!c->enabled)
        return;
    sa_os_keep_stderr();   /* the report is printed after atexit handlers */
    if (t->depth == 0) {
        const char *tv = secure_getenv("SNAPALLOC_TRACE");
        if (tv && strcmp(tv, "0") == 0)
            sa_warn_setting(fd, "SNAPALLOC_TRACE", tv,
                     "the leak check needs tracing; tracing with 32 frames");
        t->depth = SA_TRACE_DEFAULT_FRAMES;
    }
    /* A sampled leak scan cannot be exact: the check traces every block. */
    if (t->sample) {
        sa_warn_setting(fd, "SNAPALLOC_SAMPLE", secure_getenv("SNAPALLOC_SAMPLE"),
                        "the leak check traces every allocation; not sampling");
        t->sample = 0;
    }
    t->exact = 1;
    /* The check needs the records, not the counts, while the program runs
     * (trace/trace.c's lazy counting); peak snapshots need the counts. */
    /* Not the high-water mark that tracing keeps by default: the check
     * writes no peak file unless SNAPALLOC_PEAK asks. */
    if (t->peak_defaulted)
        t->peak_step = 0;
    t->lazy_counters = !t->peak_step;
    /* The check writes its own exit snapshot. */
    if (!secure_getenv("SNAPALLOC_SNAPSHOT_AT_EXIT"))
        t->at_exit = 0;
    sa_config_read_group(SA_CONFIG_LEAK_ON, c, fd);   /* CHECK_DIR, _WARMUP, _OPTIONS */
    c->dir_given = c->dir[0] != '\0';
}
