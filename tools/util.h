/* util.h - small helpers shared by the snapalloc command's files: memory
 * that never returns NULL (the command has nothing useful to do without
 * it, so it exits with the documented status 2 and one line), and the
 * ordering of optional strings.
 */
#ifndef SA_TOOLS_UTIL_H
#define SA_TOOLS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void sa_oom(void)
{
    fputs("snapalloc: out of memory\n", stderr);
    exit(2);
}

static inline void *sa_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sa_oom();
    return p;
}

static inline void *sa_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        sa_oom();
    size_t bytes = n * size;
    p = realloc(p, bytes ? bytes : 1);
    if (!p)
        sa_oom();
    return p;
}

/* strcmp with NULL first: key fields outside the grouping are NULL. */
static inline int sa_strcmp_null(const char *a, const char *b)
{
    return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

#endif
