/* semantics.c - every malloc-family entry point against glibc's documented
 * behaviour, for semantics.sh.
 *
 * Run as "semantics glibc" (plain: a check of the test itself against the
 * reference) and as "semantics snapalloc" (with libsnapalloc preloaded: the
 * program first checks that the preload took, i.e. that every entry point
 * resolves into the same object as snapalloc_print_stats).  Where glibc 2.36
 * does something implementation-defined (realloc(p, 0), aligned_alloc with
 * an alignment that is not a power of two, memalign(0, n)), the test asserts
 * glibc's behaviour: a drop-in replacement must not surprise programs
 * written against it.
 *
 * Prints "FAIL file:line: what" for every failed check and a summary line;
 * exit status 0 only if every check passed.  Each group of checks runs in a
 * child process: a crash fails its group and the others still run.
 *
 * Built with -fno-builtin, and sizes and pointers pass through OPAQUE(), so
 * that the compiler neither folds calls with known results nor drops
 * malloc/free pairs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* glibc's exported aliases of its allocator; snapalloc exports them too. */
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

#define OPAQUE(x) __asm__ volatile("" : "+r"(x))
#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

static int checks, failures;
static int snapalloc_mode;

static void fail_at(int line, const char *fmt, ...)
{
    va_list ap;
    failures++;
    printf("FAIL semantics.c:%d: ", line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond))                                                           \
            fail_at(__LINE__, __VA_ARGS__);                                    \
    } while (0)

static int aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return 0;
    return 1;
}

static unsigned char pat(size_t i, unsigned salt)
{
    return (unsigned char)(i * 131 + salt);
}

static void fill_pat(void *p, size_t n, unsigned salt)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = pat(i, salt);
}

static int has_pat(const void *p, size_t n, unsigned salt)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != pat(i, salt))
            return 0;
    return 1;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- the preload took ------------------------------------------------- */

static const char *object_of(const char *sym)
{
    Dl_info info;
    void *addr = dlsym(RTLD_DEFAULT, sym);
    if (!addr || !dladdr(addr, &info) || !info.dli_fname)
        return NULL;
    return info.dli_fname;
}

static void test_resolution(void)
{
    static const char *const entry[] = {
        "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
        "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
        "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc",
        "__libc_memalign",
    };
    const char *stats = object_of("snapalloc_print_stats");
    const char *home = object_of("malloc");

    if (snapalloc_mode)
        CHECK(stats != NULL, "snapalloc_print_stats not found: libsnapalloc is not preloaded");
    else
        CHECK(stats == NULL, "snapalloc_print_stats found in the glibc run (%s)", stats);
    CHECK(home != NULL, "dladdr(malloc) failed");
    if (!home)
        return;
    if (stats)
        CHECK(strcmp(home, stats) == 0, "malloc is in %s, not in %s", home, stats);
    /* Every entry point must come from the same allocator as malloc: one
     * left to glibc would get (or free) memory of the other allocator. */
    for (size_t i = 0; i < sizeof entry / sizeof entry[0]; i++) {
        const char *obj = object_of(entry[i]);
        CHECK(obj && strcmp(obj, home) == 0, "%s resolves to %s, malloc to %s", entry[i],
              obj ? obj : "(nothing)", home);
    }
}

/* ---- malloc ----------------------------------------------------------- */

static void test_malloc_zero(void)
{
    size_t zero = 0;
    OPAQUE(zero);
    void *a = malloc(zero), *b = malloc(zero);
    CHECK(a != NULL && b != NULL, "malloc(0) returned NULL");
    CHECK(a != b, "two malloc(0) returned the same pointer %p", a);
    CHECK(aligned(a, 16) && aligned(b, 16), "malloc(0) not 16-aligned: %p %p", a, b);
    free(a);
    free(b);
    void *c = calloc(zero, zero), *d = calloc(zero, 8);
    CHECK(c != NULL && d != NULL && c != d, "calloc(0, 0) / calloc(0, 8): %p %p", c, d);
    free(c);
    free(d);
    void *e = realloc(NULL, zero);
    CHECK(e != NULL, "realloc(NULL, 0) returned NULL (glibc: malloc(0))");
    free(e);
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu", malloc_usable_size(NULL));
}

/* Step through sizes 0..70000 (every size up to 1100, then coarser) and a
 * few large ones.  A ring of live blocks, filled with their index, checks
 * that no two live blocks overlap. */
