/* misuse.c - deliberate misuse of the allocator, for misuse.sh (which runs
 * it only with libsnapalloc preloaded).  argv[1] selects one case per
 * process:
 *
 *   double-small, double-medium, double-large   free a 64 B / 2 KiB / 1 MiB
 *                                               block twice
 *   interior                                    free p + 16 of a 64 B block
 *   realloc-freed                               realloc a freed 64 B block
 *   past-last                                   free the address just past
 *                                               the last 48 B block of its
 *                                               4 KiB pool (85 blocks)
 *   uncarved                                    free where the second block
 *                                               of a fresh pool of 10240 B
 *                                               blocks will start
 *   between-starts                              free p + 4096 of a 9216 B
 *                                               block (a page in which no
 *                                               block starts)
 *   foreign-static, foreign-stack               free a pointer into a static
 *                                               array / into the stack
 *
 * Before the misuse the program prints the offending pointer with %p on
 * stdout (and flushes it), so the script can find it in the allocator's
 * message.  All but the foreign cases must die with SIGABRT; the foreign cases
 * must be ignored by snapalloc (it does not own the memory) and the program
 * must go on allocating normally, print "ok" and exit 0.
 *
 * Built with -fno-builtin and pointers pass through OPAQUE(), so that the
 * compiler neither drops nor warns about the deliberate misuse.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

static void show(const void *p)
{
    printf("%p\n", p);
    fflush(stdout);
}

static int double_free(size_t n)
{
    char *p = malloc(n);
    if (!p)
        return 3;
    memset(p, 1, n);
    /* Another live block of the same size, so the freed one is not simply
     * the last thing the allocator handed out. */
    char *other = malloc(n);
    show(p);
    free(p);
    OPAQUE(p);
    free(p);
    free(other);
    return 0;   /* not reached if the double free is detected */
}

static int interior(void)
{
    char *p = malloc(64);
    if (!p)
        return 3;
    char *q = p + 16;
    OPAQUE(q);
    show(q);
    free(q);
    free(p);
    return 0;
}

static int realloc_freed(void)
{
    char *p = malloc(64);
    if (!p)
        return 3;
    show(p);
    free(p);
    OPAQUE(p);
    p = realloc(p, 128);
    free(p);
    return 0;
}

/* Free where(p), which is no block: the layouts of the classes used are
 * snapalloc's (sizeclass.h). */
static int free_at(size_t n, uintptr_t (*where)(char *p))
{
    char *p = malloc(n);
    if (!p)
        return 3;
    char *q = (char *)where(p);
    OPAQUE(q);
    show(q);
    free(q);
    free(p);
    return 0;
}

static uintptr_t past_last(char *p) { return ((uintptr_t)p & ~(uintptr_t)4095) + 85 * 48; }
static uintptr_t next_block(char *p) { return (uintptr_t)p + 10240; }
static uintptr_t next_page(char *p) { return (uintptr_t)p + 4096; }

/* After an ignored foreign free the heap must still be intact. */
static int heap_still_works(void)
{
    enum { N = 2000 };
    static unsigned char *blocks[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            size_t n = 1 + (size_t)(i * 37 + round) % 3000;
            blocks[i] = malloc(n);
            if (!blocks[i])
                return 0;
            memset(blocks[i], (unsigned char)i, n);
        }
        for (int i = 0; i < N; i++) {
            size_t n = 1 + (size_t)(i * 37 + round) % 3000;
            for (size_t k = 0; k < n; k++)
                if (blocks[i][k] != (unsigned char)i)
                    return 0;
            free(blocks[i]);
        }
    }
    void *big = malloc(1 << 20);
    free(big);
    return big != NULL;
}

static char static_area[256];

static int foreign(int on_stack)
{
    char stack_area[256];
    char *p = on_stack ? stack_area + 32 : static_area + 32;
    memset(on_stack ? stack_area : static_area, 7, 256);
    OPAQUE(p);
    show(p);
    free(p);
    /* The memory we do not own is untouched... */
    const char *area = on_stack ? stack_area : static_area;
    OPAQUE(area);
    for (int i = 0; i < 256; i++)
        if (area[i] != 7) {
            printf("foreign memory modified by free\n");
            return 1;
        }
    /* ...and the allocator works as before. */
    if (!heap_still_works()) {
        printf("heap damaged after a foreign free\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: misuse CASE\n");
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "double-small") == 0)
        return double_free(64);
    if (strcmp(c, "double-medium") == 0)
        return double_free(2048);
    if (strcmp(c, "double-large") == 0)
        return double_free(1 << 20);
    if (strcmp(c, "interior") == 0)
        return interior();
    if (strcmp(c, "realloc-freed") == 0)
        return realloc_freed();
    if (strcmp(c, "past-last") == 0)
        return free_at(48, past_last);
    if (strcmp(c, "uncarved") == 0)
        return free_at(10240, next_block);
    if (strcmp(c, "between-starts") == 0)
        return free_at(9216, next_page);
    if (strcmp(c, "foreign-static") == 0)
        return foreign(0);
    if (strcmp(c, "foreign-stack") == 0)
        return foreign(1);
    fprintf(stderr, "misuse: unknown case %s\n", c);
    return 2;
}
