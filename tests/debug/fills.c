/* tests/debug/fills.c - what debug mode (SNAPALLOC_DEBUG) promises of a
 * block's bytes, for tests/integration/debug_fills.sh: a new block reads
 * 0xCD, a calloc block zeros (also one that reuses pages a freed block
 * filled with 0xDD, after it left the quarantine), realloc keeps the
 * contents and fills the bytes past them with 0xCD, at every size from
 * the small classes to large blocks; and realloc always moves the block,
 * so a write through the old pointer is a write after free.
 *
 *   fills [stale]    prints "ok" and exits 0, or names the first wrong
 *                    byte and exits 1; "stale" writes through a pointer
 *                    kept from before a realloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

/* Whether n bytes at p are all c; names the first that is not. */
static void expect_bytes(const char *what, size_t size, const unsigned char *p, size_t n,
                         unsigned char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c) {
            printf("%s (%zu bytes): byte %zu is 0x%02x, expected 0x%02x\n", what, size, i, p[i], c);
            failed = 1;
            return;
        }
}

static const size_t sizes[] = {1, 24, 100, 512, 3000, 5000, 70000, 300000, 1 << 20, 3 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void new_blocks(void)
{
    for (size_t i = 0; i < NSIZES; i++) {
        unsigned char *p = malloc(sizes[i]);
        expect_bytes("malloc", sizes[i], p, sizes[i], 0xCD);
        free(p);
    }
}

/* Each size: a block written with 0x55 and freed, then enough frees of
 * the same size to push it out of the (small) quarantine, then calloc
 * blocks of that size, which may reuse its pages. */
static void calloc_blocks(void)
{
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = sizes[i];
        for (int k = 0; k < 6; k++) {
            unsigned char *p = malloc(n);
            memset(p, 0x55, n);
            free(p);
        }
        for (int k = 0; k < 3; k++) {
            unsigned char *c = calloc(1, n);
            expect_bytes("calloc", n, c, n, 0);
            memset(c, 0x66, n);
            free(c);
        }
    }
}

/* From 10 bytes to just past every size in the table, then back. */
static void realloc_blocks(void)
{
    size_t old = 10;
    unsigned char *p = malloc(old);
    memset(p, 'a', old);
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = sizes[i] + 7;
        p = realloc(p, n);
        expect_bytes("realloc, kept", n, p, old < n ? old : n, 'a');
        if (n > old)
            expect_bytes("realloc, new", n, p + old, n - old, 0xCD);
        memset(p, 'a', n);
        old = n;
    }
    for (size_t i = NSIZES; i-- > 0;) {
        size_t n = sizes[i];
        p = realloc(p, n);
        expect_bytes("realloc, shrunk", n, p, n, 'a');
    }
    free(p);
}

/* A buffer and a cursor into it that is not updated when the buffer
 * shrinks: realloc to a smaller size, which the allocator block has room
 * for, and debug mode moves the block all the same, so the cursor points
 * into the freed one. */
struct buffer {
    char *data;
    size_t len;
};

static char *cursor;

static void buffer_fit(struct buffer *b, size_t n)
{
    b->data = realloc(b->data, n);
    b->len = n;
}

static int stale(const char *arg)
{
    struct buffer b = {malloc(64), 64};
    memset(b.data, 'x', b.len);
    cursor = b.data + 5;
    buffer_fit(&b, 32);
    if (b.data + 5 == cursor) {
        printf("realloc did not move the block\n");
        return 1;
    }
    *cursor = arg[0];   /* a write after free: the old block is in the quarantine */
    printf("%.*s\n", (int)b.len, b.data);
    free(b.data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "stale") == 0)
        return stale(argv[1]);
    new_blocks();
    calloc_blocks();
    realloc_blocks();
    if (failed)
        return 1;
    printf("ok\n");
    return 0;
}
