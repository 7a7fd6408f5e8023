// cxx_map.cc - a leaked `new std::map<int, int>` of 20 entries (40-byte
// nodes).  memcheck: definitely lost 48 bytes in 1 block (the map),
// indirectly lost 800 bytes in 20 blocks.
#include <cstdio>
#include <map>

static std::map<int, int> *squares()
{
    auto *m = new std::map<int, int>;
    for (int i = 0; i < 20; i++)
        (*m)[i] = i * i;
    return m;
}

int main()
{
    std::map<int, int> *m = squares();
    std::printf("%zu %d\n", m->size(), m->at(19));
    return 0;
}
