// heur_multi_inherit.cc - memcheck's "multipleinheritance" heuristic: a
// `new C` of `struct C : A, B` (both polymorphic) is kept in a global only
// as a B*, which points 16 bytes into the block, at B's vtable pointer.
// memcheck: still reachable (via heuristic multipleinheritance); nothing
// definitely, indirectly or possibly lost.
#include <cstdio>

struct A {
    virtual ~A() {}
    virtual long a() const { return 1; }
    long x = 1;
};

struct B {
    virtual ~B() {}
    virtual long b() const { return 2; }
    long y = 2;
};

struct C : A, B {
    long a() const override { return 10; }
    long b() const override { return 20; }
    long z = 3;
};

B *shape;

static B *make() { return new C; }

int main()
{
    shape = make();
    std::printf("%ld\n", shape->b());
    return 0;
}
