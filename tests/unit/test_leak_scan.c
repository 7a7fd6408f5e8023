/* test_leak_scan.c - classification of a hand-built heap: blocks from the
 * core allocator (sa_malloc + sa_trace_alloc, as override.c does), roots in
 * a static array, pointers in other blocks, lost chains, interior
 * pointers, cycles, the slack past a requested size, a large block.
 *
 * Every pointer the test keeps lives in `roots` or in heap blocks: the
 * heap is built in a noinline function whose frame is dead by the time of
 * the scan (the scan reads the stack from its caller's frame up only). */
#include <criterion/criterion.h>

#include <string.h>

#include "alloc/alloc.h"
#include "leak/leak.h"
#include "trace/trace.h"
#include "snapalloc.h"

static void *roots[8];

static void *t_malloc(size_t n)
{
    void *p = sa_malloc(n);
    if (sa_trace_on && p)
        sa_trace_alloc(p, n);
    memset(p, 0, n);
    return p;
}

static void set(void *block, size_t word, const void *value)
{
    ((const void **)block)[word] = value;
}

/* Wipe the dead frames the builders left below the caller's frame. */
static void scrub(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof pad);
}

static void cleanup(void)
{
    snapalloc_stop();
}

TestSuite(leak_scan, .fini = cleanup);

/* reachable: R1 -> R2 -> Q -> Q2 (Q also has an interior pointer from a
 *            root), G (large, 1 MiB) -> H via a word in its middle
 * possible:  P (interior pointer from a root) -> P2
 * definite:  L1 -> L2 -> L3 (interior), cycle C1 <-> C2, D
 * indirect:  L2, L3, C2 (or C1: the higher address) */
static void build(void)
{
    void *r1 = t_malloc(64), *r2 = t_malloc(48), *q = t_malloc(32), *q2 = t_malloc(100);
    roots[0] = r1;
    set(r1, 3, r2);
    set(r2, 0, q);
    roots[1] = (char *)q + 8;
    set(q, 2, q2);
    void *g = t_malloc(1 << 20), *h = t_malloc(24);
    roots[2] = g;
    set(g, (512 << 10) / sizeof(void *), h);

    void *p = t_malloc(80), *p2 = t_malloc(16);
    roots[3] = (char *)p + 40;
    set(p, 1, p2);

    void *l1 = t_malloc(200), *l2 = t_malloc(300), *l3 = t_malloc(30);
    set(l1, 5, l2);
    set(l2, 7, (char *)l3 + 9);
    void *c1 = t_malloc(56), *c2 = t_malloc(56);
    set(c1, 0, c2);
    set(c2, 0, c1);
    (void)t_malloc(10);   /* D */
}

static void expect(const sa_leak_result *r, int cls, uint64_t bytes, uint64_t blocks, const char *name)
{
    cr_expect_eq(r->bytes[cls], bytes, "%s: %llu bytes, expected %llu", name,
                 (unsigned long long)r->bytes[cls], (unsigned long long)bytes);
    cr_expect_eq(r->blocks[cls], blocks, "%s: %llu blocks, expected %llu", name,
                 (unsigned long long)r->blocks[cls], (unsigned long long)blocks);
}

Test(leak_scan, classes)
{
    cr_assert_eq(snapalloc_start(4), 0);
    build();
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    expect(&r, SA_LEAK_REACHABLE, 64 + 48 + 32 + 100 + (1 << 20) + 24, 6, "reachable");
    expect(&r, SA_LEAK_POSSIBLE, 80 + 16, 2, "possible");
    expect(&r, SA_LEAK_DEFINITE, 200 + 56 + 10, 3, "definite");
    expect(&r, SA_LEAK_INDIRECT, 300 + 30 + 56, 3, "indirect");
    /* Every class has its entries, sorted by class, with the stacks of
     * t_malloc's callers (all blocks are traced). */
    uint64_t sum = 0;
    for (size_t i = 0; i < r.nentries; i++) {
        cr_expect_neq(r.entries[i].stack, 0);
        if (i)
            cr_expect_leq(r.entries[i - 1].cls, r.entries[i].cls);
        sum += r.entries[i].count;
    }
    cr_expect_eq(sum, 14);
    sa_leak_result_free(&r);
}

/* A lost block whose address is stored in a second lost block: whichever
 * has the lower address is scanned first, the result is the same. */
static void build_chain_backwards(void)
{
    void *a = t_malloc(64), *b = t_malloc(64);
    /* b -> a: b is the head whatever the addresses */
    set(b, 1, a);
}

Test(leak_scan, chain_head_is_definite_either_order)
{
    cr_assert_eq(snapalloc_start(4), 0);
    build_chain_backwards();
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    expect(&r, SA_LEAK_DEFINITE, 64, 1, "definite");
    expect(&r, SA_LEAK_INDIRECT, 64, 1, "indirect");
    expect(&r, SA_LEAK_REACHABLE, 0, 0, "reachable");
    sa_leak_result_free(&r);
}

/* Blocks without a record (allocated while not tracing, or traced in an
 * older generation) count with their usable size, and all of it is
 * inside the block. */
static void build_untraced(void)
{
    void *s = t_malloc(40);
    roots[4] = (char *)s + 44;
    snapalloc_stop();          /* a new generation: s's record is void */
    roots[5] = sa_malloc(20);
    memset(sa_malloc(20), 0, 20);   /* lost */
}

Test(leak_scan, untraced_blocks_count_usable_size)
{
    cr_assert_eq(snapalloc_start(4), 0);
    build_untraced();
    scrub();
    size_t s_usable = sa_usable_size((char *)roots[4] - 44);
    size_t u_usable = sa_usable_size(roots[5]);
    cr_assert_gt(s_usable, 44);
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    expect(&r, SA_LEAK_POSSIBLE, s_usable, 1, "possible");
    expect(&r, SA_LEAK_REACHABLE, u_usable, 1, "reachable");
    expect(&r, SA_LEAK_DEFINITE, u_usable, 1, "definite");
    cr_expect_eq(r.nentries, 3);
    for (size_t i = 0; i < r.nentries; i++)
        cr_expect_eq(r.entries[i].stack, 0);
    sa_leak_result_free(&r);
}

/* Past the requested size (40 of a 48-byte block) is not inside the
 * block, as in valgrind; malloc(0) is pointed to by its start. */
static void build_slack_traced(void)
{
    void *s = t_malloc(40);
    roots[4] = (char *)s + 44;
    void *z = t_malloc(0);
    roots[5] = z;
}

Test(leak_scan, slack_is_outside_the_block)
{
    cr_assert_eq(snapalloc_start(4), 0);
    build_slack_traced();
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    expect(&r, SA_LEAK_DEFINITE, 40, 1, "definite");
    expect(&r, SA_LEAK_REACHABLE, 0, 1, "reachable (malloc(0) by its start)");
    sa_leak_result_free(&r);
}

/* Freed blocks are not blocks; an empty heap scans clean. */
Test(leak_scan, freed_blocks_are_ignored)
{
    cr_assert_eq(snapalloc_start(4), 0);
    void *a = sa_malloc(64);
    sa_trace_alloc(a, 64);
    sa_trace_free(a);
    sa_free(a);
    a = NULL;
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    for (int c = 1; c < SA_LEAK_NCLASSES; c++)
        expect(&r, c, 0, 0, "class");
    cr_expect_eq(r.nentries, 0);
    sa_leak_result_free(&r);
}
