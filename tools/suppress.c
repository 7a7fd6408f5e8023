/* suppress.c - reading LeakSanitizer-style suppression files and matching
 * their patterns against symbolized stacks (see suppress.h).
 *
 * LSan's matcher scans left to right with strstr and so misses some
 * matches a glob would find ("a*b$" against "ab-b"); here a pattern is
 * turned into a glob ("*" added at each unanchored end) and matched with
 * backtracking, which accepts every string LSan accepts and those too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "suppress.h"
#include "util.h"

/* Classic wildcard match, '*' only, with single-star backtracking:
 * linear in practice, O(len(p) * len(s)) at worst. */
static int glob_match(const char *p, size_t plen, const char *s)
{
    size_t pi = 0, star = (size_t)-1;
    const char *mark = NULL;
    while (*s) {
        if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = s;
        } else if (pi < plen && p[pi] == *s) {
            pi++;
            s++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

int sa_supp_match_pattern(const char *pattern, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t len = strlen(pattern);
    int start = len > 0 && pattern[0] == '^';
    int end = len > (size_t)start && pattern[len - 1] == '$';
    const char *core = pattern + start;
    size_t clen = len - (size_t)start - (size_t)end;
    char stackbuf[512];
    size_t glen = clen + 2;
    char *g = glen <= sizeof stackbuf ? stackbuf : sa_xcalloc(glen, 1);
    size_t n = 0;
    if (!start)
        g[n++] = '*';
    memcpy(g + n, core, clen);
    n += clen;
    if (!end)
        g[n++] = '*';
    int r = glob_match(g, n, s);
    if (g != stackbuf)
        free(g);
    return r;
}

int sa_supp_match(const sa_supp_list *l, const sa_sym_frame *const *frames, size_t n)
{
    for (size_t k = 0; k < l->n; k++) {
        const char *p = l->v[k].pattern;
        for (size_t i = 0; i < n; i++) {
            const sa_sym_frame *f = frames[i];
            if (sa_supp_match_pattern(p, f->function) ||
                (f->file && strcmp(f->file, "??") != 0 && sa_supp_match_pattern(p, f->file)) ||
                (f->module_path && strcmp(f->module_path, "??") != 0 &&
                 sa_supp_match_pattern(p, f->module_path)))
                return (int)k;
        }
    }
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A suppression file is text a person wrote: a device or FIFO (/dev/zero
 * would read without end) is not one. */
#define SUPP_MAX_BYTES (64u << 20)

void sa_supp_load(sa_supp_list *l, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        sa_die(path, "%s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        sa_die(path, "%s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        sa_die(path, "%s", strerror(EISDIR));
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
        sa_die(path, "not a regular file");
    size_t total = 0;
    char *buf = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    char where[4096];
    errno = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        total += (size_t)len;
        if (total > SUPP_MAX_BYTES)
            sa_die(path, "larger than %u MiB: not a suppression file", SUPP_MAX_BYTES >> 20);
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        if (strlen(buf) != (size_t)len)
            sa_die(where, "NUL byte in the line");
        char *s = trim(buf);
        if (*s == '\0' || *s == '#')
            continue;
        char *colon = strchr(s, ':');
        if (!colon)
            sa_die(where, "expected 'leak:PATTERN', got '%s'", s);
        *colon = '\0';
        char *type = trim(s), *pat = trim(colon + 1);
        if (strcmp(type, "leak") != 0)
            sa_die(where, "unknown suppression type '%s' (only 'leak' is supported)", type);
        if (*pat == '\0' || strcmp(pat, "^") == 0 || strcmp(pat, "$") == 0 ||
            strcmp(pat, "^$") == 0)
            sa_die(where, "empty pattern");
        l->v = sa_xrealloc(l->v, l->n + 1, sizeof *l->v);
        sa_supp *e = &l->v[l->n++];
        memset(e, 0, sizeof *e);
        e->file = path;
        e->line = lineno;
        e->pattern = strdup(pat);
        if (!e->pattern)
            sa_oom();
    }
    if (ferror(f))
        sa_die(path, "%s", strerror(errno ? errno : EIO));
    free(buf);
    fclose(f);
}

void sa_supp_free(sa_supp_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->v[i].pattern);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
