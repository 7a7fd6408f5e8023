/* test_config.c - the table of SNAPALLOC_* variables (common/config.c):
 * for every variable, valid, boundary and garbage values fed to the
 * library's reader (the module's own: sa_trace_config_read,
 * sa_leak_config_read, sa_debug_config_read, the table reader for THP and STATS) and to the
 * check the command runs (sa_config_var_check; for its options,
 * tools/options.c's sa_option_check) are accepted or refused alike, with
 * the warning line the table gives; every SNAPALLOC_* name in a string
 * literal of src/ is in the table, every name the command sets too, and
 * every documented one is in the README and snapalloc(3).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "debug/debug_mode.h"
#include "leak/leak.h"
#include "options.h"
#include "trace/config.h"

/* ---- The library's side ------------------------------------------------- */

static sa_trace_config tcfg;
static sa_leak_config lcfg;
static int int_cfg;

static void unset_all(void)
{
    for (unsigned i = 0; i < sa_config_nvars; i++)
        unsetenv(sa_config_vars[i].name);
}

/* Run v's module reader with NAME=value (the check on for the variables
 * read only then); the warnings it wrote go to out.  Returns the struct
 * the value went into. */
static void *library_read(const sa_config_var *v, const char *value, char *out, size_t len)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    unset_all();
    if (v->group == SA_CONFIG_LEAK_ON)
        setenv("SNAPALLOC_CHECK", "1", 1);
    setenv(v->name, value, 1);
    void *dest = NULL;
    switch ((sa_config_group)v->group) {
    case SA_CONFIG_TRACE: sa_trace_config_read(&tcfg, fds[1]); dest = &tcfg; break;
    case SA_CONFIG_LEAK: case SA_CONFIG_LEAK_ON:
        sa_trace_config_read(&tcfg, fds[1]);
        sa_leak_config_read(&lcfg, &tcfg, fds[1]);
        dest = &lcfg;
        break;
    case SA_CONFIG_ALLOC: case SA_CONFIG_STATS:
        sa_config_read_group((sa_config_group)v->group, &int_cfg, fds[1]);
        dest = &int_cfg;
        break;
    case SA_CONFIG_DEBUG: {
        int depth = 0, at_exit = 0;
        sa_debug_config_read(fds[1], &depth, &at_exit);
        dest = &sa_debug_cfg;
        break;
    }
    case SA_CONFIG_ON_USE: break;
    }
    close(fds[1]);
    ssize_t n = read(fds[0], out, len - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    unset_all();
    return dest;
}

/* The line sa_warn_setting prints. */
static void warning_line(char *buf, size_t len, const char *name, const char *value,
                         const char *why)
{
    char shown[80];
    size_t i = 0;
    for (; value[i] && i < 64; i++)
        shown[i] = value[i] >= 0x20 && value[i] < 0x7f ? value[i] : '?';
    strcpy(shown + i, value[i] ? "..." : "");
    snprintf(buf, len, "snapalloc: %s=\"%s\": %s\n", name, shown, why);
}

/* Does the field at dest hold what the table makes of s (NULL: zero)? */
static int field_holds(const sa_config_var *v, const char *dest, const char *s)
{
    sa_config_value want = {.u = 0};
    if (s)
        cr_assert_eq(sa_config_var_check(v->name, s, &want, NULL), 0);
    switch ((sa_config_kind)v->kind) {
    case SA_CONFIG_STRING: case SA_CONFIG_NAME: return strcmp(dest, s ? s : "") == 0;
    case SA_CONFIG_SECONDS: case SA_CONFIG_BYTES: case SA_CONFIG_PEAK:
        return memcmp(dest, &want.u, sizeof want.u) == 0;
    case SA_CONFIG_HEURISTICS: return memcmp(dest, &want.mask, sizeof want.mask) == 0;
    default: return memcmp(dest, &want.i, sizeof want.i) == 0;
    }
}

