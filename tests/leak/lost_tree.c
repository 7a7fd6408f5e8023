/* lost_tree.c - a complete binary tree of 31 nodes (48 bytes each) whose
 * root is lost.  memcheck: definitely lost 48 bytes in 1 block, indirectly
 * lost 1,440 bytes in 30 blocks. */
#include <stdio.h>
#include <stdlib.h>

struct tree {
    struct tree *left, *right;
    long key;
    char pad[24];
};

static struct tree *build(int depth, long key)
{
    if (depth == 0)
        return NULL;
    struct tree *t = malloc(sizeof *t);
    t->key = key;
    t->left = build(depth - 1, key * 2);
    t->right = build(depth - 1, key * 2 + 1);
    return t;
}

static long sum(const struct tree *t)
{
    return t ? t->key + sum(t->left) + sum(t->right) : 0;
}

int main(void)
{
    printf("%ld\n", sum(build(5, 1)));
    return 0;
}