#define RING 64
static void test_sweep(void)
{
    struct { unsigned char *p; size_t n; unsigned char v; } ring[RING] = {{0}};
    static const size_t large[] = {MiB - 1, MiB, MiB + 1, 3 * MiB + 17, 10 * MiB};
    size_t sizes[3000];
    size_t nsizes = 0;
    for (size_t s = 0; s <= 70000; s += s < 1100 ? 1 : s < 10000 ? 37 : 331)
        sizes[nsizes++] = s;
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++)
        sizes[nsizes++] = large[i];

    int bad_align = 0, bad_usable = 0, bad_overlap = 0, bad_null = 0, bad_zero = 0, bad_keep = 0;
    unsigned char *chain = NULL;   /* realloc'ed through every size */
    size_t chain_n = 0;
    for (size_t k = 0; k < nsizes; k++) {
        size_t n = sizes[k];
        OPAQUE(n);
        for (int kind = 0; kind < 2; kind++) {
            unsigned char *p = kind == 0 ? malloc(n) : calloc(1, n);
            if (!p) {
                if (!bad_null++)
                    fail_at(__LINE__, "%s(%zu) returned NULL", kind ? "calloc" : "malloc", n);
                continue;
            }
            if (!aligned(p, 16) && !bad_align++)
                fail_at(__LINE__, "%s(%zu) = %p is not 16-aligned", kind ? "calloc" : "malloc", n, p);
            size_t u = malloc_usable_size(p);
            if (u < n && !bad_usable++)
                fail_at(__LINE__, "malloc_usable_size(%s(%zu)) = %zu", kind ? "calloc" : "malloc", n, u);
            if (kind == 1 && !all_bytes(p, n, 0) && !bad_zero++)
                fail_at(__LINE__, "calloc(1, %zu) memory is not zero", n);
            int r = (int)((k * 2 + kind) % RING);
            if (ring[r].p) {
                if (!all_bytes(ring[r].p, ring[r].n, ring[r].v) && !bad_overlap++)
                    fail_at(__LINE__, "block %p (usable %zu) was overwritten while live: overlap",
                            ring[r].p, ring[r].n);
                free(ring[r].p);
            }
            memset(p, (unsigned char)(k * 2 + kind), u);   /* the whole usable size */
            ring[r].p = p;
            ring[r].n = u;
            ring[r].v = (unsigned char)(k * 2 + kind);
        }
        unsigned char *q = realloc(chain, n);
        if (!q) {
            if (!bad_null++)
                fail_at(__LINE__, "realloc(%p, %zu) returned NULL", chain, n);
            continue;
        }
        if (!aligned(q, 16) && !bad_align++)
            fail_at(__LINE__, "realloc(.., %zu) = %p is not 16-aligned", n, q);
        size_t keep = chain_n < n ? chain_n : n;
        if (!has_pat(q, keep, 3) && !bad_keep++)
            fail_at(__LINE__, "realloc from %zu to %zu bytes lost the contents", chain_n, n);
        fill_pat(q, n, 3);
        chain = q;
        chain_n = n;
    }
    for (int r = 0; r < RING; r++) {
        if (ring[r].p && !all_bytes(ring[r].p, ring[r].n, ring[r].v) && !bad_overlap++)
            fail_at(__LINE__, "block %p was overwritten while live", ring[r].p);
        free(ring[r].p);
    }
    free(chain);
    checks += 6;
    printf("sweep: %zu sizes\n", nsizes);
}

static void test_huge(void)
{
    size_t sizes[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX, SIZE_MAX - 4096,
                      SIZE_MAX - 15};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        OPAQUE(n);
        errno = 0;
        void *p = malloc(n);
        CHECK(p == NULL && errno == ENOMEM, "malloc(%zu) = %p, errno %d (want NULL, ENOMEM)", n, p,
              errno);
    }
    struct { size_t n, m; } ov[] = {
        {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {(size_t)1 << 32, (size_t)1 << 32},
        {SIZE_MAX, SIZE_MAX}, {1, SIZE_MAX}, {SIZE_MAX / 3, 4},
    };
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        size_t n = ov[i].n, m = ov[i].m;
        OPAQUE(n);
        OPAQUE(m);
        errno = 0;
        void *p = calloc(n, m);
        CHECK(p == NULL && errno == ENOMEM, "calloc(%zu, %zu) = %p, errno %d (want NULL, ENOMEM)", n,
              m, p, errno);
    }
}