/* Does the library take value for v?  Judged by its warning line and by
 * what the module stored: the value, or else the default (no module may
 * read a variable on its own).  *stored: the int it stored (INT kinds). */
static int library_accepts(const sa_config_var *v, const char *value, int *stored)
{
    static char out[16384];
    if (v->group == SA_CONFIG_ON_USE) {
        setenv(v->name, value, 1);
        int ok = sa_config_var_get(v->name) != NULL;
        unsetenv(v->name);
        return ok;
    }
    char *dest = library_read(v, value, out, sizeof out);
    char *field = dest + v->offset;
    memcpy(stored, field, sizeof *stored);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "snapalloc: %s=\"", v->name);
    int warned = strstr(out, prefix) != NULL;
    /* A silent variable is taken iff stored as given. */
    int taken = v->warning ? !warned : strcmp(field, value) == 0;
    if (taken) {
        cr_assert(field_holds(v, field, value) || (!*value && (v->flags & SA_CONFIG_EMPTY_IS_UNSET)),
                  "%s=\"%.40s\": taken but not stored as the table parses it", v->name, value);
        return 1;
    }
    cr_assert(field_holds(v, field, v->bad_value ? v->bad_value : v->dflt),
              "%s=\"%.40s\": refused, but the field is not the default", v->name, value);
    if (!v->warning)
        return 0;
    /* Refused: exactly the table's line (the command's err). */
    const char *err = NULL;
    cr_assert_neq(sa_config_var_check(v->name, value, NULL, &err), 0,
                  "%s=\"%s\": the library warns, the command's check accepts", v->name, value);
    char line[8192];
    warning_line(line, sizeof line, v->name, value, err);
    cr_assert(strstr(out, line), "%s=\"%s\": warning\n%s\nexpected\n%s", v->name, value, out, line);
    return 0;
}

/* ---- The values tried ----------------------------------------------------- */

static const char *const common_values[] = {
    "", "0", "1", "2", "00", "01", " 1", "1 ", "-1", "+1", "1x", "x", "abc", "0x10", "1e3",
    "128", "129", "1000", "18446744073709551615", "18446744073709551616",
    "0.001", "0.0009", "0.5", "1.", ".5", "1000000000", "1000000000.5", "1000000001",
    "0K", "1K", "64KiB", "1MB", "3m", "1G", "1T", "1KB", "1iB", "17179869184G",
    "USR1", "SIGUSR2", "usr1", "winch", "TERM", "SIGSEGV", "KILL", "10", "15", "34", "40",
    "64", "65", "SIGRTMIN", "NOPE",
    "libunwind", "fp", "FP", "libunwind ", "all", "none", "stdstring", "stdstring,length64",
    "newarray,multipleinheritance", "stdstring,", ",", "all,none", "bogus",
    "auto", "off", "AUTO", "auto ", "offf",
    "report", "Report", "report ", "1report",
    "snap.%p", "/tmp/x/%e.%n.snap", "a b", "run-1.2_x", "run/1", "r\x01", "\xc3\xa9",
};

/* Values around v's own limits: for numbers min - 1 .. max + 1, for
 * strings lengths min - 1 .. max + 1. */
static size_t boundary_values(const sa_config_var *v, char vals[][8200])
{
    size_t n = 0;
    if (v->kind == SA_CONFIG_INT) {
        uint64_t around[] = {v->min - 1, v->min, v->min + 1, v->max - 1, v->max, v->max + 1};
        for (size_t i = v->min ? 0 : 1; i < 6; i++)
            snprintf(vals[n++], 8200, "%llu", (unsigned long long)around[i]);
    } else if (v->kind == SA_CONFIG_STRING || v->kind == SA_CONFIG_NAME) {
        uint64_t around[] = {v->min - 1, v->min, v->max, v->max + 1};
        for (size_t i = v->min ? 0 : 1; i < 4; i++) {
            memset(vals[n], 'a', around[i]);
            vals[n++][around[i]] = '\0';
        }
    }
    return n;
}

