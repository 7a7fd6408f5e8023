/* Size classes: every request maps to the smallest class that fits it,
 * block sizes keep 16-byte alignment, pools waste little, and the
 * reciprocal division is exact for every offset a pool can have. */
#include <criterion/criterion.h>

#include "alloc/sizeclass.h"

static void setup(void) { sa_sizeclass_init(); }
TestSuite(sizeclass, .init = setup);

Test(sizeclass, small_classes_are_pymalloc_steps)
{
    cr_assert_eq(sa_size_class(0), 0);
    cr_assert_eq(sa_size_class(1), 0);
    cr_assert_eq(sa_size_class(16), 0);
    cr_assert_eq(sa_size_class(17), 1);
    cr_assert_eq(sa_size_class(512), 31);
    for (unsigned c = 0; c < SA_SMALL_CLASSES; c++) {
        cr_assert_eq(sa_classes[c].size, (c + 1) * 16);
        cr_assert_eq(sa_classes[c].pages, 1);
        cr_assert_eq(sa_classes[c].capacity, 4096 / ((c + 1) * 16));
    }
}

Test(sizeclass, medium_classes)
{
    cr_assert_eq(sa_size_class(513), 32);
    cr_assert_eq(sa_classes[32].size, 528);
    cr_assert_eq(sa_size_class(528), 32);
    cr_assert_eq(sa_size_class(529), 33);
    cr_assert_eq(sa_classes[33].size, 576);
    cr_assert_eq(sa_classes[34].size, 640);
    cr_assert_eq(sa_classes[40].size, 1024);
    /* a power of two plus a header: 1032 (sqlite) fits 1040, not 1152 */
    cr_assert_eq(sa_size_class(1032), 41);
    cr_assert_eq(sa_classes[41].size, 1040);
    cr_assert_eq(sa_classes[42].size, 1152);
    cr_assert_eq(sa_size_class(2056), 50);
    cr_assert_eq(sa_classes[50].size, 2064);
    /* a page plus bookkeeping: sqlite's page-cache entry (4096 + 272)
     * fits 4432, 11 blocks in 12 pages, not 4608 */
    cr_assert_eq(sa_classes[58].size, 4096);
    cr_assert_eq(sa_size_class(4104), 59);
    cr_assert_eq(sa_size_class(4368), 59);
    cr_assert_eq(sa_size_class(4432), 59);
    cr_assert_eq(sa_classes[59].size, 4432);
    cr_assert_eq(sa_classes[59].pages, 12);
    cr_assert_eq(sa_classes[59].capacity, 11);
    cr_assert_eq(sa_size_class(4433), 60);
    cr_assert_eq(sa_classes[60].size, 4608);
    cr_assert_eq(sa_classes[60].pages, 9, "8 blocks of 4608 fill 9 pages exactly");
    cr_assert_eq(sa_classes[60].capacity, 8);
    /* from 8 KiB up, 8 classes per doubling only */
    cr_assert_eq(sa_classes[67].size, 8192);
    cr_assert_eq(sa_size_class(8193), 68);
    cr_assert_eq(sa_classes[68].size, 9216);
    cr_assert_eq(sa_size_class(65536), SA_NCLASSES - 1);
    cr_assert_eq(sa_classes[SA_NCLASSES - 1].size, 65536);
    cr_assert_eq(sa_classes[SA_NCLASSES - 1].pages, 16);
}

Test(sizeclass, every_request_gets_the_smallest_fitting_class)
{
    for (size_t n = 1; n <= SA_MEDIUM_MAX; n++) {
        unsigned c = sa_size_class(n);
        cr_assert_lt(c, SA_NCLASSES);
        cr_assert_geq(sa_classes[c].size, n, "n=%zu", n);
        if (c > 0)
            cr_assert_lt(sa_classes[c - 1].size, n, "n=%zu", n);
    }
}

Test(sizeclass, blocks_aligned_and_pools_waste_little)
{
    for (unsigned c = 0; c < SA_NCLASSES; c++) {
        const sa_class_info *ci = &sa_classes[c];
        cr_assert_eq(ci->size % 16, 0);
        cr_assert_geq(ci->capacity, 1);
        cr_assert_leq(ci->pages, SA_MAX_POOL_PAGES);
        uint32_t bytes = ci->pages * SA_PAGE;
        uint32_t tail = bytes - ci->capacity * ci->size;
        cr_assert_lt(tail, ci->size);
        if (c >= SA_SMALL_CLASSES)   /* small pools are one page, as pymalloc's */
            cr_assert_leq(tail * 32, bytes, "class %u (size %u) wastes more than 1/32", c, ci->size);
    }
}

Test(sizeclass, block_start_test_by_reciprocal_is_exact)
{
    /* free()'s interior-pointer check: off is a block start iff the low
     * word of off * recip is below recip (alloc_inline.h). */
    for (unsigned c = 0; c < SA_NCLASSES; c++) {
        uint32_t recip = sa_classes[c].recip, size = sa_classes[c].size;
        for (uint32_t off = 0; off < SA_MAX_POOL_PAGES * SA_PAGE; off++)
            cr_assert_eq((uint32_t)((uint64_t)off * recip) < recip, off % size == 0,
                         "class %u (size %u) off %u", c, size, off);
    }
}

Test(sizeclass, reciprocal_division_is_exact)
{
    for (unsigned c = 0; c < SA_NCLASSES; c++)
        for (uint32_t off = 0; off < sa_classes[c].pages * SA_PAGE; off++)
            cr_assert_eq(sa_class_index(c, off), off / sa_classes[c].size,
                         "class %u off %u", c, off);
}

/* memalign's class lookup: for each alignment 32..4096 and each class,
 * the first class at or above it whose size the alignment divides. */
Test(sizeclass, aligned_class_table_is_the_first_multiple)
{
    for (unsigned k = 0; k < SA_ALIGNED_SHIFTS; k++) {
        uint32_t align = (uint32_t)1 << (k + SA_ALIGNED_MIN_SHIFT);
        for (unsigned c = 0; c < SA_NCLASSES; c++) {
            unsigned want = SA_NO_CLASS;
            for (unsigned d = c; d < SA_NCLASSES; d++)
                if (sa_classes[d].size % align == 0) {
                    want = d;
                    break;
                }
            cr_assert_eq(sa_aligned_class[k][c], want, "align %u class %u", align, c);
        }
    }
    /* 4096-aligned: the 4 KiB class; 48 bytes 32-aligned: 64. */
    cr_assert_eq(sa_classes[sa_aligned_class[7][sa_size_class(100)]].size, 4096);
    cr_assert_eq(sa_classes[sa_aligned_class[0][sa_size_class(48)]].size, 64);
}
