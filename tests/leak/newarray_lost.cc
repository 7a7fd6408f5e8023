// newarray_lost.cc - `new Counter[10]` of a class with a destructor (so
// the block starts with the element count, the array cookie: 8 + 10 * 16
// bytes), never deleted and no pointer kept.  memcheck: definitely lost
// 168 bytes in 1 block.
#include <cstdio>

struct Counter {
    long hits = 0;
    long misses = 0;
    ~Counter() { std::printf("gone %ld\n", hits); }
};

static long count(int n)
{
    Counter *c = new Counter[n];
    for (int i = 0; i < n; i++)
        c[i].hits = i;
    return c[n - 1].hits;
}

int main()
{
    std::printf("%ld\n", count(10));
    return 0;
}
