/* The owner map: set, look up and clear granules; addresses outside the
 * 48-bit space and never-mapped leaves read as "not ours". */
#include <criterion/criterion.h>

#include "alloc/pagemap.h"

Test(pagemap, unknown_addresses_are_not_ours)
{
    cr_assert_eq(sa_pagemap_get(NULL), 0);
    cr_assert_eq(sa_pagemap_get((void *)0x1234), 0);
    cr_assert_eq(sa_pagemap_get((void *)(uintptr_t)-1), 0);
    cr_assert_eq(sa_pagemap_get((void *)((uintptr_t)1 << 48)), 0);
}

Test(pagemap, set_get_clear)
{
    uintptr_t base = (uintptr_t)0x7f1234000000;   /* granule aligned */
    cr_assert_eq(sa_pagemap_set(base, 3 * SA_ARENA_SIZE, base | SA_PM_LARGE), 0);
    for (uintptr_t a = base; a < base + 3 * SA_ARENA_SIZE; a += 4096)
        cr_assert_eq(sa_pagemap_get((void *)a), base | SA_PM_LARGE);
    cr_assert_eq(sa_pagemap_get((void *)(base - 1)), 0);
    cr_assert_eq(sa_pagemap_get((void *)(base + 3 * SA_ARENA_SIZE)), 0);
    cr_assert_eq(sa_pagemap_bytes(), sizeof(sa_pm_leaf));
    cr_assert_eq(sa_pagemap_set(base + SA_ARENA_SIZE, SA_ARENA_SIZE, 0), 0);
    cr_assert_eq(sa_pagemap_get((void *)(base + SA_ARENA_SIZE + 8)), 0);
    cr_assert_eq(sa_pagemap_get((void *)(base + 2 * SA_ARENA_SIZE)), base | SA_PM_LARGE);
}

Test(pagemap, range_beyond_address_space_is_refused)
{
    uintptr_t top = ((uintptr_t)1 << 48) - SA_ARENA_SIZE;
    cr_assert_eq(sa_pagemap_set(top, 2 * SA_ARENA_SIZE, 5), -1);
    cr_assert_eq(sa_pagemap_set(top, SA_ARENA_SIZE, top | SA_PM_ARENA), 0);
    cr_assert_eq(sa_pagemap_get((void *)(top + 100)), top | SA_PM_ARENA);
}

/* The tracer's record pointer of a pool is kept at its first page and
 * found from any page of the pool through the page entry's distance. */
Test(pagemap, pool_records_from_any_page)
{
    uintptr_t base = (uintptr_t)0x7f5678000000;
    cr_assert_eq(sa_pagemap_set(base, SA_ARENA_SIZE, base | SA_PM_ARENA), 0);
    uintptr_t first = base + 5 * SA_PAGE;   /* a 4-page pool at pages 5..8 */
    struct sa_tag *recs = (struct sa_tag *)0x1000;
    sa_pm_leaf *leaf = sa_pagemap_leaf((void *)first);
    cr_assert_not_null(leaf);
    for (unsigned d = 0; d < 4; d++)
        sa_pagemap_page_set(first + d * SA_PAGE, sa_pagemap_page_entry(33, d, 0));
    for (unsigned d = 0; d < 4; d++) {
        const void *p = (const void *)(first + d * SA_PAGE + 48);
        unsigned pe = sa_pagemap_page_get(leaf, p);
        cr_assert_null(sa_pagemap_pool_tags(leaf, pe, p), "none published yet (page %u)", d);
    }
    sa_pagemap_set_pool_tags(first, recs);
    for (unsigned d = 0; d < 4; d++) {
        const void *p = (const void *)(first + d * SA_PAGE + 48);
        unsigned pe = sa_pagemap_page_get(leaf, p);
        cr_assert_eq(sa_pagemap_pool_tags(leaf, pe, p), recs, "page %u", d);
        cr_assert_eq(sa_pagemap_page_offset(pe, p), d * SA_PAGE + 48);
    }
    /* A one-page pool right after it has its own pointer. */
    uintptr_t next = first + 4 * SA_PAGE;
    sa_pagemap_page_set(next, sa_pagemap_page_entry(3, 0, 0));
    unsigned pe = sa_pagemap_page_get(leaf, (void *)next);
    cr_assert_null(sa_pagemap_pool_tags(leaf, pe, (void *)next));
    sa_pagemap_set_pool_tags(first, NULL);
    pe = sa_pagemap_page_get(leaf, (void *)(first + 3 * SA_PAGE));
    cr_assert_null(sa_pagemap_pool_tags(leaf, pe, (void *)(first + 3 * SA_PAGE)));
}
