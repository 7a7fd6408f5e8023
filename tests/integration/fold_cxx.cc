// fold_cxx.cc - allocations through libstdc++'s allocation plumbing, one
// kind per named function, still live at exit: make_shared,
// allocate_shared, vector push_back, string growth, map and unordered_map
// insert.  Prints, per function, the bytes and blocks it keeps live
// (from the containers' own sizes), for the test to compare with
// `snapalloc show`.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct Foo {
    long a[5];
};

void build_cache(std::shared_ptr<Foo> &cache)
{
    cache = std::make_shared<Foo>(); // SITE:build_cache make_shared
}

void build_pool(std::shared_ptr<Foo> &pool)
{
    pool = std::allocate_shared<Foo>(std::allocator<Foo>()); // SITE:build_pool allocate_shared
}

void grow_vector(std::vector<long> &numbers, int n)
{
    for (int i = 0; i < n; i++)
        numbers.push_back(i); // SITE:grow_vector push_back
}

void grow_string(std::string &text, int n)
{
    for (int i = 0; i < n; i++)
        text += 'x'; // SITE:grow_string append
}

void fill_map(std::map<int, int> &ordered, int n)
{
    for (int i = 0; i < n; i++)
        ordered.insert({i, i}); // SITE:fill_map insert
}

void fill_umap(std::unordered_map<int, int> &hashed, int n)
{
    for (int i = 0; i < n; i++)
        hashed.insert({i, i}); // SITE:fill_umap insert
}

int main()
{
    std::shared_ptr<Foo> cache, pool;
    std::vector<long> numbers;
    std::string text;
    std::map<int, int> ordered;
    std::unordered_map<int, int> hashed;
    build_cache(cache);
    build_pool(pool);
    grow_vector(numbers, 100);
    grow_string(text, 100);
    fill_map(ordered, 10);
    fill_umap(hashed, 10);
    using block = std::_Sp_counted_ptr_inplace<Foo, std::allocator<Foo>, __gnu_cxx::_S_atomic>;
    using rb_node = std::_Rb_tree_node<std::pair<const int, int>>;
    using hash_node = std::__detail::_Hash_node<std::pair<const int, int>, false>;
    std::printf("build_cache %zu 1\n", sizeof(block));
    std::printf("build_pool %zu 1\n", sizeof(block));
    std::printf("grow_vector %zu 1\n", numbers.capacity() * sizeof(long));
    std::printf("grow_string %zu 1\n", text.capacity() + 1);
    std::printf("fill_map %zu %zu\n", ordered.size() * sizeof(rb_node), ordered.size());
    std::printf("fill_umap %zu %zu\n",
                hashed.size() * sizeof(hash_node) + hashed.bucket_count() * sizeof(void *),
                hashed.size() + 1);
    // exit() leaves main's locals alive: the snapshot at exit sees them.
    std::fflush(stdout);
    std::exit(0);
}