/* calloc must return zeroed memory even when it reuses dirty freed blocks. */
static void test_calloc_dirty(void)
{
    static const size_t sizes[] = {1, 8, 16, 24, 100, 512, 513, 1000, 4096, 20000,
                                   70000, 200000, MiB, 4 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        int bad = 0;
        for (int rep = 0; rep < (n >= MiB ? 4 : 20); rep++) {
            unsigned char *many[16];
            for (int j = 0; j < 16; j++) {
                many[j] = malloc(n);
                if (many[j])
                    memset(many[j], 0xAA, malloc_usable_size(many[j]));
            }
            for (int j = 0; j < 16; j++)
                free(many[j]);
            for (int j = 0; j < 16; j++) {
                many[j] = rep % 2 ? calloc(n, 1) : calloc(1, n);
                if (!many[j] || !all_bytes(many[j], n, 0))
                    bad++;
                if (many[j])
                    memset(many[j], 0xAA, malloc_usable_size(many[j]));
            }
            for (int j = 0; j < 16; j++)
                free(many[j]);
        }
        CHECK(!bad, "calloc(%zu) after freeing dirty blocks: %d blocks not zero (or NULL)", n, bad);
        /* n elements of 8 bytes, too */
        unsigned char *p = malloc(n * 8);
        if (p)
            memset(p, 0xAA, n * 8);
        free(p);
        p = calloc(n, 8);
        CHECK(p && all_bytes(p, n * 8, 0), "calloc(%zu, 8) not zero", n);
        free(p);
    }
}

/* ---- realloc ---------------------------------------------------------- */

static void test_realloc(void)
{
    size_t n = 100;
    OPAQUE(n);
    unsigned char *p = realloc(NULL, n);
    CHECK(p && aligned(p, 16) && malloc_usable_size(p) >= n, "realloc(NULL, 100) = %p", (void *)p);
    fill_pat(p, n, 1);

    /* glibc 2.36: realloc(p, 0) with p != NULL frees p and returns NULL. */
    size_t zero = 0;
    OPAQUE(zero);
    void *z = realloc(p, zero);
    CHECK(z == NULL, "realloc(p, 0) = %p (glibc frees p and returns NULL)", z);
    if (z)
        free(z);

    /* Contents survive growth and shrinkage across every size class. */
    static const size_t steps[] = {16, 512, 4 * KiB, 70 * KiB, 3 * MiB, 70 * KiB, 4 * KiB, 512, 16,
                                   1, 3 * MiB, 16};
    size_t cur = steps[0];
    p = malloc(cur);
    fill_pat(p, cur, 9);
    for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
        size_t next = steps[i];
        unsigned char *q = realloc(p, next);
        CHECK(q != NULL, "realloc(%zu -> %zu) returned NULL", cur, next);
        if (!q)
            break;
        size_t keep = cur < next ? cur : next;
        CHECK(has_pat(q, keep, 9), "realloc(%zu -> %zu) did not keep the first %zu bytes", cur, next,
              keep);
        CHECK(aligned(q, 16) && malloc_usable_size(q) >= next, "realloc(%zu -> %zu) = %p, usable %zu",
              cur, next, (void *)q, malloc_usable_size(q));
        fill_pat(q, next, 9);
        p = q;
        cur = next;
    }
    free(p);

    /* A failed realloc returns NULL, sets ENOMEM and leaves the block. */
    static const size_t olds[] = {100, 10000, MiB};
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
        size_t huge[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, SIZE_MAX - 4096};
        p = malloc(olds[i]);
        fill_pat(p, olds[i], 5);
        for (size_t j = 0; j < sizeof huge / sizeof huge[0]; j++) {
            size_t h = huge[j];
            OPAQUE(h);
            errno = 0;
            void *q = realloc(p, h);
            CHECK(q == NULL && errno == ENOMEM, "realloc(%zu-byte block, %zu) = %p, errno %d", olds[i],
                  h, q, errno);
            CHECK(has_pat(p, olds[i], 5), "failed realloc damaged the %zu-byte block", olds[i]);
        }
        free(p);
    }

    /* reallocarray: overflow is ENOMEM and leaves the block. */
    size_t a = SIZE_MAX / 2, b = 3;
    OPAQUE(a);
    errno = 0;
    void *q = reallocarray(NULL, a, b);
    CHECK(q == NULL && errno == ENOMEM, "reallocarray(NULL, SIZE_MAX/2, 3) = %p, errno %d", q, errno);
    p = malloc(64);
    fill_pat(p, 64, 6);
    a = (size_t)1 << 33;
    b = (size_t)1 << 33;
    OPAQUE(a);
    errno = 0;
    unsigned char *alias = p;   /* p stays ours when the call fails */
    OPAQUE(alias);
    q = reallocarray(alias, a, b);
    CHECK(q == NULL && errno == ENOMEM, "reallocarray(p, 2^33, 2^33) = %p, errno %d", q, errno);
    CHECK(has_pat(p, 64, 6), "failed reallocarray damaged the block");
    q = reallocarray(p, 1000, 8);
    CHECK(q && has_pat(q, 64, 6) && malloc_usable_size(q) >= 8000, "reallocarray(p, 1000, 8) = %p", q);
    free(q ? q : p);
}

