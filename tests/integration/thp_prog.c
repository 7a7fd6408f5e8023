/* thp_prog.c - helper of thp_env.sh: allocates 4 MB of small blocks, then
 * prints what the kernel says of the mapping that holds the first of them
 * (/proc/self/smaps): "hugepage-advised yes|no" (the "hg" VmFlag that
 * MADV_HUGEPAGE sets) and "aligned yes|no" (the mapping starts on a 2 MiB
 * boundary), and a checksum of the blocks' contents. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 40000

int main(void)
{
    static unsigned char *p[N];
    uint64_t sum = 0;
    for (int i = 0; i < N; i++) {
        p[i] = malloc(100);
        if (!p[i])
            return 1;
        memset(p[i], i & 0xff, 100);
    }
    for (int i = 0; i < N; i++)
        sum += p[i][i % 100];
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return 1;
    char line[512];
    int inside = 0, advised = 0, aligned = 0;
    uintptr_t first = (uintptr_t)p[0];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = first >= lo && first < hi;
            if (inside)
                aligned = (lo & ((2ul << 20) - 1)) == 0;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0)
            advised = strstr(line, " hg") != NULL;
    }
    fclose(f);
    printf("hugepage-advised %s\naligned %s\nchecksum %llu\n", advised ? "yes" : "no",
           aligned ? "yes" : "no", (unsigned long long)sum);
    for (int i = 0; i < N; i++)
        free(p[i]);
    return 0;
}
