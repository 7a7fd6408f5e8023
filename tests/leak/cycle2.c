/* cycle2.c - two 32-byte peers pointing at each other, both lost.
 * memcheck: one of the pair definitely lost (32 bytes), the other
 * indirectly lost (32 bytes). */
#include <stdio.h>
#include <stdlib.h>

struct peer {
    struct peer *other;
    char name[24];
};

static struct peer *make_pair(void)
{
    struct peer *a = malloc(sizeof *a);
    struct peer *b = malloc(sizeof *b);
    a->other = b;
    b->other = a;
    snprintf(a->name, sizeof a->name, "left");
    snprintf(b->name, sizeof b->name, "right");
    return a;
}

int main(void)
{
    struct peer *p = make_pair();
    printf("%s <-> %s\n", p->name, p->other->name);
    return 0;
}
