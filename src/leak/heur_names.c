/* leak/heur_names.c - the names of memcheck's four interior-pointer
 * heuristics and the parser of a list of them ("all", "none", or
 * "stdstring,length64,..."), as valgrind's --leak-check-heuristics takes
 * it.  One definition for the library (SNAPALLOC_CHECK_HEURISTICS) and the
 * command (check --heuristics, and the analyzer's PID.heuristic-NAME.snap
 * files), so the two never disagree on a name.
 */
#include "leak/heur.h"

#include <string.h>

const char *const sa_leak_heur_names[SA_LEAK_NHEUR] = {
    "stdstring", "length64", "newarray", "multipleinheritance",
};

int sa_leak_heur_parse(const char *s, unsigned *mask)
{
    if (strcmp(s, "all") == 0) {
        *mask = SA_LEAK_HEUR_ALL;
        return 0;
    }
    if (strcmp(s, "none") == 0) {
        *mask = 0;
        return 0;
    }
    unsigned m = 0;
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        int h;
        for (h = 0; h < SA_LEAK_NHEUR; h++)
            if (strlen(sa_leak_heur_names[h]) == n && strncmp(p, sa_leak_heur_names[h], n) == 0)
                break;
        if (h == SA_LEAK_NHEUR)
            return -1;
        m |= 1u << h;
        if (!p[n])
            break;
        p += n + 1;
    }
    *mask = m;
    return 0;
}
