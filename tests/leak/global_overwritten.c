/* global_overwritten.c - a global pointer to a 64-byte block is
 * overwritten with a second block: the first is lost, the second kept.
 * memcheck: definitely lost 64 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>

char *config;

static void load(const char *text)
{
    config = malloc(64);
    snprintf(config, 64, "config: %s", text);
}

int main(void)
{
    load("first");
    puts(config);
    load("second");
    puts(config);
    return 0;
}
