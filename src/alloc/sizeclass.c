/* alloc/sizeclass.c - the size-class table (see alloc/sizeclass.h for the layout). */
#include "alloc/sizeclass.h"

sa_class_info sa_class_by_entry[256];
uint8_t sa_aligned_class[SA_ALIGNED_SHIFTS][SA_NCLASSES];

/* Block size of the k-th medium class (see the table in alloc/sizeclass.h). */
static uint32_t medium_size(unsigned k)
{
    unsigned split = (SA_SPLIT_MAX_SHIFT - 9) * 9;
    if (k < split) {
        unsigned b = 9 + k / 9, j = k % 9;
        return j == 0 ? (1u << b) + sa_split_header(b) : (1u << b) + j * (1u << (b - 3));
    }
    unsigned b = SA_SPLIT_MAX_SHIFT + (k - split) / 8;
    return (1u << b) + ((k - split) % 8 + 1) * (1u << (b - 3));
}

/* Fewest pages whose tail waste is under 1/64 of the pool (1/16 cost
 * sqlite's 4.4 KiB pages 1.6 MiB of RSS in 6-page runs, 1/32 another 1.5%:
 * 7 blocks of 4608 in 8 pages, where 9 pages hold 8 exactly); failing
 * that, the page count with the least waste.  Smaller tails (1/128) make
 * runs so long that partly used ones cost more than the tails saved. */
static uint32_t pool_pages(uint32_t size)
{
    uint32_t best = 0, best_waste = UINT32_MAX;
    for (uint32_t p = 1; p <= SA_MAX_POOL_PAGES; p++) {
        uint32_t bytes = p * SA_PAGE;
        if (bytes < size)
            continue;
        uint32_t waste = bytes % size;
        if (waste * 64 < bytes)
            return p;
        if (waste < best_waste) {
            best_waste = waste;
            best = p;
        }
    }
    return best;
}

void sa_sizeclass_init(void)
{
    for (unsigned c = 0; c < SA_NCLASSES; c++) {
        uint32_t size = c < SA_SMALL_CLASSES ? (c + 1) * SA_ALIGNMENT
                                             : medium_size(c - SA_SMALL_CLASSES);
        uint32_t pages = c < SA_SMALL_CLASSES ? 1 : pool_pages(size);
        sa_classes[c].size = size;
        sa_classes[c].pages = pages;
        sa_classes[c].capacity = pages * SA_PAGE / size;
        sa_classes[c].limit = sa_classes[c].capacity * size;
        uint32_t by_bytes = SA_TCACHE_BYTES / size;
        sa_classes[c].cache_max = by_bytes < SA_TCACHE_BLOCKS ? by_bytes : SA_TCACHE_BLOCKS;
        sa_classes[c].recip = (uint32_t)((((uint64_t)1 << 32) + size - 1) / size);
        sa_class_by_entry[SA_CLASS_SLOW + c] = sa_classes[c];
        sa_class_by_entry[SA_CLASS_SLOW + c].limit = 0;
    }
    for (unsigned k = 0; k < SA_ALIGNED_SHIFTS; k++) {
        uint32_t align = (uint32_t)1 << (k + SA_ALIGNED_MIN_SHIFT);
        unsigned next = SA_NO_CLASS;
        for (unsigned c = SA_NCLASSES; c-- > 0;) {
            if (sa_classes[c].size % align == 0)
                next = c;
            sa_aligned_class[k][c] = (uint8_t)next;
        }
    }
}
