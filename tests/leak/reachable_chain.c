/* reachable_chain.c - a global points to a 40-byte block that points to a
 * 80-byte block that points to a 160-byte block: all still reachable.
 * memcheck: nothing lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct level {
    struct level *down;
    char text[];
};

struct level *top;

static struct level *make(size_t size, struct level *down, const char *text)
{
    struct level *l = malloc(size);
    l->down = down;
    strcpy(l->text, text);
    return l;
}

int main(void)
{
    top = make(40, make(80, make(160, NULL, "bottom"), "middle"), "top");
    printf("%s %s %s\n", top->text, top->down->text, top->down->down->text);
    return 0;
}