/* ---- aligned allocation ----------------------------------------------- */

static void test_posix_memalign(void)
{
    static const size_t bad[] = {0, 1, 2, 4, 12, 24, 48, 100, 4097, 3 * 4096, SIZE_MAX};
    void *const sentinel = (void *)(uintptr_t)0x5a5a5a5aUL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *m = sentinel;
        int rc = posix_memalign(&m, bad[i], 100);
        CHECK(rc == EINVAL && m == sentinel, "posix_memalign(align %zu) = %d, *memptr %p (want EINVAL, untouched)",
              bad[i], rc, m);
    }
    static const size_t sizes[] = {0, 1, 100, 4096, 100000};
    for (size_t a = 8; a <= MiB; a *= 2)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *m = sentinel;
            int rc = posix_memalign(&m, a, sizes[i]);
            CHECK(rc == 0 && m != sentinel && m != NULL && aligned(m, a),
                  "posix_memalign(align %zu, size %zu) = %d, %p", a, sizes[i], rc, m);
            if (rc == 0 && m) {
                CHECK(malloc_usable_size(m) >= sizes[i], "posix_memalign(%zu, %zu): usable %zu", a,
                      sizes[i], malloc_usable_size(m));
                memset(m, 0x77, sizes[i]);
                free(m);
            }
        }
    size_t huge[] = {SIZE_MAX - 100, (size_t)PTRDIFF_MAX + 1};
    for (size_t i = 0; i < 2; i++) {
        void *m = sentinel;
        size_t h = huge[i];
        OPAQUE(h);
        int rc = posix_memalign(&m, 64, h);
        CHECK(rc == ENOMEM && m == sentinel, "posix_memalign(64, %zu) = %d, *memptr %p (want ENOMEM, untouched)",
              h, rc, m);
    }
}

static void test_aligned_alloc(void)
{
    for (size_t a = 1; a <= 65536; a *= 2) {
        size_t sizes[] = {1, 3, 100, a + 1, a * 3 / 2 + 5, 12345};   /* not multiples of a */
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            OPAQUE(n);
            void *p = aligned_alloc(a, n);
            CHECK(p && aligned(p, a), "aligned_alloc(%zu, %zu) = %p", a, n, p);
            if (p) {
                CHECK(malloc_usable_size(p) >= n, "aligned_alloc(%zu, %zu): usable %zu", a, n,
                      malloc_usable_size(p));
                memset(p, 0x33, n);
                free(p);
            }
        }
    }
    /* glibc 2.36 treats an alignment that is not a power of two as
     * memalign does: rounded up to the next power of two (glibc 2.38 and
     * later return NULL, EINVAL). */
    size_t a = 24;
    OPAQUE(a);
    errno = 0;
    void *p = aligned_alloc(a, 100);
    CHECK(p && aligned(p, 32), "aligned_alloc(24, 100) = %p, errno %d (glibc 2.36: 32-aligned block)",
          p, errno);
    free(p);
    a = 0;
    OPAQUE(a);
    p = aligned_alloc(a, 100);
    CHECK(p != NULL, "aligned_alloc(0, 100) = NULL (glibc: as malloc)");
    free(p);
    size_t h = SIZE_MAX - 100;
    OPAQUE(h);
    errno = 0;
    p = aligned_alloc(64, h);
    CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(64, huge) = %p, errno %d", p, errno);
}

