/* mmap_anon.c - a 256-byte block reachable only from a page the program
 * mapped itself (anonymous, private), as a custom arena or a
 * memory-mapped ring buffer would hold it.  memcheck scans the program's
 * own writable mappings: still reachable; nothing lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct arena {
    char *blocks[8];
};

struct arena *arena;

int main(void)
{
    arena = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED)
        return 1;
    arena->blocks[3] = malloc(256);
    strcpy(arena->blocks[3], "in the arena");
    puts(arena->blocks[3]);
    return 0;
}
