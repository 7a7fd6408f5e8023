/* suppress.h - LeakSanitizer-style suppression files for `snapalloc check`.
 *
 * A file holds `leak:PATTERN` lines; `#` starts a comment line; blank
 * lines are ignored.  PATTERN matches as a substring unless anchored with
 * `^` (start) or `$` (end); `*` matches any string.  A leak is suppressed
 * when a pattern matches the function, the source file (full path) or the
 * module path of any frame of its stack.  The format is described in
 * doc/leak-report.md.
 */
#ifndef SA_TOOLS_SUPPRESS_H
#define SA_TOOLS_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>
#include "symbolize.h"

typedef struct sa_supp {
    const char *file;          /* the suppression file, as given */
    unsigned line;             /* 1-based line in it */
    const char *pattern;       /* without the "leak:" prefix */
    uint64_t leaks, bytes;     /* call sites and bytes it suppressed */
} sa_supp;

typedef struct sa_supp_list {
    sa_supp *v;
    size_t n;
} sa_supp_list;

/* Append the suppressions of path to l.  An unreadable file or a malformed
 * line exits with status 2 after one line "snapalloc: FILE[:LINE]: WHY". */
void sa_supp_load(sa_supp_list *l, const char *path);
/* Frees the patterns and the list. */
void sa_supp_free(sa_supp_list *l);

/* LSan's template match of pattern against s (see above). */
int sa_supp_match_pattern(const char *pattern, const char *s);

/* The index of the first suppression matching any of the n frames, or -1. */
int sa_supp_match(const sa_supp_list *l, const sa_sym_frame *const *frames, size_t n);

#endif
