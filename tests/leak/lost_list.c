/* lost_list.c - a 1000-node list (32-byte nodes) whose head is lost.
 * memcheck: definitely lost 32 bytes in 1 block, indirectly lost 31,968
 * bytes in 999 blocks. */
#include <stdio.h>
#include <stdlib.h>

struct item {
    struct item *next;
    long id;
    double weight[2];
};

static struct item *load(int n)
{
    struct item *head = NULL;
    for (int i = 0; i < n; i++) {
        struct item *it = malloc(sizeof *it);
        it->id = i;
        it->weight[0] = it->weight[1] = i * 0.5;
        it->next = head;
        head = it;
    }
    return head;
}

int main(void)
{
    long ids = 0;
    for (struct item *it = load(1000); it; it = it->next)
        ids += it->id;
    printf("%ld\n", ids);
    return 0;
}
