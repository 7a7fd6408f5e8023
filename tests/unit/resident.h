/* resident.h - for the unit tests: which pages the kernel has faulted in
 * (mincore), to check what the allocator populated ahead. */
#ifndef SA_TEST_RESIDENT_H
#define SA_TEST_RESIDENT_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <sys/mman.h>

/* How many of the pages of [p, p + bytes) are resident; p page-aligned. */
static inline size_t resident_pages(const void *p, size_t bytes)
{
    static unsigned char vec[4096];
    size_t n = (bytes + 4095) / 4096;
    cr_assert_leq(n, sizeof vec);
    cr_assert_eq(mincore((void *)p, bytes, vec), 0);
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

#endif
