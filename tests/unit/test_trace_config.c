/* test_trace_config.c - the tracer's environment parsers, the snapshot
 * path template and the warnings for malformed variables. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "trace/config.h"
#include "trace/unwind.h"

Test(trace_config, depth)
{
    int v = -1;
    cr_assert_eq(sa_config_parse_depth("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(sa_config_parse_depth("1", &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(sa_config_parse_depth("128", &v), 0);
    cr_assert_eq(v, 128);
    cr_assert_eq(sa_config_parse_depth("032", &v), 0);
    cr_assert_eq(v, 32);
    v = 7;
    const char *bad[] = {"", "abc", "-1", "+5", " 5", "5 ", "129", "1000", "12x",
                         "99999999999999999999999", "0x10", "1.5", "default"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sa_config_parse_depth(bad[i], &v), -1, "accepted \"%s\"", bad[i]);
    cr_assert_eq(sa_config_parse_depth(NULL, &v), -1);
    cr_assert_eq(v, 7, "a failed parse must not touch the output");
}

Test(trace_config, bool)
{
    int v = -1;
    cr_assert_eq(sa_config_parse_bool("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(sa_config_parse_bool("1", &v), 0);
    cr_assert_eq(v, 1);
    const char *bad[] = {"", "2", "yes", "10", "01", "1 ", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sa_config_parse_bool(bad[i], &v), -1, "accepted \"%s\"", bad[i]);
}

Test(trace_config, signal)
{
    int v = 0;
    cr_assert_eq(sa_config_parse_signal("USR1", &v), 0);
    cr_assert_eq(v, SIGUSR1);
    cr_assert_eq(sa_config_parse_signal("SIGUSR2", &v), 0);
    cr_assert_eq(v, SIGUSR2);
    cr_assert_eq(sa_config_parse_signal("sigusr1", &v), 0);
    cr_assert_eq(v, SIGUSR1);
    cr_assert_eq(sa_config_parse_signal("winch", &v), 0);
    cr_assert_eq(v, SIGWINCH);
    cr_assert_eq(sa_config_parse_signal("CHLD", &v), 0);
    cr_assert_eq(v, SIGCHLD);
    cr_assert_eq(sa_config_parse_signal("10", &v), 0);
    cr_assert_eq(v, 10);
    char rt[16];   /* room for any int: no truncation warning */
    snprintf(rt, sizeof rt, "%d", SIGRTMIN + 1);
    cr_assert_eq(sa_config_parse_signal(rt, &v), 0);
    cr_assert_eq(v, SIGRTMIN + 1);
    v = 99;
    const char *bad[] = {"", "USR3", "SIG", "0", "32", "65", "-10", "10x", "USR1 ",
                         " USR1", "99999999999999999999", "SIGSIGUSR1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sa_config_parse_signal(bad[i], &v), -1, "accepted \"%s\"", bad[i]);
    /* Signals whose default action ends or stops the program, faults,
     * KILL/STOP and the leak check's stop signal: refused. */
    char ours[16];
    snprintf(ours, sizeof ours, "%d", SIGRTMIN + 6);
    const char *refused[] = {"TERM", "SIGTERM", "int", "HUP", "QUIT", "PIPE", "ALRM", "TSTP",
                             "TTIN", "TTOU", "PROF", "IO", "SIGKILL", "KILL", "STOP", "SEGV",
                             "SIGSEGV", "BUS", "FPE", "ILL", "9", "11", "15", "19", ours};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        cr_assert_eq(sa_config_parse_signal(refused[i], &v), SA_SIGNAL_REFUSED,
                     "did not refuse \"%s\"", refused[i]);
    cr_assert_eq(v, 99);
}

Test(trace_config, seconds)
{
    uint64_t ns = 0;
    cr_assert_eq(sa_config_parse_seconds("10", &ns), 0);
    cr_assert_eq(ns, 10000000000ull);
    cr_assert_eq(sa_config_parse_seconds("0.5", &ns), 0);
    cr_assert_eq(ns, 500000000ull);
    cr_assert_eq(sa_config_parse_seconds("1.25", &ns), 0);
    cr_assert_eq(ns, 1250000000ull);
    cr_assert_eq(sa_config_parse_seconds("0.001", &ns), 0);
    cr_assert_eq(ns, 1000000ull);
    cr_assert_eq(sa_config_parse_seconds("0.0000000019", &ns), -1, "below 1 ms");
    cr_assert_eq(sa_config_parse_seconds("2.0000000009", &ns), 0, "digits beyond ns are ignored");
    cr_assert_eq(ns, 2000000000ull);
    cr_assert_eq(sa_config_parse_seconds("1000000000", &ns), 0);
    const char *bad[] = {"", "0", "0.0", "0.0009", "-1", "1.", ".5", "1e3", "abc", "1s", " 1",
                         "1000000001", "18446744073709551616", "1..2", "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sa_config_parse_seconds(bad[i], &ns), -1, "accepted \"%s\"", bad[i]);
}

