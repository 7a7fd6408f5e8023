/* lifecycle_prog.c - a program with one definite leak (4321 bytes) that
 * leaves by returning from main, or by _exit with "_exit": the subject of
 * lifecycle.sh's exit-sequence test.  Its stdout is buffered until exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep;

/* Forgets its buffer: 4321 bytes definitely lost. */
__attribute__((noinline)) static size_t build_name(int n)
{
    char *buf = malloc(4321);
    snprintf(buf, 4321, "name-%d", n);
    return strlen(buf);
}

int main(int argc, char **argv)
{
    size_t len = build_name(argc);
    keep = malloc(100);
    printf("buffered %zu", len);
    if (argc > 1 && strcmp(argv[1], "_exit") == 0) {
        fflush(stdout);
        _exit(3);
    }
    return 0;
}
