/* callee_lost.c - a helper fills a 64-byte buffer, prints it and returns
 * to main without freeing it.  memcheck: definitely lost 64 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>

static void greet(const char *who)
{
    char *line = malloc(64);
    snprintf(line, 64, "hello, %s", who);
    puts(line);
}

int main(void)
{
    greet("world");
    return 0;
}
