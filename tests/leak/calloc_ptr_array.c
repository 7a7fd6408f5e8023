/* calloc_ptr_array.c - a calloc'ed array of 50 pointers (400 bytes) to
 * 50 calloc'ed 24-byte records, lost.  memcheck: definitely lost 400
 * bytes in 1 block, indirectly lost 1,200 bytes in 50 blocks. */
#include <stdio.h>
#include <stdlib.h>

struct point {
    double x, y, z;
};

static double centroid_x(int n)
{
    struct point **pts = calloc(n, sizeof *pts);
    for (int i = 0; i < n; i++) {
        pts[i] = calloc(1, sizeof **pts);
        pts[i]->x = i;
    }
    double sx = 0;
    for (int i = 0; i < n; i++)
        sx += pts[i]->x;
    return sx / n;
}

int main(void)
{
    printf("%.1f\n", centroid_x(50));
    return 0;
}
