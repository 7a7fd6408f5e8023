/* The owner map: set, look up and clear granules; addresses outside the
 * 48-bit space and never-mapped leaves read as "not ours". */
#include <criterion/criterion.h>

#include "pagemap.h"

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
