/* test_leak_roots.c - the leak scan's roots and shapes beyond LSan's:
 * memory the program mapped itself (memcheck scans it), with the
 * allocator's own memory left out; the clearing of what the program has
 * not written (sa_leak_scrub); memcheck's four interior-pointer
 * heuristics, matched alone and through a whole scan.
 *
 * As in test_leak_scan.c, the heaps are built in noinline functions whose
 * frames are dead (and scrubbed) by the time of the scan. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "leak/leak.h"
#include "trace/trace.h"
#include "alloc/meta.h"
#include "snapalloc.h"

static void *t_malloc(size_t n)
{
    void *p = sa_malloc(n);
    if (sa_trace_on && p)
        sa_trace_alloc(p, n);
    memset(p, 0, n);
    return p;
}

/* Wipe the dead frames the builders left. */
static void scrub_stack(void)
{
    volatile char pad[16384];
    memset((char *)pad, 0, sizeof pad);
}

/* And the callee-saved registers, in the test's own body (a function of
 * its own would restore them): the scan takes its caller's registers as
 * roots, and the allocator's code may leave a block's address in one. */
#if defined(__x86_64__)
#define scrub()                                                                        \
    do {                                                                               \
        scrub_stack();                                                                 \
        __asm__ volatile("xor %%ebx, %%ebx\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\t" \
                         "xor %%r14d, %%r14d\n\txor %%r15d, %%r15d"                      \
                         ::: "rbx", "r12", "r13", "r14", "r15");                       \
    } while (0)
#else
#define scrub() scrub_stack()
#endif

static void cleanup(void)
{
    snapalloc_stop();
    sa_leak_cfg.heuristics = 0;
}

TestSuite(leak_roots, .fini = cleanup);

void **leak_roots_meta_piece;
static void **anon_map, **file_map;

/* A: only in an anonymous mapping of the program's; B: only in a shared
 * file mapping; C: only in a piece of the allocator's metadata. */
static void build_mapped(FILE *f)
{
    anon_map = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(anon_map, MAP_FAILED);
    anon_map[100] = t_malloc(100);
    cr_assert_eq(ftruncate(fileno(f), 8192), 0);
    file_map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fileno(f), 0);
    cr_assert_neq(file_map, MAP_FAILED);
    file_map[3] = t_malloc(200);
    leak_roots_meta_piece = sa_meta_alloc(64);
    leak_roots_meta_piece[1] = t_malloc(300);
}

Test(leak_roots, program_mappings_are_roots_allocator_memory_is_not)
{
    cr_assert_eq(snapalloc_start(4), 0);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    build_mapped(f);
    scrub();
    sa_leak_result r;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.bytes[SA_LEAK_REACHABLE], 300, "reachable %llu",
                 (unsigned long long)r.bytes[SA_LEAK_REACHABLE]);
    cr_expect_eq(r.bytes[SA_LEAK_DEFINITE], 300, "definite %llu",
                 (unsigned long long)r.bytes[SA_LEAK_DEFINITE]);
    cr_expect_eq(r.blocks[SA_LEAK_DEFINITE], 1);
    sa_leak_result_free(&r);
    /* Unmapped, the same two blocks are lost. */
    munmap(anon_map, 1 << 16);
    munmap(file_map, 8192);
    anon_map = file_map = NULL;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.bytes[SA_LEAK_DEFINITE], 600);
    sa_leak_result_free(&r);
    fclose(f);
}

/* ---- sa_leak_scrub ------------------------------------------------------ */

Test(leak_roots, scrub_clears_only_our_blocks_in_range)
{
    unsigned char *p = sa_malloc(64);
    memset(p, 0xab, 64);
    sa_leak_scrub(p, 16, 40);
    for (int i = 0; i < 64; i++)
        cr_expect_eq(p[i], i >= 16 && i < 40 ? 0 : 0xab, "byte %d", i);
    sa_leak_scrub(p, 0, 64);
    for (int i = 0; i < 64; i++)
        cr_expect_eq(p[i], 0);
    sa_free(p);
    static unsigned char foreign[64];
    memset(foreign, 0xcd, sizeof foreign);
    sa_leak_scrub(foreign, 0, sizeof foreign);
    cr_expect_eq(foreign[0], 0xcd);
    cr_expect_eq(foreign[63], 0xcd);
}

