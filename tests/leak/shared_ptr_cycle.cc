// shared_ptr_cycle.cc - two make_shared nodes that hold shared_ptrs to
// each other: when the locals go, the cycle keeps both counts at 1 and
// both blocks (control block + node, 32 bytes each) are lost.
// memcheck: definitely lost 32 bytes in 1 block, indirectly lost 32 in 1.
#include <cstdio>
#include <memory>

struct Node {
    std::shared_ptr<Node> other;
};

static long link_pair()
{
    auto a = std::make_shared<Node>();
    auto b = std::make_shared<Node>();
    a->other = b;
    b->other = a;
    return a.use_count() + b.use_count();
}

int main()
{
    std::printf("%ld\n", link_pair());
    return 0;
}
