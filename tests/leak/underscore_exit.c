/* underscore_exit.c - the program loses a 64-byte block and ends with
 * _exit(0) (no atexit handlers, no destructors).  memcheck checks at
 * _exit too: definitely lost 64 bytes in 1 block at -O0.  At -O2 report()
 * is inlined and the pointer is still in a callee-saved register when
 * _exit is called; memcheck scans the registers: nothing lost. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void report(int n)
{
    char *line = malloc(64);
    int len = snprintf(line, 64, "%d items\n", n);
    if (write(1, line, len) != len)
        _exit(1);
}

int main(void)
{
    report(3);
    _exit(0);
}
