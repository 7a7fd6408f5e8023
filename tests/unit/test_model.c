/* test_model.c - the grouping model of `show` and `diff` (tools/model.c):
 * snapshots built in memory, symbolized by a stub (a frame's offset picks
 * a symbol from a table), and the exact groups, sizes, counts, order,
 * totals, --top, folding, filters, cumulative, traceback, whole stacks
 * and diff matching that the model builds from them.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include "model.h"
#include "symbolize.h"

/* ---- The stub symbolizer --------------------------------------------- */

/* Offsets (modulo 1000, so that a second "run" at other addresses
 * symbolizes alike) name these frames. */
enum {
    F_MALLOC = 1, F_XMALLOC = 2, F_SNAPALLOC = 3,
    F_CONFIG42 = 10, F_CONFIG50 = 11, F_PARSE = 20, F_MAIN = 30, F_HELPER = 40,
    F_UNSYM_A = 50, F_UNSYM_B = 51, F_INLINED = 60,
};

static sa_sym_frame table[100][2];
static uint32_t table_n[100];

static void sym(int off, const char *function, const char *file, uint32_t line,
                const char *module)
{
    sa_sym_frame *f = &table[off][table_n[off]++];
    f->function = sa_intern(function);
    f->file = sa_intern(file);
    f->line = line;
    f->module = sa_intern(module);
    f->module_path = sa_intern(module);
    f->offset = (uint64_t)off;
}

static void setup_symbols(void)
{
    sym(F_MALLOC, "malloc", "??", 0, "libc.so.6");
    sym(F_XMALLOC, "xmalloc", "wrap.c", 5, "app");
    sym(F_SNAPALLOC, "sa_hook", "hook.c", 9, "libsnapalloc.so");
    sym(F_CONFIG42, "load_config", "config.c", 42, "app");
    sym(F_CONFIG50, "load_config", "config.c", 50, "app");
    sym(F_PARSE, "parse", "parse.c", 7, "app");
    sym(F_MAIN, "main", "main.c", 3, "app");
    sym(F_HELPER, "helper", "foo.c", 9, "libfoo.so");
    sym(F_UNSYM_A, "app+0x32", "??", 0, "app");
    sym(F_UNSYM_B, "app+0x33", "??", 0, "app");
    sym(F_INLINED, "inl_inner", "inl.h", 3, "app");   /* inlined into ... */
    sym(F_INLINED, "inl_outer", "inl.c", 20, "app");  /* ... this one */
}

static void *stub_open(const sa_snapshot *snap)
{
    return (void *)snap;
}

static uint32_t stub_lookup(void *s, const sa_snap_frame *frame, const sa_sym_frame **out)
{
    (void)s;
    uint64_t off = frame->offset % 1000;
    cr_assert(off < 100 && table_n[off] > 0, "no stub symbol for offset %lu",
              (unsigned long)frame->offset);
    *out = table[off];
    return table_n[off];
}

static void stub_close(void *s)
{
    (void)s;
}

static const sa_sym_ops stub_ops = {stub_open, stub_lookup, stub_close};

/* ---- Snapshots in memory ---------------------------------------------- */

#define MAXSTACKS 16

typedef struct test_snap {
    sa_snapshot snap;
    sa_snap_stack stacks[MAXSTACKS];
    sa_snap_frame frames[MAXSTACKS][8];
} test_snap;

/* Adds a stack of frames (innermost first, 0-terminated), shifted by base. */
static void add_stack(test_snap *t, uint64_t base, uint64_t size, uint64_t count, ...)
{
    uint32_t s = t->snap.nstacks++;
    cr_assert(s < MAXSTACKS);
    va_list ap;
    va_start(ap, count);
    uint32_t n = 0;
    for (int off; (off = va_arg(ap, int)) != 0;)
        t->frames[s][n++] = (sa_snap_frame){.module = 0, .offset = base + (uint64_t)off};
    va_end(ap);
    t->stacks[s] = (sa_snap_stack){.nframes = n, .frames = t->frames[s], .size = size,
                                   .count = count};
    t->snap.stacks = t->stacks;
}

static sa_model_opts opts(sa_group_by by)
{
    return (sa_model_opts){.by = by, .sym = &stub_ops};
}

/* The four stacks most tests use: two sites in config.c, one in parse.c. */
static void basic_snap(test_snap *t)
{
    memset(t, 0, sizeof *t);
    add_stack(t, 0, 100, 2, F_MALLOC, F_CONFIG42, F_MAIN, 0);
    add_stack(t, 0, 50, 1, F_MALLOC, F_CONFIG42, F_PARSE, F_MAIN, 0);
    add_stack(t, 0, 300, 3, F_MALLOC, F_CONFIG50, F_MAIN, 0);
    add_stack(t, 0, 150, 5, F_MALLOC, F_PARSE, F_MAIN, 0);
    add_stack(t, 0, 0, 0, F_MALLOC, F_HELPER, 0);   /* freed: no group */
}

