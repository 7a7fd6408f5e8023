/* alloc/pagemap.c - the owner map (see alloc/pagemap.h for the layout). */
#include <stddef.h>

#include "alloc/pagemap.h"
#include "common/os.h"

sa_pm_leaf *sa_pm_root[1u << SA_PM_ROOT_BITS];
static size_t pm_leaves;

static sa_pm_leaf *leaf_for(uintptr_t a)
{
    sa_pm_leaf **slot = &sa_pm_root[a >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)];
    sa_pm_leaf *leaf = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (leaf)
        return leaf;
    sa_pm_leaf *fresh = sa_os_map(sizeof(sa_pm_leaf), SA_OS_PAGE);
    if (!fresh)
        return NULL;
    /* Two threads may race to install a leaf: the loser unmaps its copy. */
    if (__atomic_compare_exchange_n(slot, &leaf, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&pm_leaves, 1, __ATOMIC_RELAXED);
        return fresh;
    }
    sa_os_unmap(fresh, sizeof(sa_pm_leaf));
    return leaf;
}

int sa_pagemap_set(uintptr_t start, size_t size, uintptr_t value)
{
    uintptr_t end = start + size;
    if ((end - 1) >> SA_PM_ADDR_BITS)
        return -1;
    /* Map every leaf first so that a failure leaves the map unchanged. */
    for (uintptr_t a = start; a < end; a += SA_ARENA_SIZE)
        if (!leaf_for(a))
            return -1;
    for (uintptr_t a = start; a < end; a += SA_ARENA_SIZE) {
        sa_pm_leaf *leaf = sa_pm_root[a >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)];
        __atomic_store_n(&leaf->entry[(a >> SA_ARENA_SHIFT) & ((1u << SA_PM_LEAF_BITS) - 1)],
                         value, __ATOMIC_RELEASE);
    }
    return 0;
}

size_t sa_pagemap_bytes(void)
{
    return __atomic_load_n(&pm_leaves, __ATOMIC_RELAXED) * sizeof(sa_pm_leaf);
}