/* ---- Heuristics --------------------------------------------------------- */

Test(leak_roots, heuristic_names_parse)
{
    unsigned m = 99;
    cr_expect_eq(sa_leak_heur_parse("all", &m), 0);
    cr_expect_eq(m, SA_LEAK_HEUR_ALL);
    cr_expect_eq(sa_leak_heur_parse("none", &m), 0);
    cr_expect_eq(m, 0);
    cr_expect_eq(sa_leak_heur_parse("stdstring,newarray", &m), 0);
    cr_expect_eq(m, (1u << SA_LEAK_HEUR_STDSTRING) | (1u << SA_LEAK_HEUR_NEWARRAY));
    cr_expect_eq(sa_leak_heur_parse("multipleinheritance", &m), 0);
    cr_expect_eq(m, 1u << SA_LEAK_HEUR_MULTIPLEINHERITANCE);
    cr_expect_eq(sa_leak_heur_parse("length", &m), -1);
    cr_expect_eq(sa_leak_heur_parse("stdstring,", &m), -1);
    cr_expect_eq(sa_leak_heur_parse("", &m), -1);
    cr_expect_eq(sa_leak_heur_parse("all,none", &m), -1);
}

/* An Itanium-ABI-shaped vtable in read-only data (relocated: .data.rel.ro,
 * read-only after RELRO): offset-to-top, typeinfo, then the vptr's slots. */
static void fake_fn(void) {}
static const void *const fake_typeinfo[2] = { (const void *)fake_fn, "fake" };
static const void *const fake_vtable[4] = { (const void *)0, fake_typeinfo, (const void *)fake_fn,
                                            (const void *)fake_fn };
static const void *const fake_vtable2[4] = { (const void *)-16, fake_typeinfo,
                                             (const void *)fake_fn, (const void *)fake_fn };

