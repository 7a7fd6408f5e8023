/* lost_cycle_tail.c - a lost 64-byte head pointing into a ring of three
 * 32-byte nodes.  memcheck: definitely lost 64 bytes in 1 block (the
 * head), indirectly lost 96 bytes in 3 blocks (the ring). */
#include <stdio.h>
#include <stdlib.h>

struct node {
    struct node *next;
    long v[3];
};

struct head {
    struct node *ring;
    char label[56];
};

static struct head *build(void)
{
    struct node *n[3];
    for (int i = 0; i < 3; i++) {
        n[i] = malloc(sizeof *n[i]);
        n[i]->v[0] = i;
    }
    for (int i = 0; i < 3; i++)
        n[i]->next = n[(i + 1) % 3];
    struct head *h = malloc(sizeof *h);
    h->ring = n[0];
    snprintf(h->label, sizeof h->label, "ring of %d", 3);
    return h;
}

int main(void)
{
    struct head *h = build();
    printf("%s: %ld\n", h->label, h->ring->next->next->v[0]);
    return 0;
}
