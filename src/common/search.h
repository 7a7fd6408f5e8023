/* common/search.h - binary search over sorted arrays of records, one
 * definition for the leak scan's block index (leak/scan.c) and its
 * sorted mappings (leak/roots.c).  Inline: the scan looks up every word
 * it reads.
 */
#ifndef SA_SEARCH_H
#define SA_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first of the n records at base (stride bytes apart,
 * in ascending order of the uintptr_t at key_offset in each) whose key is
 * greater than v; n if there is none.  The record before it, if any, is
 * the last one whose key is at most v. */
static inline size_t sa_search_first_above(const void *base, size_t n, size_t stride,
                                           size_t key_offset, uintptr_t v)
{
    const char *keys = (const char *)base + key_offset;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (*(const uintptr_t *)(const void *)(keys + mid * stride) <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
