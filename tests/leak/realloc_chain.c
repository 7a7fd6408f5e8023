/* realloc_chain.c - two buffers grown by realloc from 16 bytes, doubling
 * 8 times to 4096: one kept in a global, one lost in a helper.  memcheck:
 * definitely lost 4,096 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *kept;

static char *grow(void)
{
    size_t cap = 16;
    char *buf = malloc(cap);
    memset(buf, 'g', cap);
    for (int i = 0; i < 8; i++) {
        buf = realloc(buf, cap * 2);
        memset(buf + cap, 'h', cap);
        cap *= 2;
    }
    return buf;
}

static long lose(void)
{
    char *buf = grow();
    return buf[4095];
}

int main(void)
{
    kept = grow();
    printf("%c %ld\n", kept[0], lose());
    return 0;
}
