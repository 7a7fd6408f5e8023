// semantics_cxx.cc - the C++ allocation entry points, for semantics.sh:
// operator new/delete in all their forms (plain, array, nothrow, sized,
// aligned), run plain under glibc/libstdc++ and with libsnapalloc preloaded.
//
// Prints "FAIL semantics_cxx.cc:line: what" for every failed check and a
// summary line; exit status 0 only if every check passed.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <memory>
#include <new>
#include <string>
#include <vector>

#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

namespace {

int checks, failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            std::printf("FAIL semantics_cxx.cc:%d: ", __LINE__);               \
            std::printf(__VA_ARGS__);                                          \
            std::printf("\n");                                                 \
        }                                                                      \
    } while (0)

bool aligned(const void *p, std::size_t a)
{
    return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

struct alignas(64) Line {
    char bytes[10];
};

struct alignas(4096) Page {
    char bytes[100];
};

struct Counted {
    static int live;
    std::string name;
    std::vector<int> v;
    explicit Counted(int i) : name("counted-object-number-" + std::to_string(i)), v(i % 50, i) { live++; }
    ~Counted() { live--; }
};
int Counted::live;

void test_plain()
{
    int *i = new int(42);
    CHECK(i && *i == 42 && aligned(i, 16), "new int = %p", static_cast<void *>(i));
    delete i;

    const std::size_t n = 1000;
    long *a = new long[n];
    for (std::size_t k = 0; k < n; k++)
        a[k] = static_cast<long>(k * 3);
    long sum = 0;
    for (std::size_t k = 0; k < n; k++)
        sum += a[k];
    CHECK(sum == 1498500 && aligned(a, 16), "new long[1000]: sum %ld", sum);
    delete[] a;

    // Objects with non-trivial destructors: new[] stores the count in front.
    Counted *c = new Counted[1]{Counted(7)};
    CHECK(Counted::live == 1, "new Counted[1]: %d live", Counted::live);
    delete[] c;
    std::vector<std::unique_ptr<Counted>> many;
    for (int k = 0; k < 2000; k++)
        many.emplace_back(new Counted(k));
    std::size_t len = 0;
    for (auto &m : many)
        len += m->name.size() + m->v.size();
    CHECK(Counted::live == 2000 && len == 2000 * 22 + 6890 + 49000, "2000 Counted: %d live, len %zu",
          Counted::live, len);
    many.clear();
    CHECK(Counted::live == 0, "after clear: %d live", Counted::live);

    // Blocks from operator new are malloc blocks here (usable size known).
    void *p = ::operator new(100);
    CHECK(p && malloc_usable_size(p) >= 100, "operator new(100) = %p, usable %zu", p,
          p ? malloc_usable_size(p) : 0);
    std::memset(p, 1, 100);
    ::operator delete(p);

    p = ::operator new(0);
    void *q = ::operator new(0);
    CHECK(p && q && p != q, "operator new(0) twice: %p %p", p, q);
    ::operator delete(p);
    ::operator delete(q);
}

void test_sized_delete()
{
    static const std::size_t sizes[] = {1, 16, 100, 512, 2048, 70000, 1 << 20};
    for (std::size_t n : sizes) {
        void *p = ::operator new(n);
        std::memset(p, 2, n);
        ::operator delete(p, n);
        void *a = ::operator new[](n);
        std::memset(a, 3, n);
        ::operator delete[](a, n);
        checks++;
    }
}

void test_failure()
{
    std::size_t huge = SIZE_MAX / 2;
    OPAQUE(huge);
    void *p = ::operator new(huge, std::nothrow);
    CHECK(p == nullptr, "operator new(SIZE_MAX/2, nothrow) = %p", p);
    p = ::operator new[](huge, std::nothrow);
    CHECK(p == nullptr, "operator new[](SIZE_MAX/2, nothrow) = %p", p);
    char *c = new (std::nothrow) char[huge];
    CHECK(c == nullptr, "new (nothrow) char[SIZE_MAX/2] = %p", static_cast<void *>(c));

    bool threw = false;
    try {
        p = ::operator new(huge);
        ::operator delete(p);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "operator new(SIZE_MAX/2) did not throw std::bad_alloc");
    threw = false;
    try {
        c = new char[huge];
        delete[] c;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "new char[SIZE_MAX/2] did not throw std::bad_alloc");
    threw = false;
    try {
        p = ::operator new(huge, std::align_val_t(64));
        ::operator delete(p, std::align_val_t(64));
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "operator new(SIZE_MAX/2, align 64) did not throw std::bad_alloc");
    p = ::operator new(huge, std::align_val_t(64), std::nothrow);
    CHECK(p == nullptr, "operator new(SIZE_MAX/2, align 64, nothrow) = %p", p);

    // The allocator still works after failures.
    std::string s(100000, 'z');
    CHECK(s.size() == 100000 && s[99999] == 'z', "string after failed allocations");
}

void test_aligned()
{
    Line *l = new Line;
    CHECK(aligned(l, 64), "new alignas(64) = %p", static_cast<void *>(l));
    delete l;
    Line *la = new Line[7];
    CHECK(aligned(la, 64), "new alignas(64)[7] = %p", static_cast<void *>(la));
    delete[] la;
    Page *pg = new Page;
    CHECK(aligned(pg, 4096), "new alignas(4096) = %p", static_cast<void *>(pg));
    std::memset(pg->bytes, 4, sizeof pg->bytes);
    delete pg;
    Page *pga = new Page[3];
    CHECK(aligned(pga, 4096), "new alignas(4096)[3] = %p", static_cast<void *>(pga));
    delete[] pga;

    std::vector<Line *> lines;
    for (int k = 0; k < 500; k++) {
        lines.push_back(new Line);
        if (!aligned(lines.back(), 64)) {
            CHECK(false, "new alignas(64) #%d = %p", k, static_cast<void *>(lines.back()));
            break;
        }
    }
    for (Line *x : lines)
        delete x;

    char *c = new (std::align_val_t(256)) char[100];
    CHECK(aligned(c, 256), "new (align_val_t(256)) char[100] = %p", static_cast<void *>(c));
    std::memset(c, 5, 100);
    ::operator delete[](c, std::align_val_t(256));

    for (std::size_t a = 32; a <= (1 << 16); a *= 2) {
        void *p = ::operator new(a + 3, std::align_val_t(a));
        CHECK(aligned(p, a), "operator new(%zu, align %zu) = %p", a + 3, a, p);
        std::memset(p, 6, a + 3);
        if (a % 2048 == 0)
            ::operator delete(p, a + 3, std::align_val_t(a));   // sized and aligned
        else
            ::operator delete(p, std::align_val_t(a));
        void *q = ::operator new[](100, std::align_val_t(a), std::nothrow);
        CHECK(q && aligned(q, a), "operator new[](100, align %zu, nothrow) = %p", a, q);
        ::operator delete[](q, std::align_val_t(a), std::nothrow);
    }
}

}  // namespace

int main()
{
    // Line-buffered: the lines before a crash are not lost.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    test_plain();
    test_sized_delete();
    test_failure();
    test_aligned();
    std::printf("semantics_cxx: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
