/* sizeclass.h - request size -> size class -> block size.
 *
 *   class   request        block   pool pages
 *   0       0..16          16      1          small: 16-byte steps,
 *   1       17..32         32      1          (n - 1) >> 4
 *   ...
 *   31      497..512       512     1
 *   32      513..576       576     1          medium: 8 classes per doubling,
 *   33      577..640       640     1          block = 2^b + k * 2^(b-3)
 *   34      641..704       704     1
 *   ...
 *   87      61441..65536   65536   16
 *
 * Pool pages are chosen per class (sizeclass.c) so that the tail lost to
 * quantization is at most 1/32 of the pool.
 */
#ifndef SA_SIZECLASS_H
#define SA_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include "tunables.h"

typedef struct sa_class_info {
    uint32_t size;       /* block size */
    uint32_t pages;      /* pages per pool */
    uint32_t capacity;   /* blocks per pool */
    uint32_t recip;      /* ceil(2^32 / size): offset / size without a divide */
    uint32_t cache_max;  /* thread-cache bound: 16 blocks, at most ~32 KiB */
} sa_class_info;

extern sa_class_info sa_classes[SA_NCLASSES];

void sa_sizeclass_init(void);

/* Class of a request n <= SA_MEDIUM_MAX. */
static inline unsigned sa_size_class(size_t n)
{
    if (n <= SA_SMALL_MAX)
        return n ? (unsigned)((n - 1) >> 4) : 0;
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return SA_SMALL_CLASSES + (b - 9) * 8 + (unsigned)(((n - 1) >> (b - 3)) & 7);
}

/* Block index of byte offset off inside a pool of class c; exact for every
 * offset < SA_MAX_POOL_PAGES * SA_PAGE (checked by the unit tests). */
static inline uint32_t sa_class_index(unsigned c, uint32_t off)
{
    return (uint32_t)(((uint64_t)off * sa_classes[c].recip) >> 32);
}

#endif
