/* fold.h - folding of allocation frames: the default allocation functions
 * and the matching of --wrapper patterns against demangled names
 * (tools/fold.c). */
#ifndef SA_TOOLS_FOLD_H
#define SA_TOOLS_FOLD_H

#include <stddef.h>

/* The three forms a pattern is matched against. */
typedef struct sa_fold_forms {
    const char *name;        /* as symbolized (less a __GI_ prefix) */
    char qualified[2048];    /* return type, parameters, qualifiers gone */
    char plain[2048];        /* template arguments gone too */
} sa_fold_forms;

/* "std::__allocated_ptr<A> std::__allocate_guarded<A>(A&)" ->
 * "std::__allocate_guarded<A>"; returns the length written (truncated to
 * len - 1). */
size_t sa_fold_qualified(const char *function, char *buf, size_t len);
/* Same, without template arguments: "std::__allocate_guarded". */
size_t sa_fold_plain(const char *function, char *buf, size_t len);

void sa_fold_forms_init(sa_fold_forms *f, const char *function);
/* Does the fnmatch pattern match any of the forms? */
int sa_fold_match_forms(const char *pattern, const sa_fold_forms *f);
int sa_fold_match(const char *pattern, const char *function);
/* Is it one of the allocation functions folded by default? */
int sa_fold_default_forms(const sa_fold_forms *f);

#endif
