/* oom_retry.c - big requests under an address-space limit (ulimit -v)
 * after the small blocks that used most of it were freed, for
 * oom_retry.sh.
 *
 * Usage: oom_retry [keep:]SMALL_MB BIG_MB
 *        oom_retry huge
 *
 * mallocs small blocks (16-256 bytes, 136 on average) until they hold SMALL_MB MiB, frees
 * them all, then asks for BIG_MB MiB by malloc, by calloc, and by a
 * realloc that grows a 1 MiB block to that size (each freed before the
 * next).  Without malloc_trim: an allocator must give back its free
 * memory by itself when a mapping fails, as glibc's heap can serve the
 * request from the memory just freed.  A program of the same shape that
 * frees nothing: the big requests fail with ENOMEM and nothing else
 * happens (SMALL_MB given as "keep:N").  "huge": malloc, calloc and
 * realloc of 64 TiB, which the kernel's overcommit heuristic refuses.
 *
 * Output, one line per request: "malloc ok", "calloc ok", "realloc ok",
 * or "<call> failed: <errno name>".  Exit status 0; 2 on bad arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *call, void *p)
{
    if (p)
        printf("%s ok\n", call);
    else
        printf("%s failed: %s\n", call, errno == ENOMEM ? "ENOMEM" : strerror(errno));
}

/* malloc, calloc and realloc of 2^46 bytes (64 TiB): refused, as the
 * kernel's overcommit heuristic refuses them to glibc. */
static int huge_requests(void)
{
    size_t huge = (size_t)1 << 46;
    errno = 0;
    char *p = malloc(huge);
    report("malloc", p);
    free(p);
    errno = 0;
    p = calloc(huge / 16, 16);
    report("calloc", p);
    free(p);
    char *small = malloc(100000);
    errno = 0;
    p = realloc(small, huge);
    report("realloc", p);
    free(p ? p : small);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "huge") == 0)
        return huge_requests();
    int keep = argc == 3 && strncmp(argv[1], "keep:", 5) == 0;
    char *end1 = NULL, *end2 = NULL;
    long small = argc == 3 ? strtol(argv[1] + (keep ? 5 : 0), &end1, 10) : 0;
    long big = argc == 3 ? strtol(argv[2], &end2, 10) : 0;
    if (argc != 3 || *end1 || *end2 || small < 1 || big < 2) {
        fprintf(stderr, "usage: oom_retry [keep:]SMALL_MB BIG_MB | huge\n");
        return 2;
    }
    size_t want = (size_t)small << 20, held = 0, n = 0, cap = want / 64;
    void **blocks = malloc(cap * sizeof *blocks);
    if (!blocks) {
        fprintf(stderr, "oom_retry: no room for the block array\n");
        return 1;
    }
    uint32_t s = 1;
    while (held < want && n < cap) {
        s = s * 1103515245u + 12345u;
        size_t size = 16 + (s >> 8) % 241;
        if (!(blocks[n] = malloc(size))) {
            fprintf(stderr, "oom_retry: small malloc failed after %zu bytes\n", held);
            return 1;
        }
        memset(blocks[n++], 0x5a, size);
        held += size;
    }
    if (!keep) {
        for (size_t i = 0; i < n; i++)
            free(blocks[i]);
    }
    size_t bytes = (size_t)big << 20;
    errno = 0;
    char *p = malloc(bytes);
    report("malloc", p);
    free(p);
    errno = 0;
    p = calloc(bytes / 64, 64);
    report("calloc", p);
    free(p);
    p = malloc(1 << 20);
    if (!p) {
        fprintf(stderr, "oom_retry: 1 MiB malloc failed\n");
        return 1;
    }
    memset(p, 0x3c, 1 << 20);
    errno = 0;
    char *q = realloc(p, bytes);
    report("realloc", q);
    if (q && q[(1 << 20) - 1] != 0x3c) {
        fprintf(stderr, "oom_retry: realloc lost the contents\n");
        return 1;
    }
    free(q ? q : p);
    return 0;
}