static void expect_group(const sa_model *m, size_t i, const char *function, uint32_t line,
                         uint64_t size, uint64_t count)
{
    cr_assert(i < m->ngroups, "group %zu of %zu", i, m->ngroups);
    const sa_group *g = m->groups[i];
    cr_expect_str_eq(g->key[0]->function, function, "group %zu", i);
    cr_expect_eq(g->key[0]->line, line, "group %zu line", i);
    cr_expect_eq(g->size[0], size, "group %zu (%s) size", i, function);
    cr_expect_eq(g->count[0], count, "group %zu (%s) count", i, function);
}

TestSuite(model, .init = setup_symbols);

/* ---- show ----------------------------------------------------------- */

Test(model, by_line_groups_sorted_by_size_then_count)
{
    test_snap t;
    basic_snap(&t);
    sa_model_opts o = opts(SA_BY_LINE);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 3);
    cr_expect_eq(m.nshown, 3);
    cr_expect_eq(m.diff, 0);
    expect_group(&m, 0, "load_config", 50, 300, 3);
    expect_group(&m, 1, "parse", 7, 150, 5);         /* 150 bytes: more blocks first */
    expect_group(&m, 2, "load_config", 42, 150, 3);
    cr_expect_str_eq(m.groups[2]->key[0]->file, "config.c");
    cr_expect_eq(m.groups[0]->nkey, 1);
    cr_expect_eq(m.size[0], 600);
    cr_expect_eq(m.count[0], 11);
    sa_model_free(&m);
}

Test(model, by_function_file_module)
{
    test_snap t;
    basic_snap(&t);
    sa_model_opts of = opts(SA_BY_FUNCTION);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &of);
    cr_assert_eq(m.ngroups, 2);
    expect_group(&m, 0, "load_config", 0, 450, 6);
    expect_group(&m, 1, "parse", 0, 150, 5);
    cr_expect_null(m.groups[0]->key[0]->file, "by function keeps no file");
    sa_model_free(&m);

    sa_model_opts ofile = opts(SA_BY_FILE);
    sa_model_build(&m, &t.snap, NULL, &ofile);
    cr_assert_eq(m.ngroups, 2);
    cr_expect_str_eq(m.groups[0]->key[0]->file, "config.c");
    cr_expect_eq(m.groups[0]->size[0], 450);
    sa_model_free(&m);

    sa_model_opts omod = opts(SA_BY_MODULE);
    sa_model_build(&m, &t.snap, NULL, &omod);
    cr_assert_eq(m.ngroups, 1);
    cr_expect_str_eq(m.groups[0]->key[0]->module, "app");
    cr_expect_eq(m.groups[0]->size[0], 600);
    cr_expect_eq(m.groups[0]->count[0], 11);
    sa_model_free(&m);
}

Test(model, top_and_rest)
{
    test_snap t;
    basic_snap(&t);
    sa_model_opts o = opts(SA_BY_LINE);
    o.top = 1;
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 3);
    cr_expect_eq(m.nshown, 1);
    uint64_t size[2], count[2];
    sa_model_rest(&m, size, count);
    cr_expect_eq(size[0], 300);
    cr_expect_eq(count[0], 8);
    cr_expect_eq(size[1], 0);
    sa_model_free(&m);
}

Test(model, cumulative_charges_each_function_once_per_stack)
{
    test_snap t;
    basic_snap(&t);
    add_stack(&t, 0, 7, 1, F_MALLOC, F_PARSE, F_PARSE, F_MAIN, 0);   /* recursion */
    sa_model_opts o = opts(SA_BY_FUNCTION);
    o.cumulative = 1;
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 3);
    expect_group(&m, 0, "main", 0, 607, 12);
    expect_group(&m, 1, "load_config", 0, 450, 6);
    expect_group(&m, 2, "parse", 0, 207, 7);
    sa_model_free(&m);
}

Test(model, folding_and_wrappers)
{
    test_snap t;
    memset(&t, 0, sizeof t);
    add_stack(&t, 0, 64, 1, F_SNAPALLOC, F_MALLOC, F_XMALLOC, F_PARSE, F_MAIN, 0);
    add_stack(&t, 0, 8, 1, F_MALLOC, 0);   /* only allocation frames: its own site */
    sa_model_opts o = opts(SA_BY_FUNCTION);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 2);
    expect_group(&m, 0, "xmalloc", 0, 64, 1);
    expect_group(&m, 1, "malloc", 0, 8, 1);
    sa_model_free(&m);

    static const char *wrappers[] = {"xmalloc"};
    sa_model_opts ow = opts(SA_BY_FUNCTION);
    ow.wrappers = wrappers;
    ow.nwrappers = 1;
    sa_model_build(&m, &t.snap, NULL, &ow);
    cr_assert_eq(m.ngroups, 2);
    expect_group(&m, 0, "parse", 0, 64, 1);
    sa_model_free(&m);
}

