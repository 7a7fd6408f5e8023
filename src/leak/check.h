/* leak/check.h - private to the exit-time check: what leak/check.c
 * (the sequence), leak/files.c (the directory and the files) and
 * leak/analyzer.c (the standalone verdict) give each other.
 */
#ifndef SA_LEAK_CHECK_H
#define SA_LEAK_CHECK_H

#include "leak/leak.h"

/* "DIR/PID.SUFFIX" into dst (SA_PATH_MAX bytes); 0, or -1 if too long. */
int sa_leak_path(char *dst, const char *dir, const char *suffix);

/* The directory of this process's files: SNAPALLOC_CHECK_DIR, else a
 * private "snapalloc-check.PID.XXXXXX" in $TMPDIR (or /tmp), created on
 * first use (again in a fork child) or taken over from an earlier image
 * of this process (an exec).  NULL if it cannot be made (said once on
 * stderr). */
const char *sa_leak_check_dir(void);
/* Remove the private directory and the files in it. */
void sa_leak_remove_dir(const char *dir);

/* The standalone verdict on the files in dir (written: sa_leak_write's
 * result): the analyzer's exit status; if it could not run, or the files
 * were not all written, a built-in summary of r on stderr and 23 (definite
 * or indirect leaks) or SA_LEAK_NOT_CHECKED. */
int sa_leak_verdict(const char *dir, const sa_leak_result *r, int written);

#endif
