// cxx_vector_strings.cc - a leaked `new std::vector<std::string>` of 10
// strings of 40 characters (heap buffers of 41 bytes; capacity reserved
// to 10, so the element array is 320 bytes).  memcheck: definitely lost
// 24 bytes in 1 block (the vector), indirectly lost 730 bytes in 11 blocks.
#include <cstdio>
#include <string>
#include <vector>

static std::vector<std::string> *load_names()
{
    auto *names = new std::vector<std::string>;
    names->reserve(10);
    for (int i = 0; i < 10; i++)
        names->push_back(std::string(40, char('a' + i)));
    return names;
}

int main()
{
    std::vector<std::string> *names = load_names();
    std::printf("%zu %s\n", names->size(), names->back().c_str());
    return 0;
}
