/* Large blocks give address space back only after the page map stopped
 * calling it theirs.  Once a range is unmapped, another thread may map a
 * block of its own there and register it; an entry cleared after that
 * unregisters the new block (its free() was ignored as a foreign
 * pointer: the leak large_realloc.sh reproduces with threads).  Here,
 * with one thread: munmap and mremap are interposed (this program's
 * definitions win over libc's for the core library linked into it) and
 * check, at the moment each range leaves us, that no granule starting in
 * it still reads as a live large block. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"

static unsigned long granules_released, still_registered;
/* The block under test: granules elsewhere (the test runner's, the
 * trimmed ends of fresh aligned mappings) are not counted. */
static uintptr_t watch_lo, watch_hi;

/* [p, p + len) is about to leave the process's address space. */
static void releasing(void *p, size_t len)
{
    uintptr_t a = ((uintptr_t)p + SA_ARENA_SIZE - 1) & ~(uintptr_t)(SA_ARENA_SIZE - 1);
    for (; a < (uintptr_t)p + len; a += SA_ARENA_SIZE) {
        if (a < watch_lo || a >= watch_hi)
            continue;
        uintptr_t e = sa_pagemap_get((void *)a);
        if ((e & SA_PM_TAG) == SA_PM_LARGE)
            __atomic_fetch_add(&still_registered, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&granules_released, 1, __ATOMIC_RELAXED);
    }
}

int munmap(void *p, size_t len)
{
    releasing(p, len);
    return (int)syscall(SYS_munmap, p, len);
}

void *mremap(void *p, size_t old, size_t size, int flags, ...)
{
    void *dest = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        dest = va_arg(ap, void *);
        va_end(ap);
        releasing(p, old);   /* a move leaves the whole old range */
    } else if (size < old) {
        releasing((char *)p + size, old - size);
    }
    return (void *)syscall(SYS_mremap, p, old, size, flags, dest);
}

static void setup(void)
{
    sa_init();
    sa_large_trim();   /* no cached block to take a realloc over */
    granules_released = still_registered = 0;
    watch_lo = watch_hi = 0;
}
TestSuite(large_unmap, .init = setup);

Test(large_unmap, a_shrink_unregisters_the_tail_before_unmapping_it)
{
    char *p = sa_malloc(1200 * 1024);   /* 5 granules */
    cr_assert_not_null(p);
    memset(p, 0x3c, 1200 * 1024);
    watch_lo = (uintptr_t)p;
    watch_hi = watch_lo + 1200 * 1024;
    char *q = sa_realloc(p, 100 * 1024);
    cr_assert_eq(q, p, "shrunk in place");
    cr_assert_eq(granules_released, 4, "the tail's 4 granules were unmapped");
    cr_assert_eq(still_registered, 0, "%lu granules were unmapped while registered",
                 still_registered);
    cr_assert_eq(sa_pagemap_get(p + 256 * 1024), 0);
    cr_assert_eq(sa_pagemap_get(p) & SA_PM_TAG, SA_PM_LARGE);
    cr_assert_eq(q[100 * 1024 - 1], 0x3c);
    sa_free(q);
}

Test(large_unmap, a_move_unregisters_the_old_range_before_mremap_leaves_it)
{
    char *p = sa_malloc(300 * 1024);    /* 2 granules */
    cr_assert_not_null(p);
    memset(p, 0x5a, 300 * 1024);
    watch_lo = (uintptr_t)p;
    watch_hi = watch_lo + 300 * 1024;
    /* A neighbour in the next granule (ours, unless a mapping is there
     * already): the block cannot grow in place. */
    void *wall = mmap(p + 512 * 1024, 4096, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (wall == MAP_FAILED)
        cr_assert_eq(errno, EEXIST, "no neighbour could be placed");
    char *q = sa_realloc(p, 600 * 1024);
    cr_assert_not_null(q);
    cr_assert_neq(q, p, "moved");
    cr_assert_eq(granules_released, 2, "the old range's 2 granules left by mremap");
    cr_assert_eq(still_registered, 0, "%lu granules left while registered", still_registered);
    cr_assert_eq(sa_pagemap_get(p), 0);
    cr_assert_eq(sa_pagemap_get(q) & SA_PM_TAG, SA_PM_LARGE);
    cr_assert_eq(q[300 * 1024 - 1], 0x5a);
    sa_free(q);
    if (wall != MAP_FAILED)
        syscall(SYS_munmap, wall, 4096);
}