/* Every value tried for v: the common ones, v's boundaries and default. */
static size_t values_for(const sa_config_var *v, const char **list, char bounds[][8200])
{
    size_t n = 0, nb = boundary_values(v, bounds);
    for (size_t i = 0; i < sizeof common_values / sizeof *common_values; i++)
        list[n++] = common_values[i];
    for (size_t i = 0; i < nb; i++)
        list[n++] = bounds[i];
    if (v->dflt)
        list[n++] = v->dflt;
    return n;
}

static char bounds[8][8200];
static const char *values[128];

/* ---- Library and command agree ------------------------------------------- */

Test(config, every_variable_same_on_both_sides)
{
    for (unsigned i = 0; i < sa_config_nvars; i++) {
        const sa_config_var *v = &sa_config_vars[i];
        size_t n = values_for(v, values, bounds);
        unsigned accepted = 0, refused = 0;
        for (size_t k = 0; k < n; k++) {
            int stored;
            int lib = library_accepts(v, values[k], &stored);
            int cmd = sa_config_var_check(v->name, values[k], NULL, NULL) == 0;
            cr_assert_eq(lib, cmd, "%s=\"%.40s\": library %s, command %s", v->name, values[k],
                         lib ? "accepts" : "refuses", cmd ? "accepts" : "refuses");
            lib ? accepted++ : refused++;
        }
        /* Each variable's values include both kinds: the test says something. */
        cr_assert(accepted >= 1 && refused >= 1, "%s: %u accepted, %u refused", v->name,
                  accepted, refused);
    }
}

Test(config, every_option_same_as_its_variable)
{
    cr_assert_geq(sa_option_nvars, 7);
    for (unsigned i = 0; i < sa_option_nvars; i++) {
        const sa_option_var *o = &sa_option_vars[i];
        const sa_config_var *v = sa_config_var_find(o->var);
        cr_assert(v, "%s sets %s, which the library does not read", o->option, o->var);
        size_t n = values_for(v, values, bounds);
        for (size_t k = 0; k < n; k++) {
            int stored = 0;
            int lib = library_accepts(v, values[k], &stored);
            /* The one difference allowed: an option's floor (-n 0). */
            int expect = lib && !(v->kind == SA_CONFIG_INT && (uint64_t)stored < o->floor);
            int cmd = sa_option_check(o->option, values[k], NULL) == 0;
            cr_assert_eq(cmd, expect, "%s '%.40s': command %s, library (%s) %s", o->option,
                         values[k], cmd ? "accepts" : "refuses", v->name,
                         lib ? "accepts" : "refuses");
        }
    }
    cr_assert_neq(sa_option_check("-n", "0", NULL), 0, "-n 0: tracing off is not an option");
    cr_assert_eq(sa_option_check("-n", "128", NULL), 0);
    cr_assert_neq(sa_option_check("--no-such", "1", NULL), 0);
}

Test(config, defaults_parse_and_follow_earlier_ints)
{
    for (unsigned i = 0; i < sa_config_nvars; i++) {
        const sa_config_var *v = &sa_config_vars[i];
        cr_assert(v->warning || !v->refused, "%s", v->name);
        if (v->dflt)
            cr_assert_eq(sa_config_var_check(v->name, v->dflt, NULL, NULL), 0,
                         "%s: default \"%s\" does not parse", v->name, v->dflt);
        if (!v->default_follows)
            continue;
        const sa_config_var *f = sa_config_var_find(v->default_follows);
        cr_assert(f && f < v && f->group == v->group && f->kind == SA_CONFIG_INT, "%s", v->name);
        for (unsigned j = 0; j < i; j++)
            cr_assert_str_neq(sa_config_vars[j].name, v->name, "%s twice", v->name);
    }
    cr_assert_null(sa_config_var_find("SNAPALLOC_NOPE"));
}

