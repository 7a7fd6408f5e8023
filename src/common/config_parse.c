/* common/config_parse.c - the parsers of snapalloc's settings (common/config_parse.h),
 * shared by the library and the command.
 */
#include "common/config_parse.h"

#include <signal.h>
#include <string.h>

/* Decimal digits only, value <= max; no sign, spaces or suffix. */
static int parse_u64(const char *s, const char **end, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return 0;
}

int sa_config_parse_depth(const char *s, int *out)
{
    const char *end;
    uint64_t v;
    if (!s || parse_u64(s, &end, SA_CONFIG_MAX_FRAMES, &v) != 0 || *end)
        return -1;
    *out = (int)v;
    return 0;
}

int sa_config_parse_bool(const char *s, int *out)
{
    if (!s || (s[0] != '0' && s[0] != '1') || s[1])
        return -1;
    *out = s[0] == '1';
    return 0;
}

static int upper_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char c = *a >= 'a' && *a <= 'z' ? (char)(*a - 'a' + 'A') : *a;
        if (c != *b)
            return 0;
    }
    return *a == *b;
}

/* Signals a snapshot may be bound to.  Our handler replaces the default
 * action, so a signal whose default ends or stops the program (TERM, INT,
 * HUP, TSTP...) would no longer do so: refused (SA_SIGNAL_REFUSED), as are
 * the synchronous faults (SEGV, BUS, ILL, FPE: a handler would hide a
 * crash), KILL and STOP (uncatchable) and the leak check's stop signal.
 * Allowed: USR1 and USR2 (meant for programs), the signals ignored by
 * default (WINCH, URG, CHLD, CONT) and the real-time signals but ours. */
static const struct { const char *name; int signo; int allowed; } signals[] = {
    {"USR1", SIGUSR1, 1}, {"USR2", SIGUSR2, 1}, {"WINCH", SIGWINCH, 1}, {"URG", SIGURG, 1},
    {"CHLD", SIGCHLD, 1}, {"CONT", SIGCONT, 1},
    {"HUP", SIGHUP, 0}, {"INT", SIGINT, 0}, {"QUIT", SIGQUIT, 0}, {"ILL", SIGILL, 0},
    {"TRAP", SIGTRAP, 0}, {"ABRT", SIGABRT, 0}, {"BUS", SIGBUS, 0}, {"FPE", SIGFPE, 0},
    {"KILL", SIGKILL, 0}, {"SEGV", SIGSEGV, 0}, {"PIPE", SIGPIPE, 0}, {"ALRM", SIGALRM, 0},
    {"TERM", SIGTERM, 0}, {"STKFLT", SIGSTKFLT, 0}, {"STOP", SIGSTOP, 0},
    {"TSTP", SIGTSTP, 0}, {"TTIN", SIGTTIN, 0}, {"TTOU", SIGTTOU, 0}, {"XCPU", SIGXCPU, 0},
    {"XFSZ", SIGXFSZ, 0}, {"VTALRM", SIGVTALRM, 0}, {"PROF", SIGPROF, 0}, {"IO", SIGIO, 0},
    {"PWR", SIGPWR, 0}, {"SYS", SIGSYS, 0},
};

/* 0 allowed, SA_SIGNAL_REFUSED, -1 not a signal. */
static int signal_check(int signo)
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].signo == signo)
            return signals[i].allowed ? 0 : SA_SIGNAL_REFUSED;
    /* Real-time signals (glibc keeps the first few below SIGRTMIN). */
    if (signo == SIGRTMIN + SA_LEAK_SIGNAL_OFFSET)
        return SA_SIGNAL_REFUSED;
    return signo >= SIGRTMIN && signo <= SIGRTMAX ? 0 : -1;
}

int sa_config_parse_signal(const char *s, int *out)
{
    if (!s || !*s)
        return -1;
    if (*s >= '0' && *s <= '9') {
        const char *end;
        uint64_t v;
        if (parse_u64(s, &end, 1000, &v) != 0 || *end)
            return -1;
        int rc = signal_check((int)v);
        if (rc == 0)
            *out = (int)v;
        return rc;
    }
    const char *name = s;
    if ((s[0] == 'S' || s[0] == 's') && (s[1] == 'I' || s[1] == 'i') && (s[2] == 'G' || s[2] == 'g'))
        name = s + 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (upper_eq(name, signals[i].name)) {
            if (!signals[i].allowed)
                return SA_SIGNAL_REFUSED;
            *out = signals[i].signo;
            return 0;
        }
    return -1;
}

#define NS_PER_S 1000000000ull

int sa_config_parse_seconds(const char *s, uint64_t *ns)
{
    const char *p;
    uint64_t whole, frac = 0, scale = NS_PER_S;
    if (!s || parse_u64(s, &p, NS_PER_S, &whole) != 0)
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++)
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
    }
    if (*p)
        return -1;
    uint64_t v = whole * NS_PER_S + frac;
    if (v < NS_PER_S / 1000 || v > NS_PER_S * NS_PER_S)
        return -1;
    *ns = v;
    return 0;
}

int sa_config_parse_size(const char *s, uint64_t *out)
{
    const char *p;
    uint64_t v;
    if (!s || parse_u64(s, &p, UINT64_MAX, &v) != 0)
        return -1;
    unsigned shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: break;
    }
    if (shift && p[0] == 'i' && p[1] == 'B')
        p += 2;
    else if (p[0] == 'B')
        p++;
    if (*p || v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

int sa_config_parse_bytes(const char *s, uint64_t *out)
{
    uint64_t v;
    if (sa_config_parse_size(s, &v) != 0 || v == 0)
        return -1;
    *out = v;
    return 0;
}

int sa_config_parse_unwind(const char *s, int *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "libunwind") == 0)
        *out = SA_UNWIND_LIBUNWIND;
    else if (strcmp(s, "fp") == 0)
        *out = SA_UNWIND_FP;
    else
        return -1;
    return 0;
}

int sa_config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (!s || parse_u64(s, &end, max, &v) != 0 || *end || v < min)
        return -1;
    *out = v;
    return 0;
}


int sa_config_parse_guard(const char *s, uint64_t *out)
{
    uint64_t n;
    if (!s)
        return -1;
    if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else if (strcmp(s, "on") == 0 || strcmp(s, "1") == 0)
        *out = SA_GUARD_DEFAULT_RATE;
    else if (strcmp(s, "all") == 0)
        *out = SA_GUARD_EVERY;
    else if (sa_config_parse_u64(s, 2, SA_GUARD_MAX_RATE, &n) == 0)
        *out = n;
    else
        return -1;
    return 0;
}

int sa_config_parse_debug_mode(const char *s, int *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "0") == 0)
        *out = 0;
    else if (strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "report") == 0)
        *out = 2;
    else
        return -1;
    return 0;
}
