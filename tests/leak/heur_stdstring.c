/* heur_stdstring.c - memcheck's "stdstring" heuristic, in C: a string
 * laid out as the old (refcounted) libstdc++ std::string keeps it -
 * length, capacity, refcount, then the characters - and is kept in a
 * global only through a pointer to its characters (24 bytes in).  The
 * block is 24 + capacity + 1 bytes, as the heuristic requires.
 * memcheck: still reachable (via heuristic stdstring); nothing
 * definitely, indirectly or possibly lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rep {
    size_t length;
    size_t capacity;
    size_t refcount;
    char chars[];
};

char *title;

static char *make_string(const char *s, size_t capacity)
{
    struct rep *r = malloc(sizeof *r + capacity + 1);
    r->length = strlen(s);
    r->capacity = capacity;
    r->refcount = 0;
    memcpy(r->chars, s, r->length + 1);
    return r->chars;
}

int main(void)
{
    title = make_string("a title", 39);
    puts(title);
    return 0;
}
