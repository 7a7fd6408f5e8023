/* env_copy.c - a program whose memory follows its environment, as perl's
 * %ENV and python's os.environ do: every variable is copied (strdup) into
 * a table grown by doubling (realloc), and the table is lost.  memcheck:
 * definitely lost the table (1 block, 8 bytes a slot), indirectly lost one
 * block a variable, "NAME=VALUE" and its terminator: numbers that depend
 * on the environment, so the check must be given the same one as memcheck
 * (memcheck_lib.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static size_t copy_environment(void)
{
    char **table = NULL;
    size_t n = 0, cap = 0;
    for (char **e = environ; *e; e++) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            char **grown = realloc(table, cap * sizeof *table);
            if (!grown)
                exit(1);
            table = grown;
        }
        table[n++] = strdup(*e);
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(table[i]) + 1;
    return bytes;
}

int main(void)
{
    printf("%zu\n", copy_environment());
    return 0;
}
