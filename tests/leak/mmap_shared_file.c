/* mmap_shared_file.c - a 200-byte block reachable only from a writable
 * MAP_SHARED mapping of a file (a temporary file, unlinked at once).
 * memcheck scans every readable and writable mapping of the program
 * (not devices): still reachable; nothing lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

char **slots;

int main(void)
{
    char path[] = "/tmp/leak-shared.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || unlink(path) != 0 || ftruncate(fd, 4096) != 0)
        return 1;
    slots = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (slots == MAP_FAILED)
        return 1;
    close(fd);
    slots[5] = malloc(200);
    strcpy(slots[5], "shared slot");
    puts(slots[5]);
    return 0;
}
