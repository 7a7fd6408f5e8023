/* interior_only.c - a 100-byte block kept in a global only through a
 * pointer 40 bytes into it (a cursor into a buffer).  memcheck: possibly
 * lost 100 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cursor;

static void open_buffer(void)
{
    char *buf = malloc(100);
    memset(buf, '.', 99);
    buf[99] = 0;
    cursor = buf + 40;
}

int main(void)
{
    open_buffer();
    printf("%zu\n", strlen(cursor));
    return 0;
}
