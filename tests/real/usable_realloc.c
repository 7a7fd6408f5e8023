/* usable_realloc.c - a program that uses malloc_usable_size as glibc
 * documents it, as redis's strings (sds) do: it writes every usable byte of
 * a block, then grows the block with realloc, and checks that all of them
 * were kept.  Prints "kept N of N bytes" per block size; exits 1 if any
 * byte was lost. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow_and_check(size_t request)
{
    unsigned char *p = malloc(request);
    if (!p)
        return 1;
    size_t usable = malloc_usable_size(p);
    for (size_t i = 0; i < usable; i++)
        p[i] = (unsigned char)(i * 7 + 1);
    unsigned char *q = realloc(p, usable * 2 + 64);
    if (!q)
        return 1;
    size_t kept = 0;
    for (size_t i = 0; i < usable; i++)
        kept += q[i] == (unsigned char)(i * 7 + 1);
    printf("request %zu: kept %s\n", request, kept == usable ? "all usable bytes" : "NOT all usable bytes");
    free(q);
    return kept != usable;
}

int main(void)
{
    static const size_t requests[] = { 1, 5, 13, 100, 1000, 5000, 70000, 300000 };
    int bad = 0;
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++)
        bad |= grow_and_check(requests[i]);
    return bad;
}
