/* strdup_lost.c - argv-like words strdup'ed (6 words, 36 bytes with
 * their terminators) and lost.  memcheck: definitely lost 36 bytes in
 * 6 blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta" };

static size_t copy_words(void)
{
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        char *w = strdup(words[i]);
        total += strlen(w) + 1;
    }
    return total;
}

int main(void)
{
    printf("%zu\n", copy_words());
    return 0;
}
