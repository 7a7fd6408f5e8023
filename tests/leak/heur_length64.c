/* heur_length64.c - memcheck's "length64" heuristic: a 72-byte block whose
 * first 8 bytes hold the length of the rest (64), kept in a global only
 * through a pointer to its payload 8 bytes in.  memcheck: still reachable
 * (via heuristic length64); nothing definitely, indirectly or possibly
 * lost. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *payload;

static char *alloc_sized(uint64_t n)
{
    uint64_t *p = malloc(sizeof *p + n);
    *p = n;
    return (char *)(p + 1);
}

int main(void)
{
    payload = alloc_sized(64);
    strcpy(payload, "sixty-four bytes of payload");
    puts(payload);
    return 0;
}
