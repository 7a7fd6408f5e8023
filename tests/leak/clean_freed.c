/* clean_freed.c - a list, a tree of strings and a realloc'ed buffer, all
 * freed before exit.  memcheck: nothing lost (all blocks freed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char *name;
};

int main(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 100; i++) {
        struct node *n = malloc(sizeof *n);
        n->name = strdup(i % 2 ? "odd" : "even");
        n->next = head;
        head = n;
    }
    char *buf = NULL;
    size_t len = 0;
    for (struct node *n = head; n; n = n->next) {
        size_t l = strlen(n->name);
        buf = realloc(buf, len + l + 1);
        memcpy(buf + len, n->name, l + 1);
        len += l;
    }
    printf("%zu\n", len);
    free(buf);
    while (head) {
        struct node *next = head->next;
        free(head->name);
        free(head);
        head = next;
    }
    return 0;
}