static void test_memalign_valloc(void)
{
    for (size_t a = 1; a <= MiB; a *= 2) {
        static const size_t sizes[] = {1, 100, 5000};
        for (size_t i = 0; i < 3; i++) {
            void *p = memalign(a, sizes[i]);
            CHECK(p && aligned(p, a) && malloc_usable_size(p) >= sizes[i], "memalign(%zu, %zu) = %p", a,
                  sizes[i], p);
            if (p)
                memset(p, 0x44, sizes[i]);
            free(p);
        }
    }
    /* glibc rounds an alignment that is not a power of two up to one. */
    static const struct { size_t align, want; } odd[] = {{24, 32}, {48, 64}, {100, 128}, {3000, 4096}};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        size_t a = odd[i].align;
        OPAQUE(a);
        void *p = memalign(a, 100);
        CHECK(p && aligned(p, odd[i].want), "memalign(%zu, 100) = %p (glibc: %zu-aligned)", a, p,
              odd[i].want);
        free(p);
    }
    size_t zero = 0;
    OPAQUE(zero);
    void *p = memalign(zero, 100);
    CHECK(p && aligned(p, 16), "memalign(0, 100) = %p (glibc: as malloc)", p);
    free(p);

    size_t ps = page_size();
    static const size_t vs[] = {1, 100, 4096, 5000, MiB};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        p = valloc(vs[i]);
        CHECK(p && aligned(p, ps) && malloc_usable_size(p) >= vs[i], "valloc(%zu) = %p", vs[i], p);
        if (p)
            memset(p, 0x55, vs[i]);
        free(p);
    }
    static const size_t pvs[] = {1, 100, 4096, 4097, MiB + 1};
    for (size_t i = 0; i < sizeof pvs / sizeof pvs[0]; i++) {
        size_t rounded = (pvs[i] + ps - 1) / ps * ps;
        p = pvalloc(pvs[i]);
        CHECK(p && aligned(p, ps) && malloc_usable_size(p) >= rounded,
              "pvalloc(%zu) = %p, usable %zu (want page-aligned, usable >= %zu)", pvs[i], p,
              p ? malloc_usable_size(p) : 0, rounded);
        if (p)
            memset(p, 0x66, rounded);
        free(p);
    }
}

/* ---- free ------------------------------------------------------------- */

static void test_free(void)
{
    free(NULL);
    checks++;
    static const size_t sizes[] = {1, 16, 100, 2048, 4096, 70000, 100000, MiB, 10 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *blocks[4];
        blocks[0] = malloc(sizes[i]);
        blocks[1] = calloc(1, sizes[i]);
        blocks[2] = realloc(malloc(8), sizes[i]);
        blocks[3] = memalign(4096, sizes[i]);
        for (int j = 0; j < 4; j++) {
            errno = 1234;
            free(blocks[j]);
            CHECK(errno == 1234, "free of a %zu-byte block (kind %d) changed errno to %d", sizes[i], j,
                  errno);
        }
    }
    errno = 1234;
    free(NULL);
    CHECK(errno == 1234, "free(NULL) changed errno to %d", errno);
}

/* ---- the rest of the malloc.h API ------------------------------------- */

/* Run fn with stderr redirected to a temporary file; return what it wrote
 * (static buffer) or NULL. */
static const char *capture_stderr(void (*fn)(void))
{
    static char text[65536];
    FILE *f = tmpfile();
    if (!f)
        return NULL;
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(f), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

static void call_malloc_stats(void)
{
    malloc_stats();
}

static void call_snapalloc_print_stats(void)
{
    int (*print_stats)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "snapalloc_print_stats");
    int rc = print_stats ? print_stats(2) : -1;
    CHECK(rc == 0, "snapalloc_print_stats(2) = %d", rc);
}

static void test_malloc_h(void)
{
    void *keep = malloc(100000);
    int t = malloc_trim(0);
    CHECK(t == 0 || t == 1, "malloc_trim(0) = %d", t);
    int rc = mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (!snapalloc_mode)
        CHECK(rc == 1, "mallopt(M_MMAP_THRESHOLD, 1 MiB) = %d under glibc", rc);
    rc = mallopt(M_TRIM_THRESHOLD, 1 << 21);
    if (!snapalloc_mode)
        CHECK(rc == 1, "mallopt(M_TRIM_THRESHOLD) = %d under glibc", rc);
    struct mallinfo2 mi = mallinfo2();
    if (!snapalloc_mode)
        CHECK(mi.uordblks >= 100000 || mi.hblkhd >= 100000, "mallinfo2 does not count a live 100000-byte block");
    free(keep);

    const char *text = capture_stderr(call_malloc_stats);
    CHECK(text && text[0], "malloc_stats() printed nothing on stderr");

    if (snapalloc_mode) {
        text = capture_stderr(call_snapalloc_print_stats);
        CHECK(text && (strncmp(text, "# malloc calls", 14) == 0 || strstr(text, "\n# malloc calls")),
              "snapalloc_print_stats printed no '# malloc calls' line");
    }
}