Test(leak_roots, heuristics_match_memchecks_shapes)
{
    sa_leak_ranges maps = {0};
    cr_assert_eq(sa_leak_maps_read(&maps), 0);
    const unsigned all = SA_LEAK_HEUR_ALL;
    uintptr_t w[16] __attribute__((aligned(16)));
    uintptr_t b = (uintptr_t)w;

    /* stdstring: length 5 <= capacity 40, size 3 words + 40 + 1 */
    memset(w, 0, sizeof w);
    w[0] = 5;
    w[1] = 40;
    cr_expect_eq(sa_leak_heur_match(all, b, 24 + 41, b + 24, &maps), SA_LEAK_HEUR_STDSTRING + 1);
    cr_expect_eq(sa_leak_heur_match(all, b, 24 + 42, b + 24, &maps), 0, "size off by one");
    w[0] = 41;
    cr_expect_eq(sa_leak_heur_match(all, b, 24 + 41, b + 24, &maps), 0, "length > capacity");
    w[0] = 5;
    cr_expect_eq(sa_leak_heur_match(all & ~(1u << SA_LEAK_HEUR_STDSTRING), b, 65, b + 24, &maps), 0);

    /* length64: the first 8 bytes hold size - 8 */
    memset(w, 0, sizeof w);
    w[0] = 100;
    cr_expect_eq(sa_leak_heur_match(1u << SA_LEAK_HEUR_LENGTH64, b, 108, b + 8, &maps),
                 SA_LEAK_HEUR_LENGTH64 + 1);
    cr_expect_eq(sa_leak_heur_match(1u << SA_LEAK_HEUR_LENGTH64, b, 109, b + 8, &maps), 0);
    /* ... which newarray matches too (a count dividing the rest), as in
     * memcheck; the first heuristic in memcheck's order wins */
    cr_expect_eq(sa_leak_heur_match(all, b, 108, b + 8, &maps), SA_LEAK_HEUR_LENGTH64 + 1);

    /* newarray: 10 elements of 4 bytes after the cookie; 3 does not divide 40 */
    w[0] = 10;
    cr_expect_eq(sa_leak_heur_match(all, b, 48, b + 8, &maps), SA_LEAK_HEUR_NEWARRAY + 1);
    w[0] = 3;
    cr_expect_eq(sa_leak_heur_match(all, b, 48, b + 8, &maps), 0);
    w[0] = 0;
    cr_expect_eq(sa_leak_heur_match(all, b, 48, b + 8, &maps), 0, "a count of 0");
    cr_expect_eq(sa_leak_heur_match(all, b, 48, b + 16, &maps), 0, "not one word in");

    /* multipleinheritance: the block's first word and the pointed word are
     * vptrs; heap or writable data is not a vtable */
    memset(w, 0, sizeof w);
    w[0] = (uintptr_t)&fake_vtable[2];
    w[2] = (uintptr_t)&fake_vtable2[2];
    cr_expect_eq(sa_leak_heur_match(all, b, 32, b + 16, &maps),
                 SA_LEAK_HEUR_MULTIPLEINHERITANCE + 1);
    cr_expect_eq(sa_leak_heur_match(all, b, 32, b + 12, &maps), 0, "misaligned");
    static uintptr_t writable[4];
    w[2] = (uintptr_t)&writable[2];
    cr_expect_eq(sa_leak_heur_match(all, b, 32, b + 16, &maps), 0, "writable data");
    w[2] = (uintptr_t)&fake_vtable2[2];
    w[0] = 24;
    cr_expect_eq(sa_leak_heur_match(all, b, 32, b + 16, &maps), 0, "first word not a vptr");
    sa_leak_ranges_free(&maps);
}

/* Global: a static that is written and never read would be optimized
 * away (the test is built at -O2 whatever its own flags say). */
void *leak_roots_heur_root;

/* Only a pointer 8 bytes into a length64-shaped block keeps it. */
static void build_length64(void)
{
    uint64_t *blk = t_malloc(8 + 40);
    blk[0] = 40;
    leak_roots_heur_root = blk + 1;
}

Test(leak_roots, scan_counts_blocks_reached_by_heuristic)
{
    cr_assert_eq(snapalloc_start(4), 0);
    build_length64();
    scrub();
    sa_leak_result r;
    sa_leak_cfg.heuristics = SA_LEAK_HEUR_ALL;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.bytes[SA_LEAK_REACHABLE], 48, "reachable %llu definite %llu possible %llu",
                  (unsigned long long)r.bytes[SA_LEAK_REACHABLE], (unsigned long long)r.bytes[SA_LEAK_DEFINITE],
                 (unsigned long long)r.bytes[SA_LEAK_POSSIBLE]);
    cr_expect_eq(r.heur_bytes[SA_LEAK_HEUR_LENGTH64], 48);
    cr_expect_eq(r.heur_blocks[SA_LEAK_HEUR_LENGTH64], 1);
    int found = 0;
    for (size_t i = 0; i < r.nentries; i++)
        found += r.entries[i].cls == SA_LEAK_HEUR_CLASS + SA_LEAK_HEUR_LENGTH64 &&
                 r.entries[i].size == 48 && r.entries[i].count == 1;
    cr_expect_eq(found, 1);
    sa_leak_result_free(&r);
    sa_leak_cfg.heuristics = 0;
    cr_assert_eq(sa_leak_scan(&r), 0);
    cr_expect_eq(r.bytes[SA_LEAK_POSSIBLE], 48, "without heuristics: possibly lost");
    cr_expect_eq(r.heur_blocks[SA_LEAK_HEUR_LENGTH64], 0);
    sa_leak_result_free(&r);
}
