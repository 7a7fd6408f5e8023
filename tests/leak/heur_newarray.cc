// heur_newarray.cc - memcheck's "newarray" heuristic: `new Counter[10]` of
// a class with a destructor is kept in a global only through the pointer
// new[] returned, 8 bytes past the block's start (after the array
// cookie).  memcheck: still reachable (via heuristic newarray); nothing
// definitely, indirectly or possibly lost.
#include <cstdio>

struct Counter {
    long hits = 0;
    long misses = 0;
    ~Counter() { std::printf("gone %ld\n", hits); }
};

Counter *counters;

int main()
{
    counters = new Counter[10];
    for (int i = 0; i < 10; i++)
        counters[i].hits = i;
    std::printf("%ld\n", counters[9].hits);
    return 0;
}
