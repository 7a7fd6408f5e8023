/* spawn.h - running a program under the library, shared by `run` and
 * `check` (spawn.c): finding libsnapalloc.so, the environment that
 * preloads and configures it, and fork + exec + wait with the command's
 * signals forwarded to the program.
 */
#ifndef SA_TOOLS_SPAWN_H
#define SA_TOOLS_SPAWN_H

#include <sys/types.h>

/* The libsnapalloc.so to preload: SNAPALLOC_LIB, else the build tree's
 * next to an uninstalled command, else the installed one (or exit 2). */
char *sa_find_library(void);
/* setenv/unsetenv (value NULL) that exits on failure. */
void sa_set_env(const char *name, const char *value);
/* Prepend lib to LD_PRELOAD, keeping what was there (exit 2 if lib's path
 * cannot be preloaded: it contains ':' or a space). */
void sa_preload_env(const char *lib);
/* fork + execvp prog, forwarding signals sent to the command (and
 * extra_sig, if not 0) to it, and wait.  Returns the program's status
 * (128+N if killed by signal N); 127 with *exec_failed set, after one
 * error line, if it could not be executed. */
int sa_spawn_wait(char **prog, int extra_sig, pid_t *pid_out, int *exec_failed);
/* The signal that ended the program sa_spawn_wait last waited for; 0 if
 * it exited. */
extern int sa_spawn_signal;

#endif
