/* Arenas: pools are carved fullest-arena-first, multi-page runs are found,
 * and wholly free arenas go back to the OS except one spare. */
#include <criterion/criterion.h>

#include "arena.h"
#include "internal.h"
#include "pagemap.h"
#include "sizeclass.h"

static void setup(void) { sa_init(); }
TestSuite(arena, .init = setup);

static sa_arena_counts counts(void)
{
    sa_arena_counts c;
    sa_arena_get_counts(&c);
    return c;
}

Test(arena, one_page_pools_fill_an_arena_before_the_next)
{
    sa_pool *pools[64];
    for (int i = 0; i < 63; i++) {
        pools[i] = sa_arena_take_pool(0);
        cr_assert_not_null(pools[i]);
        cr_assert_eq(sa_pool_arena(pools[i]), sa_pool_arena(pools[0]));
        cr_assert_eq(pools[i]->state, SA_POOL_USED);
        cr_assert_eq(pools[i]->limit, 4096);
    }
    cr_assert_eq(counts().current, 1);
    cr_assert_eq(sa_pool_arena(pools[0])->nfree, 0);
    pools[63] = sa_arena_take_pool(0);
    cr_assert_neq(sa_pool_arena(pools[63]), sa_pool_arena(pools[0]));
    cr_assert_eq(counts().current, 2);
    cr_assert_eq(counts().allocated_total, 2);
    /* The page map knows both arenas, and pool bases are distinct pages. */
    cr_assert_eq(sa_pagemap_get(sa_pool_base(pools[5])) & SA_PM_TAG, SA_PM_ARENA);
    cr_assert_eq(sa_pool_base(pools[1]) - sa_pool_base(pools[0]), 4096);
}

Test(arena, fullest_arena_is_used_first)
{
    sa_pool *a[63], *b[63];
    for (int i = 0; i < 63; i++)
        a[i] = sa_arena_take_pool(0);
    for (int i = 0; i < 63; i++)
        b[i] = sa_arena_take_pool(0);
    /* Arena A keeps 10 free pages, arena B 50: A is fuller. */
    for (int i = 0; i < 10; i++)
        sa_arena_return_pool(a[i]);
    for (int i = 0; i < 50; i++)
        sa_arena_return_pool(b[i]);
    for (int i = 0; i < 10; i++) {
        sa_pool *p = sa_arena_take_pool(3);
        cr_assert_eq(sa_pool_arena(p), sa_pool_arena(a[20]), "pool %d came from the emptier arena", i);
    }
    sa_pool *p = sa_arena_take_pool(3);
    cr_assert_eq(sa_pool_arena(p), sa_pool_arena(b[60]));
}

Test(arena, multi_page_runs)
{
    unsigned cls = sa_size_class(65536);
    cr_assert_eq(sa_classes[cls].pages, 16);
    sa_pool *p[4];
    for (int i = 0; i < 3; i++) {
        p[i] = sa_arena_take_pool(cls);
        cr_assert_eq(sa_pool_arena(p[i]), sa_pool_arena(p[0]));
    }
    sa_arena *ar = sa_pool_arena(p[0]);
    cr_assert_eq(ar->nfree, 63 - 48);
    for (int i = 0; i < 3; i++) {
        unsigned first = (unsigned)(p[i] - ar->pools);
        for (unsigned k = 0; k < 16; k++)
            cr_assert_eq(ar->run_start[first + k], first);
    }
    p[3] = sa_arena_take_pool(cls);   /* 15 pages left: does not fit */
    cr_assert_neq(sa_pool_arena(p[3]), ar);
    sa_arena_return_pool(p[1]);        /* a 16-page hole in the middle */
    sa_pool *q = sa_arena_take_pool(cls);
    cr_assert_eq(q, p[1]);
}

Test(arena, free_arenas_return_to_the_os_but_one)
{
    sa_pool *p[3][63];
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < 63; i++)
            p[a][i] = sa_arena_take_pool(1);
    cr_assert_eq(counts().current, 3);
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < 63; i++)
            sa_arena_return_pool(p[a][i]);
    sa_arena_counts c = counts();
    cr_assert_eq(c.current, 1, "one spare arena is kept");
    cr_assert_eq(c.reclaimed, 2);
    cr_assert_eq(c.highwater, 3);
    cr_assert_eq(sa_pagemap_get(sa_pool_base(p[0][0])) == 0 ||
                 sa_pagemap_get(sa_pool_base(p[1][0])) == 0, 1);
    cr_assert_eq(sa_arena_trim(), 1);
    cr_assert_eq(counts().current, 0);
}
