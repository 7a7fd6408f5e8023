/* clean_globals.c - everything kept reachable from globals: a table of
 * 20 strdup'ed names, a list of 30 nodes and a 64 KiB buffer.  memcheck:
 * nothing definitely, indirectly or possibly lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    int id;
};

char *names[20];
struct node *nodes;
char *big;

int main(void)
{
    for (int i = 0; i < 20; i++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "name%d", i);
        names[i] = strdup(tmp);
    }
    for (int i = 0; i < 30; i++) {
        struct node *n = malloc(sizeof *n);
        n->id = i;
        n->next = nodes;
        nodes = n;
    }
    big = malloc(65536);
    memset(big, 1, 65536);
    printf("%s %d %d\n", names[19], nodes->id, big[100]);
    return 0;
}