Test(model, include_exclude_all_frames)
{
    test_snap t;
    basic_snap(&t);
    static const char *config[] = {"config.c"}, *loader[] = {"load_config"},
                      *mainfn[] = {"main"};
    sa_model m;

    sa_model_opts inc = opts(SA_BY_LINE);
    inc.include = config;
    inc.ninclude = 1;
    sa_model_build(&m, &t.snap, NULL, &inc);
    cr_assert_eq(m.ngroups, 2);
    expect_group(&m, 0, "load_config", 50, 300, 3);
    expect_group(&m, 1, "load_config", 42, 150, 3);
    sa_model_free(&m);

    sa_model_opts exc = opts(SA_BY_LINE);
    exc.exclude = loader;
    exc.nexclude = 1;
    sa_model_build(&m, &t.snap, NULL, &exc);
    cr_assert_eq(m.ngroups, 1);
    expect_group(&m, 0, "parse", 7, 150, 5);
    sa_model_free(&m);

    /* main is never the call site: kept only when every frame is tested. */
    sa_model_opts site = opts(SA_BY_LINE);
    site.include = mainfn;
    site.ninclude = 1;
    sa_model_build(&m, &t.snap, NULL, &site);
    cr_expect_eq(m.ngroups, 0);
    sa_model_free(&m);

    sa_model_opts all = opts(SA_BY_LINE);
    all.include = mainfn;
    all.ninclude = 1;
    all.all_frames = 1;
    sa_model_build(&m, &t.snap, NULL, &all);
    cr_expect_eq(m.ngroups, 3);
    cr_expect_eq(m.size[0], 600);
    sa_model_free(&m);
}

Test(model, traceback_groups_whole_stacks)
{
    test_snap t;
    basic_snap(&t);
    add_stack(&t, 0, 1, 1, F_MALLOC, F_CONFIG42, F_MAIN, 0);   /* same stack as the first */
    sa_model_opts o = opts(SA_BY_TRACEBACK);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 4);
    expect_group(&m, 0, "load_config", 50, 300, 3);
    expect_group(&m, 1, "parse", 7, 150, 5);
    expect_group(&m, 2, "load_config", 42, 101, 3);
    expect_group(&m, 3, "load_config", 42, 50, 1);
    cr_expect_eq(m.groups[2]->nkey, 2, "malloc folded out of the key");
    cr_expect_str_eq(m.groups[2]->key[1]->function, "main");
    cr_expect_eq(m.groups[3]->nkey, 3);
    cr_expect_str_eq(m.groups[3]->key[1]->function, "parse");
    sa_model_free(&m);
}

Test(model, whole_stacks_by_file_merge_runs)
{
    test_snap t;
    memset(&t, 0, sizeof t);
    add_stack(&t, 0, 10, 1, F_MALLOC, F_CONFIG42, F_CONFIG50, F_PARSE, F_MAIN, 0);
    sa_model_opts o = opts(SA_BY_FILE);
    o.whole_stacks = 1;
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 1);
    cr_assert_eq(m.groups[0]->nkey, 3, "config.c twice is one frame");
    cr_expect_str_eq(m.groups[0]->key[0]->file, "config.c");
    cr_expect_str_eq(m.groups[0]->key[1]->file, "parse.c");
    cr_expect_str_eq(m.groups[0]->key[2]->file, "main.c");
    sa_model_free(&m);

    sa_model_opts of = opts(SA_BY_FUNCTION);
    of.whole_stacks = 1;
    sa_model_build(&m, &t.snap, NULL, &of);
    cr_assert_eq(m.ngroups, 1);
    cr_expect_eq(m.groups[0]->nkey, 4, "by function: load_config twice stays twice");
    sa_model_free(&m);
}

Test(model, unsymbolized_frames_group_by_address)
{
    test_snap t;
    memset(&t, 0, sizeof t);
    add_stack(&t, 0, 10, 1, F_MALLOC, F_UNSYM_A, F_MAIN, 0);
    add_stack(&t, 0, 20, 1, F_MALLOC, F_UNSYM_B, F_MAIN, 0);
    add_stack(&t, 0, 5, 1, 0);   /* recorded without frames */
    sa_model_opts o = opts(SA_BY_LINE);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 3);
    expect_group(&m, 0, "app+0x33", 0, 20, 1);
    cr_expect_eq(m.groups[0]->key[0]->offset, F_UNSYM_B, "no line: the offset is the key");
    expect_group(&m, 1, "app+0x32", 0, 10, 1);
    expect_group(&m, 2, "??", 0, 5, 1);
    sa_model_free(&m);

    sa_model_opts om = opts(SA_BY_MODULE);
    sa_model_build(&m, &t.snap, NULL, &om);
    cr_assert_eq(m.ngroups, 2);
    cr_expect_str_eq(m.groups[0]->key[0]->module, "app");
    cr_expect_eq(m.groups[0]->size[0], 30);
    sa_model_free(&m);
}

