/* packed_misaligned.c - a pointer to a 96-byte block kept only in a
 * packed global struct, one byte after a flag: the pointer is not on an
 * 8-byte boundary.  memcheck scans aligned words only.  memcheck:
 * definitely lost 96 bytes in 1 block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct __attribute__((packed)) message {
    char flag;
    char *body;
};

struct message msg;

int main(void)
{
    msg.flag = 1;
    msg.body = malloc(96);
    strcpy(msg.body, "packed");
    printf("%d %s\n", msg.flag, msg.body);
    return 0;
}
