/* dlclose_lib.c - a plain shared object that dlclose_prog loads, calls
 * and unloads: plugin_make allocates two blocks from inside the object. */
#include <stdlib.h>
#include <string.h>

static void *lost;

/* Returns a block the program keeps; the other one is dropped. */
void *plugin_make(size_t keep, size_t leak)
{
    lost = malloc(leak); /* SITE:plugin_leak block */
    memset(lost, 1, leak);
    lost = NULL;
    char *kept = malloc(keep); /* SITE:plugin_keep block */
    memset(kept, 2, keep);
    return kept;
}