Test(trace_config, bytes)
{
    uint64_t v = 0;
    cr_assert_eq(sa_config_parse_bytes("1", &v), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(sa_config_parse_bytes("4096", &v), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(sa_config_parse_bytes("10K", &v), 0);
    cr_assert_eq(v, 10240);
    cr_assert_eq(sa_config_parse_bytes("3m", &v), 0);
    cr_assert_eq(v, 3u << 20);
    cr_assert_eq(sa_config_parse_bytes("2G", &v), 0);
    cr_assert_eq(v, 2ull << 30);
    cr_assert_eq(sa_config_parse_bytes("18446744073709551615", &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    /* As the command's options: an optional B, or iB after a multiplier. */
    cr_assert_eq(sa_config_parse_bytes("10KB", &v), 0);
    cr_assert_eq(v, 10240);
    cr_assert_eq(sa_config_parse_bytes("64KiB", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(sa_config_parse_bytes("100B", &v), 0);
    cr_assert_eq(v, 100);
    const char *bad[] = {"", "0", "0K", "-1", "K", "10iB", "10KBB", "10T", "1.5M", " 1", "1 ",
                         "18446744073709551616", "17179869184G", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sa_config_parse_bytes(bad[i], &v), -1, "accepted \"%s\"", bad[i]);
}

Test(trace_config, unwind_and_template)
{
    int v = -1;
    cr_assert_eq(sa_config_parse_unwind("libunwind", &v), 0);
    cr_assert_eq(v, SA_UNWIND_LIBUNWIND);
    cr_assert_eq(sa_config_parse_unwind("fp", &v), 0);
    cr_assert_eq(v, SA_UNWIND_FP);
    cr_assert_eq(sa_config_parse_unwind("FP", &v), -1);
    cr_assert_eq(sa_config_parse_unwind("", &v), -1);
    cr_assert_eq(sa_config_parse_unwind("dwarf", &v), -1);
    cr_assert_eq(sa_config_parse_template("x.snap"), 0);
    cr_assert_eq(sa_config_parse_template(""), -1);
    char *big = malloc(SA_PATH_MAX + 1);
    memset(big, 'a', SA_PATH_MAX);
    big[SA_PATH_MAX] = '\0';
    cr_assert_eq(sa_config_parse_template(big), -1);
    free(big);
}

/* The peak file's name: %n as "peak"; has_n says whether there was one
 * (%%n is not). */
Test(trace_config, expand_peak)
{
    char out[64];
    int has_n = -1;
    cr_assert_eq(sa_config_expand_seq(out, sizeof out, "d/%e.%p.%n.snap", 42, "peak", 7, "prog",
                                      &has_n), (int)strlen("d/prog.42.peak.snap"));
    cr_assert_str_eq(out, "d/prog.42.peak.snap");
    cr_assert_eq(has_n, 1);
    sa_config_expand_seq(out, sizeof out, "t.snap", 42, "peak", 7, "prog", &has_n);
    cr_assert_str_eq(out, "t.snap");
    cr_assert_eq(has_n, 0);
    sa_config_expand_seq(out, sizeof out, "t%%n.snap", 42, "peak", 7, "prog", &has_n);
    cr_assert_str_eq(out, "t%n.snap");
    cr_assert_eq(has_n, 0);
}

Test(trace_config, expand)
{
    char out[64];
    cr_assert_eq(sa_config_expand(out, sizeof out, "snapalloc.%e.%p.%n.snap", 4242, 7, "prog"),
                 (int)strlen("snapalloc.prog.4242.7.snap"));
    cr_assert_str_eq(out, "snapalloc.prog.4242.7.snap");
    sa_config_expand(out, sizeof out, "100%%-%x-%n%", 1, 12, "e");
    cr_assert_str_eq(out, "100%-%x-12%");
    sa_config_expand(out, sizeof out, "/tmp/dir/%n/%n", 1, 3, "e");
    cr_assert_str_eq(out, "/tmp/dir/3/3");
    sa_config_expand(out, sizeof out, "plain", 1, 3, "e");
    cr_assert_str_eq(out, "plain");
    cr_assert_eq(sa_config_expand(out, sizeof out, "", 1, 3, "e"), 0);
    cr_assert_str_eq(out, "");
    /* Exactly fitting, and one byte too long. */
    char small[6];
    cr_assert_eq(sa_config_expand(small, sizeof small, "ab%p", 123, 1, "e"), 5);
    cr_assert_str_eq(small, "ab123");
    cr_assert_eq(sa_config_expand(small, sizeof small, "ab%p", 1234, 1, "e"), -1);
    cr_assert_eq(sa_config_expand(small, sizeof small, "%e", 1, 1, "longname"), -1);
}

Test(trace_config, errno_text)
{
    cr_assert_str_eq(sa_config_errno_text(EACCES), "Permission denied");
    cr_assert_str_eq(sa_config_errno_text(ENOENT), "No such file or directory");
    cr_assert_null(sa_config_errno_text(EHOSTUNREACH));
}

/* Read the environment with stderr redirected to a pipe; return what was
 * printed. */
static char *read_with_warnings(sa_trace_config *c)
{
    static char out[4096];
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    sa_trace_config_read(c, fds[1]);
    close(fds[1]);
    ssize_t n = read(fds[0], out, sizeof out - 1);
    close(fds[0]);
    out[n < 0 ? 0 : n] = '\0';
    return out;
}

static void clear_env(void)
{
    const char *vars[] = {"SNAPALLOC_TRACE", "SNAPALLOC_SNAPSHOT", "SNAPALLOC_SNAPSHOT_AT_EXIT",
                          "SNAPALLOC_SIGNAL", "SNAPALLOC_INTERVAL", "SNAPALLOC_PEAK",
                          "SNAPALLOC_UNWIND"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

Test(trace_config, read_defaults)
{
    static sa_trace_config c;
    clear_env();
    cr_assert_str_eq(read_with_warnings(&c), "");
    cr_assert_eq(c.depth, 0);
    cr_assert_eq(c.at_exit, 0);
    cr_assert_eq(c.signo, 0);
    cr_assert_eq(c.interval_ns, 0);
    cr_assert_eq(c.peak_step, 0);
    cr_assert_eq(c.unwind, SA_UNWIND_LIBUNWIND);
    cr_assert_str_eq(c.tmpl, "snapalloc.%e.%p.%n.snap");
}

Test(trace_config, read_valid)
{
    static sa_trace_config c;
    clear_env();
    setenv("SNAPALLOC_TRACE", "16", 1);
    setenv("SNAPALLOC_SNAPSHOT", "/tmp/x.%n", 1);
    setenv("SNAPALLOC_SIGNAL", "USR2", 1);
    setenv("SNAPALLOC_INTERVAL", "2.5", 1);
    setenv("SNAPALLOC_PEAK", "1M", 1);
    setenv("SNAPALLOC_UNWIND", "fp", 1);
    cr_assert_str_eq(read_with_warnings(&c), "");
    cr_assert_eq(c.depth, 16);
    cr_assert_eq(c.at_exit, 1, "at-exit defaults to on when tracing from the environment");
    cr_assert_eq(c.signo, SIGUSR2);
    cr_assert_eq(c.interval_ns, 2500000000ull);
    cr_assert_eq(c.peak_step, 1u << 20);
    cr_assert_eq(c.unwind, SA_UNWIND_FP);
    cr_assert_str_eq(c.tmpl, "/tmp/x.%n");
    setenv("SNAPALLOC_SNAPSHOT_AT_EXIT", "0", 1);
    read_with_warnings(&c);
    cr_assert_eq(c.at_exit, 0);
    clear_env();
}

/* SNAPALLOC_PEAK: the high-water mark (auto) by default while tracing,
 * not when tracing is off; off and 0 turn it off; a bad value turns it
 * off too, with one line. */
Test(trace_config, peak_auto_by_default)
{
    static sa_trace_config c;
    clear_env();
    setenv("SNAPALLOC_TRACE", "8", 1);
    cr_assert_str_eq(read_with_warnings(&c), "");
    cr_assert_eq(c.peak_step, SA_CONFIG_PEAK_AUTO);
    cr_assert_eq(c.peak_defaulted, 1);
    const char *const off[] = {"off", "0"};
    for (int i = 0; i < 2; i++) {
        setenv("SNAPALLOC_PEAK", off[i], 1);
        cr_assert_str_eq(read_with_warnings(&c), "");
        cr_assert_eq(c.peak_step, 0, "SNAPALLOC_PEAK=%s", off[i]);
        cr_assert_eq(c.peak_defaulted, 0);
    }
    setenv("SNAPALLOC_PEAK", "auto", 1);
    cr_assert_str_eq(read_with_warnings(&c), "");
    cr_assert_eq(c.peak_step, SA_CONFIG_PEAK_AUTO);
    cr_assert_eq(c.peak_defaulted, 0, "asked for: the leak check keeps it");
    setenv("SNAPALLOC_PEAK", "auto2", 1);
    cr_assert_str_eq(read_with_warnings(&c),
        "snapalloc: SNAPALLOC_PEAK=\"auto2\": not auto, off, 0 or a positive byte count (suffixes K, M, G); no peak trigger\n");
    cr_assert_eq(c.peak_step, 0);
    clear_env();
    cr_assert_str_eq(read_with_warnings(&c), "");
    cr_assert_eq(c.peak_step, 0, "no tracing, no peak file");
    clear_env();
}

Test(trace_config, read_garbage_one_line_each)
{
    static sa_trace_config c;
    clear_env();
    setenv("SNAPALLOC_TRACE", "abc", 1);
    cr_assert_str_eq(read_with_warnings(&c),
                     "snapalloc: SNAPALLOC_TRACE=\"abc\": not a number from 0 to 128; tracing stays off\n");
    cr_assert_eq(c.depth, 0);
    cr_assert_eq(c.at_exit, 0);
    clear_env();

    setenv("SNAPALLOC_TRACE", "8", 1);
    setenv("SNAPALLOC_SNAPSHOT_AT_EXIT", "yes", 1);
    setenv("SNAPALLOC_SNAPSHOT", "", 1);
    setenv("SNAPALLOC_SIGNAL", "KILL", 1);
    setenv("SNAPALLOC_INTERVAL", "-1", 1);
    setenv("SNAPALLOC_PEAK", "12Q", 1);
    setenv("SNAPALLOC_UNWIND", "dwarf\x01", 1);
    const char *out = read_with_warnings(&c);
    cr_assert_str_eq(out,
        "snapalloc: SNAPALLOC_SNAPSHOT_AT_EXIT=\"yes\": not 0 or 1; using 1\n"
        "snapalloc: SNAPALLOC_SNAPSHOT=\"\": empty or longer than 4095 bytes; using snapalloc.%e.%p.%n.snap\n"
        "snapalloc: SNAPALLOC_SIGNAL=\"KILL\": a handler would take away its default action (ending or stopping the program, or reporting a fault); use USR1, USR2, WINCH, URG, CHLD, CONT or a real-time signal; no signal trigger\n"
        "snapalloc: SNAPALLOC_INTERVAL=\"-1\": not a number of seconds from 0.001 to 1000000000; no interval trigger\n"
        "snapalloc: SNAPALLOC_PEAK=\"12Q\": not auto, off, 0 or a positive byte count (suffixes K, M, G); no peak trigger\n"
        "snapalloc: SNAPALLOC_UNWIND=\"dwarf?\": not libunwind or fp; using libunwind\n");
    cr_assert_eq(c.depth, 8);
    cr_assert_eq(c.at_exit, 1);
    cr_assert_eq(c.signo, 0);
    cr_assert_eq(c.interval_ns, 0);
    cr_assert_eq(c.peak_step, 0);
    cr_assert_eq(c.unwind, SA_UNWIND_LIBUNWIND);
    cr_assert_str_eq(c.tmpl, "snapalloc.%e.%p.%n.snap");
    clear_env();

    /* A huge value is quoted truncated, still on one line. */
    char huge[300];
    memset(huge, '9', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    setenv("SNAPALLOC_TRACE", huge, 1);
    out = read_with_warnings(&c);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);
    cr_assert(strstr(out, "9999...\": not a number from 0 to 128"), "%s", out);
    cr_assert_eq(c.depth, 0);
    clear_env();
}
