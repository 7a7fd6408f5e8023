/* intern.c - the interned strings of symbolized frames (sa_intern,
 * symbolize.h): one copy of each distinct string, so that frames from two
 * snapshots compare by pointer.  Never freed: the command is short-lived.
 * On its own so that the grouping model links without libdwfl (its unit
 * test).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"
#include "util.h"

static struct {
    char **slots;
    size_t cap, used;
} strtab;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void strtab_grow(void)
{
    size_t ncap = strtab.cap ? strtab.cap * 2 : 1024;
    char **ns = sa_xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < strtab.cap; i++) {
        char *s = strtab.slots[i];
        if (!s)
            continue;
        size_t j = str_hash(s) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    free(strtab.slots);
    strtab.slots = ns;
    strtab.cap = ncap;
}

const char *sa_intern(const char *s)
{
    if ((strtab.used + 1) * 2 > strtab.cap)
        strtab_grow();
    size_t j = str_hash(s) & (strtab.cap - 1);
    for (; strtab.slots[j]; j = (j + 1) & (strtab.cap - 1))
        if (strcmp(strtab.slots[j], s) == 0)
            return strtab.slots[j];
    char *copy = strdup(s);
    if (!copy)
        sa_oom();
    strtab.slots[j] = copy;
    strtab.used++;
    return copy;
}