Test(model, inlined_frames_expand)
{
    test_snap t;
    memset(&t, 0, sizeof t);
    add_stack(&t, 0, 10, 1, F_MALLOC, F_INLINED, F_MAIN, 0);
    sa_model_opts o = opts(SA_BY_TRACEBACK);
    sa_model m;
    sa_model_build(&m, &t.snap, NULL, &o);
    cr_assert_eq(m.ngroups, 1);
    cr_assert_eq(m.groups[0]->nkey, 3);
    cr_expect_str_eq(m.groups[0]->key[0]->function, "inl_inner");
    cr_expect_str_eq(m.groups[0]->key[1]->function, "inl_outer");
    cr_expect_str_eq(m.groups[0]->key[2]->function, "main");
    sa_model_free(&m);
}

/* ---- diff ----------------------------------------------------------- */

/* old: config.c:42 100, parse 500, config.c:50 40; new (another run, at
 * other addresses): config.c:42 400, parse 450, helper 120, config.c:50
 * 40. */
static void diff_snaps(test_snap *a, test_snap *b)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    add_stack(a, 0, 100, 1, F_MALLOC, F_CONFIG42, F_MAIN, 0);
    add_stack(a, 0, 500, 5, F_MALLOC, F_PARSE, F_MAIN, 0);
    add_stack(a, 0, 40, 4, F_MALLOC, F_CONFIG50, F_MAIN, 0);
    add_stack(b, 5000, 400, 4, F_MALLOC, F_CONFIG42, F_MAIN, 0);
    add_stack(b, 5000, 450, 3, F_MALLOC, F_PARSE, F_MAIN, 0);
    add_stack(b, 5000, 120, 2, F_MALLOC, F_HELPER, F_MAIN, 0);
    add_stack(b, 5000, 40, 4, F_MALLOC, F_CONFIG50, F_MAIN, 0);
}

Test(model, diff_matches_by_symbol_and_orders_by_change)
{
    test_snap a, b;
    diff_snaps(&a, &b);
    sa_model_opts o = opts(SA_BY_LINE);
    sa_model m;
    sa_model_build(&m, &a.snap, &b.snap, &o);
    cr_expect_eq(m.diff, 1);
    cr_assert_eq(m.ngroups, 4, "matched across addresses: 4 sites, not 7");
    const char *order[] = {"load_config", "helper", "parse", "load_config"};
    int64_t sd[] = {300, 120, -50, 0};
    int64_t cd[] = {3, 2, -2, 0};
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(m.groups[i]->key[0]->function, order[i], "group %zu", i);
        cr_expect_eq(sa_group_size_diff(m.groups[i]), sd[i], "group %zu size diff", i);
        cr_expect_eq(sa_group_count_diff(m.groups[i]), cd[i], "group %zu count diff", i);
    }
    cr_expect_eq(m.groups[0]->size[0], 100);
    cr_expect_eq(m.groups[0]->size[1], 400);
    cr_expect_eq(m.groups[1]->size[0], 0, "helper is new");
    cr_expect_eq(m.size[0], 640);
    cr_expect_eq(m.size[1], 1010);
    sa_model_free(&m);
}

Test(model, diff_min_diff_drops_before_top)
{
    test_snap a, b;
    diff_snaps(&a, &b);
    sa_model_opts o = opts(SA_BY_LINE);
    o.min_diff = 100;
    o.top = 1;
    sa_model m;
    sa_model_build(&m, &a.snap, &b.snap, &o);
    cr_assert_eq(m.ngroups, 2);
    cr_expect_eq(m.nshown, 1);
    cr_expect_str_eq(m.groups[1]->key[0]->function, "helper");
    uint64_t size[2], count[2];
    sa_model_rest(&m, size, count);
    cr_expect_eq(size[0], 0);
    cr_expect_eq(size[1], 120);
    cr_expect_eq(count[1], 2);
    sa_model_free(&m);
}

Test(model, group_by_names)
{
    sa_group_by by;
    cr_expect_eq(sa_group_by_parse("traceback", &by), 0);
    cr_expect_eq(by, SA_BY_TRACEBACK);
    cr_expect_eq(sa_group_by_parse("lines", &by), -1);
    cr_expect_str_eq(sa_group_by_name(SA_BY_FILE), "file");
}