/* SNAPSHOT_AT_EXIT's default and warning follow SNAPALLOC_TRACE. */
Test(config, default_follows_trace)
{
    char out[512];
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    unset_all();
    setenv("SNAPALLOC_TRACE", "8", 1);
    setenv("SNAPALLOC_SNAPSHOT_AT_EXIT", "yes", 1);
    sa_trace_config_read(&tcfg, fds[1]);
    close(fds[1]);
    ssize_t n = read(fds[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    unset_all();
    cr_assert_eq(tcfg.depth, 8);
    cr_assert_eq(tcfg.at_exit, 1);
    cr_assert_str_eq(out, "snapalloc: SNAPALLOC_SNAPSHOT_AT_EXIT=\"yes\": not 0 or 1; using 1\n");
}

/* ---- Every name in the sources is in the table ----------------------------- */

/* Call found(name) for each SNAPALLOC_* name inside a string literal of
 * the C text s (comments and character constants skipped). */
static void literal_names(const char *s, const char *file, void (*found)(const char *, const char *))
{
    for (const char *p = s; *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '/') {
            p += strcspn(p, "\n");
        } else if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            p += *p != '\0';
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                } else if (strncmp(p, "SNAPALLOC_", 10) == 0) {
                    char name[128];
                    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                    snprintf(name, sizeof name, "%.*s", (int)n, p);
                    if (name[n - 1] != '_')   /* "SNAPALLOC_": the prefix itself */
                        found(name, file);
                    p += n - 1;
                }
            }
            p += *p != '\0';
        } else {
            p++;
        }
    }
}

static unsigned names_seen;

static void in_table(const char *name, const char *file)
{
    names_seen++;
    cr_assert(sa_config_var_find(name), "%s (in a string of %s) is not in common/config.c's table",
              name, file);
}

static void in_table_or_command_own(const char *name, const char *file)
{
    if (strcmp(name, "SNAPALLOC_LIB") != 0)   /* the command's own (tools/spawn.c) */
        in_table(name, file);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void scan_dir(const char *dir, void (*found)(const char *, const char *))
{
    DIR *d = opendir(dir);
    cr_assert(d, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        size_t len = strlen(e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (e->d_type == DT_DIR)
            scan_dir(path, found);
        else if (len > 2 && e->d_name[len - 2] == '.' && strchr("ch", e->d_name[len - 1]))
            literal_names(slurp(path), path, found);
    }
    closedir(d);
}

Test(config, every_name_in_the_sources_is_in_the_table)
{
    names_seen = 0;
    scan_dir(TOP_SRCDIR "/src", in_table);
    /* The table's own literals and the modules' reads: many. */
    cr_assert_geq(names_seen, sa_config_nvars);
    scan_dir(TOP_SRCDIR "/tools", in_table_or_command_own);
}

Test(config, the_scanner_sees_literals_only)
{
    names_seen = 0;
    literal_names("/* \"SNAPALLOC_A\" */ // \"SNAPALLOC_B\"\n'\"' x(\"SNAPALLOC_\");", "t", in_table);
    cr_assert_eq(names_seen, 0);
    literal_names("f(\"SNAPALLOC_TRACE=1 SNAPALLOC_PEAK\")", "t", in_table);
    cr_assert_eq(names_seen, 2);
}

Test(config, documented_variables_are_in_the_manuals)
{
    const char *docs[] = {TOP_SRCDIR "/README", TOP_SRCDIR "/doc/snapalloc.3"};
    for (size_t d = 0; d < 2; d++) {
        const char *text = slurp(docs[d]);
        for (unsigned i = 0; i < sa_config_nvars; i++)
            if (!(sa_config_vars[i].flags & SA_CONFIG_INTERNAL))
                cr_assert(strstr(text, sa_config_vars[i].name), "%s is not in %s",
                          sa_config_vars[i].name, docs[d]);
    }
}
