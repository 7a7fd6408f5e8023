/* debug_report.h - debug mode's reports as the command shows them: the
 * library's raw report file (src/debug/report.c), its frames
 * (MODULE+0xOFFSET) symbolized into function and file:line. */
#ifndef SA_TOOLS_DEBUG_REPORT_H
#define SA_TOOLS_DEBUG_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* Print the reports of the file at path on out, symbolized; returns how
 * many there were (0 if the file is missing or empty). */
int sa_debug_report_print(const char *path, FILE *out);

/* --debug[=VALUE]'s value for SNAPALLOC_DEBUG ("1" or "report"); dies
 * with one line on a bad one. */
const char *sa_debug_option(const char *arg);
/* A new empty report file (path: len bytes), named in SNAPALLOC_DEBUG_FILE
 * for the program. */
void sa_debug_file_make(char *path, size_t len);
/* Print the file's reports symbolized on stderr, remove it; returns how
 * many. */
int sa_debug_file_show(const char *path);

#endif
