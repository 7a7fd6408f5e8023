/* self_cycle.c - a 40-byte ring node whose next points at itself, lost.
 * memcheck: definitely lost 40 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>

struct ring {
    struct ring *next;
    char name[32];
};

static void one_ring(const char *name)
{
    struct ring *r = malloc(sizeof *r);
    r->next = r;
    snprintf(r->name, sizeof r->name, "ring %s", name);
    puts(r->next->name);
}

int main(void)
{
    one_ring("seven");
    return 0;
}
