/* fuzz_snapshot.c - a libFuzzer harness for the snapshot reader and the
 * report path of `snapalloc show`/`diff`: every input is parsed as a
 * snapshot (sa_snapshot_parse, the code `show` runs on a file); one that
 * parses is reported as text, JSON, collapsed stacks and pprof, grouped by line
 * and by traceback, and diffed against itself, into /dev/null.  Every
 * accepted file has passed its checksum, so each input is tried a second
 * time with its last 8 bytes set to the right checksum: the mutations then
 * reach the structure checks and the report code, not just the checksum.
 *
 * Version-3 files are compressed containers, whose mutations mostly stop
 * at zlib; so the corpus also holds their logical files (inflated), and
 * every input that is not a container is tried once more wrapped in one
 * (checksum fixed, deflated): the mutations then reach the version-3
 * structure checks.
 *
 * Built and run for a bounded time by tests/fuzz/fuzz.sh (clang
 * -fsanitize=fuzzer,address,undefined), seeded with real snapshots.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report.h"
#include "format/snapshot.h"

/* The command's helper the report code could reach (cli.c, not linked). */
void sa_die(const char *what, const char *fmt, ...)
{
    (void)fmt;
    fprintf(stderr, "fuzz: sa_die(%s) reached from the report path\n", what);
    abort();
}

static FILE *sink;

static void report(const sa_snapshot *s, sa_group_by by, const sa_output_format *f)
{
    sa_model_opts o;
    sa_model_opts_init(&o);
    o.by = by;
    o.whole_stacks = f->whole_stacks;
    sa_report_show(sink, f, "fuzz.snap", s, &o);
}

/* FNV-1a 64, the snapshot checksum (doc/snapshot-format.md). */
static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void one(const uint8_t *data, size_t size, int with_report);
static void one_wrapped(const uint8_t *data, size_t size, int with_report);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    /* Reporting symbolizes with the modules the snapshot names (libc's
     * debug information): 30x the cost of a parse.  One input in 8, chosen
     * by its contents (so a crash reproduces), goes on to the reports. */
    int with_report = (fnv1a(data, size) & 7) == 0;
    one(data, size, with_report);
    if (size >= 16) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            return 0;
        memcpy(fixed, data, size);
        uint64_t h = fnv1a(fixed, size - 8);
        for (int i = 0; i < 8; i++)
            fixed[size - 8 + i] = (uint8_t)(h >> (8 * i));
        one(fixed, size, with_report);
        if (memcmp(data, "SNAPALZ", size < 7 ? size : 7) != 0)
            one_wrapped(fixed, size, with_report);
        free(fixed);
    }
    return 0;
}

/* data deflated into a version-3 container and parsed. */
static void one_wrapped(const uint8_t *data, size_t size, int with_report)
{
    uLongf cap = compressBound((uLong)size);
    uint8_t *b = malloc(24 + cap);
    if (!b)
        return;
    memcpy(b, "SNAPALZ\0\3\0\0\0\0\0\0\0", 16);
    for (int i = 0; i < 8; i++)
        b[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
    if (compress2(b + 24, &cap, data, (uLong)size, 1) == Z_OK)
        one(b, 24 + cap, with_report);
    free(b);
}

static void one(const uint8_t *data, size_t size, int with_report)
{
    char err[256];
    sa_snapshot *s = sa_snapshot_parse(data, size, err, sizeof err);
    if (!s) {
        if (!err[0])
            abort();   /* a rejection always says why */
        return;
    }
    if (!with_report) {
        sa_snapshot_free(s);
        return;
    }
    report(s, SA_BY_LINE, &sa_out_text);
    report(s, SA_BY_TRACEBACK, &sa_out_json);
    report(s, SA_BY_FUNCTION, &sa_out_collapsed);
    report(s, SA_BY_TRACEBACK, &sa_out_pprof);
    report(s, SA_BY_FUNCTION, &sa_out_html);
    sa_model_opts o;
    sa_model_opts_init(&o);
    o.top = 0;
    sa_report_diff(sink, &sa_out_text, "a.snap", s, "b.snap", s, &o);
    sa_snapshot_free(s);
}
