/* xor_hidden.c - a 128-byte block kept in a global only as its address
 * XORed with a key (an XOR-linked list does this): no word holds the
 * pointer.  memcheck: definitely lost 128 bytes in 1 block. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)

uintptr_t hidden;

static void hide(void)
{
    char *p = malloc(128);
    strcpy(p, "hidden");
    hidden = (uintptr_t)p ^ KEY;
}

int main(void)
{
    hide();
    printf("%s\n", (char *)(hidden ^ KEY));
    return 0;
}
