/* dl_lib.c - the library of dlopen_keep and dlopen_close: lib_work(NAME)
 * keeps a copy of NAME (strdup, 8 bytes for "library") in the library's
 * own global and loses a 200-byte message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *last_name;

const char *lib_last_name(void)
{
    return last_name;
}

size_t lib_work(const char *name)
{
    last_name = strdup(name);
    char *msg = malloc(200);
    snprintf(msg, 200, "work for %s", name);
    return strlen(msg);
}
