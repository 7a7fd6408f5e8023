/* unwritten_field.c - a struct malloc'ed and kept in a global whose
 * pointer field is never written (the program fills only the name), and
 * a buffer of the same size lost after two temporaries were freed: the
 * struct's first word was never written by the program, so it is no
 * pointer to the lost buffer.  memcheck: definitely lost 32 bytes in
 * 1 block (the buffer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;   /* never used */
    char name[24];
};

struct entry *table;

static void scratch(void)
{
    char *a = malloc(32), *b = malloc(32);
    strcpy(a, "first");
    strcpy(b, "second");
    printf("%s %s\n", a, b);
    free(b);
    free(a);
}

static void lose_buffer(void)
{
    char *buf = malloc(32);
    snprintf(buf, 32, "entry %s", table->name);
    puts(buf);
}

int main(void)
{
    scratch();
    table = malloc(sizeof *table);
    strcpy(table->name, "only the name");
    lose_buffer();
    return 0;
}
