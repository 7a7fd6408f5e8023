/* three_helpers.c - 111 blocks lost in three helpers: 100 x 64 bytes,
 * 10 x 4096 bytes and one 1 MiB buffer.  memcheck: definitely lost
 * 1,095,936 bytes in 111 blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long small_records(void)
{
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        int *rec = malloc(64);
        for (int j = 0; j < 16; j++)
            rec[j] = i + j;
        sum += rec[i % 16];
    }
    return sum;
}

static long pages(void)
{
    long sum = 0;
    for (int i = 0; i < 10; i++) {
        char *page = malloc(4096);
        memset(page, 'a' + i, 4096);
        sum += page[i * 100];
    }
    return sum;
}

static long big_buffer(void)
{
    size_t n = 1 << 20;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31);
    return buf[12345];
}

int main(void)
{
    long total = small_records() + pages() + big_buffer();
    printf("%ld\n", total);
    return 0;
}