static void test_libc_aliases(void)
{
    unsigned char *p = __libc_malloc(100);
    CHECK(p && aligned(p, 16), "__libc_malloc(100) = %p", (void *)p);
    fill_pat(p, 100, 2);
    free(p);

    p = malloc(200);
    fill_pat(p, 200, 2);
    __libc_free(p);

    p = __libc_calloc(100, 10);
    CHECK(p && all_bytes(p, 1000, 0), "__libc_calloc(100, 10) = %p, not zero", (void *)p);
    free(p);

    p = malloc(50);
    fill_pat(p, 50, 4);
    unsigned char *q = __libc_realloc(p, 5000);
    CHECK(q && has_pat(q, 50, 4), "__libc_realloc(malloc(50), 5000) = %p, lost contents", (void *)q);
    q = realloc(q, 100000);
    CHECK(q && has_pat(q, 50, 4), "realloc of a __libc_realloc block lost contents");
    __libc_free(q);

    p = __libc_memalign(256, 1000);
    CHECK(p && aligned(p, 256) && malloc_usable_size(p) >= 1000, "__libc_memalign(256, 1000) = %p",
          (void *)p);
    free(p);

    /* cfree: glibc 2.36 keeps it only as a compat symbol that dlsym cannot
     * see; test it only where it is exported by default. */
    void (*cfree_fn)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
    if (cfree_fn) {
        cfree_fn(malloc(100));
        cfree_fn(NULL);
        checks++;
    }
}

static void test_libc_users(void)
{
    char *s = strdup("snapalloc semantics");
    CHECK(s && strcmp(s, "snapalloc semantics") == 0, "strdup");
    free(s);
    s = strndup("snapalloc semantics", 9);
    CHECK(s && strcmp(s, "snapalloc") == 0, "strndup");
    free(s);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    s = strdup(big);
    CHECK(s && strlen(s) == sizeof big - 1, "strdup of 4999 bytes");
    free(s);
    s = NULL;
    int n = asprintf(&s, "%s-%d-%0*d", "asprintf", 42, 3000, 7);
    CHECK(n == 3012 && s && strncmp(s, "asprintf-42-000", 15) == 0 && strlen(s) == 3012,
          "asprintf = %d", n);
    free(s);
}

/* Run one group of checks in a child process, so that a crash in one group
 * is reported as a failure and does not hide the results of the others. */
static void run_section(const char *name, void (*fn)(void))
{
    int fds[2];
    fflush(stdout);
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        checks = failures = 0;
        fn();
        fflush(stdout);
        int counts[2] = {checks, failures};
        _exit(write(fds[1], counts, sizeof counts) == (ssize_t)sizeof counts ? 0 : 3);
    }
    close(fds[1]);
    int counts[2];
    ssize_t got = read(fds[0], counts, sizeof counts);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got == (ssize_t)sizeof counts && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        checks += counts[0];
        failures += counts[1];
    } else if (WIFSIGNALED(status)) {
        checks++;
        fail_at(__LINE__, "%s crashed with signal %d", name, WTERMSIG(status));
    } else {
        checks++;
        fail_at(__LINE__, "%s ended with status %d", name, WEXITSTATUS(status));
    }
}
#define SECTION(fn) run_section(#fn, fn)

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "glibc") != 0 && strcmp(argv[1], "snapalloc") != 0)) {
        fprintf(stderr, "usage: semantics glibc|snapalloc\n");
        return 2;
    }
    snapalloc_mode = strcmp(argv[1], "snapalloc") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* These two in this process, so that its allocator statistics (what
     * semantics.sh reads) show real work: 1528 sizes are swept. */
    test_resolution();
    test_sweep();
    SECTION(test_malloc_zero);
    SECTION(test_huge);
    SECTION(test_calloc_dirty);
    SECTION(test_realloc);
    SECTION(test_posix_memalign);
    SECTION(test_aligned_alloc);
    SECTION(test_memalign_valloc);
    SECTION(test_free);
    SECTION(test_malloc_h);
    SECTION(test_libc_aliases);
    SECTION(test_libc_users);

    printf("semantics (%s): %d checks, %d failed\n", argv[1], checks, failures);
    return failures ? 1 : 0;
}
