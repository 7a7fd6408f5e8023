/* thread_lost_list.c - a thread builds a 10-node list (24-byte nodes),
 * sums it and exits (joined) without freeing it.  memcheck: definitely
 * lost 24 bytes in 1 block, indirectly lost 216 bytes in 9 blocks. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct cell {
    struct cell *next;
    long value;
    long weight;
};

static void *work(void *arg)
{
    struct cell *head = NULL;
    for (long i = 0; i < 10; i++) {
        struct cell *c = malloc(sizeof *c);
        c->value = i;
        c->weight = 2 * i;
        c->next = head;
        head = c;
    }
    long sum = 0;
    for (struct cell *c = head; c; c = c->next)
        sum += c->value * c->weight;
    *(long *)arg = sum;
    return NULL;
}

int main(void)
{
    pthread_t t;
    long sum = 0;
    if (pthread_create(&t, NULL, work, &sum) || pthread_join(t, NULL))
        return 1;
    printf("%ld\n", sum);
    return 0;
}
