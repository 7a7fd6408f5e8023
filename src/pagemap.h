/* pagemap.h - which memory is ours: a two-level radix tree keyed by
 * address >> SA_ARENA_SHIFT (256 KiB granules), like CPython's
 * arena_map/address_in_range, that free() consults without touching the
 * block's memory.
 *
 *   address bits:  47 ........ 33 | 32 ........ 18 | 17 ...... 0
 *                  root index (15)  leaf index (15)  inside granule
 *
 * The root (32768 pointers) lives in BSS; a leaf (32768 entries, 256 KiB,
 * covering 8 GiB of address space) is mapped the first time a granule in
 * its range becomes ours, and is never unmapped.  Entries are tagged:
 *
 *   0                      not ours
 *   arena | SA_PM_ARENA    a 256 KiB arena (its header is at its base)
 *   desc  | SA_PM_LARGE    a granule of a large block (sa_large descriptor)
 *   base  | SA_PM_FREED    a large block was unmapped here: base is kept so
 *                          that a second free of base is reported
 *
 * Invariant: every region we map starts on a granule boundary, so two of
 * our regions never share a granule and every granule has one owner.
 */
#ifndef SA_PAGEMAP_H
#define SA_PAGEMAP_H

#include "compiler.h"

#include <stdint.h>

#include "tunables.h"

#define SA_PM_ROOT_BITS 15
#define SA_PM_LEAF_BITS 15
#define SA_PM_ADDR_BITS (SA_ARENA_SHIFT + SA_PM_ROOT_BITS + SA_PM_LEAF_BITS)   /* 48 */

enum { SA_PM_ARENA = 1, SA_PM_LARGE = 2, SA_PM_FREED = 3, SA_PM_TAG = 3 };

typedef struct sa_pm_leaf {
    uintptr_t entry[1u << SA_PM_LEAF_BITS];
} sa_pm_leaf;

extern SA_HIDDEN sa_pm_leaf *sa_pm_root[1u << SA_PM_ROOT_BITS];

static inline uintptr_t sa_pagemap_get(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (a >> SA_PM_ADDR_BITS)
        return 0;
    sa_pm_leaf *leaf = __atomic_load_n(&sa_pm_root[a >> (SA_ARENA_SHIFT + SA_PM_LEAF_BITS)],
                                       __ATOMIC_ACQUIRE);
    if (!leaf)
        return 0;
    return __atomic_load_n(&leaf->entry[(a >> SA_ARENA_SHIFT) & ((1u << SA_PM_LEAF_BITS) - 1)],
                           __ATOMIC_ACQUIRE);
}

/* Set the entries of every granule of [start, start + size) to value.
 * start is granule-aligned.  Returns 0, or -1 if a leaf could not be
 * mapped (nothing is changed then). */
int sa_pagemap_set(uintptr_t start, size_t size, uintptr_t value);

/* Bytes of leaves mapped (statistics). */
size_t sa_pagemap_bytes(void);

#endif
