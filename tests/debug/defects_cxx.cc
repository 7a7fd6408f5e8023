// tests/debug/defects_cxx.cc - mismatched releases (argv[1]): each must be
// reported with the allocating API and the releasing call; lines marked as
// in defects.c.
#include <cstdio>
#include <cstdlib>
#include <cstring>

struct point {
    int x, y;
};

static void free_of_new(const char *arg)
{
    point *p = new point;   // ALLOC:free_new
    if (std::sscanf(arg, "%d,%d", &p->x, &p->y) != 2)
        p->x = p->y = 0;
    std::printf("%d\n", p->x + p->y);
    std::free(p);   // DETECT:free_new
}

static void delete_of_array()
{
    int *a = new int[10];   // ALLOC:delete_array
    for (int i = 0; i < 10; i++)
        a[i] = i;
    std::printf("%d\n", a[9]);
    delete a;   // DETECT:delete_array
}

static void array_delete_of_malloc()
{
    char *s = static_cast<char *>(std::malloc(12));   // ALLOC:array_malloc
    std::strcpy(s, "hello");
    std::puts(s);
    delete[] s;   // DETECT:array_malloc
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!std::strcmp(c, "free_new")) free_of_new(arg);
    else if (!std::strcmp(c, "delete_array")) delete_of_array();
    else if (!std::strcmp(c, "array_malloc")) array_delete_of_malloc();
    else return 2;
    return 0;
}
