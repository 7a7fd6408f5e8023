/* freed_reused.c - a 48-byte record holding a pointer to a 100-byte
 * buffer is freed; a record of the same size is malloc'ed again, kept in
 * a global and never written; the buffer is lost.  Whatever the new
 * record's memory still holds, the program never stored a pointer in it.
 * memcheck: definitely lost 100 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    long id;
    char *data;
    char tag[32];
};

struct record *current;   /* the record being filled, for printing */
struct record *spare;

static char *fill(void)
{
    struct record *r = malloc(sizeof *r);
    r->id = 1;
    r->data = malloc(100);
    memset(r->data, 'x', 100);
    strcpy(r->tag, "first");
    current = r;
    printf("%ld %s %c\n", current->id, current->tag, current->data[0]);
    current = NULL;
    char *data = r->data;
    free(r);
    return data;
}

int main(void)
{
    char *data = fill();
    printf("%c\n", data[99]);
    spare = malloc(sizeof(struct record));
    return 0;
}
