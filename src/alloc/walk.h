/* alloc/walk.h - the heap as a set of live blocks, enumerated for the leak
 * checker's conservative scan (which indexes them itself).  Does not
 * allocate.
 *
 * A block is live unless it is free; free blocks are recognised by their
 * key (address ^ sa_secret, see alloc/arena.h), which every free block carries:
 * those on a pool's free list, in a thread cache, or on a remote list.
 * Untouched blocks (at or past a pool's carve offset) are not blocks yet.
 *
 * The results are exact only while no other thread allocates or frees:
 * the caller stops the world first (or accepts a racy answer: the arena
 * lock keeps every pool it reads mapped, and a block changing state
 * meanwhile is visited or not, never unsafely).
 */
#ifndef SA_WALK_H
#define SA_WALK_H

#include <stddef.h>

#include "alloc/tag.h"

typedef struct sa_block_info {
    void *start;
    size_t size;            /* usable size */
    sa_tag *tag;            /* the block's tag, or NULL if none exists */
} sa_block_info;

/* Call fn for every live block.  Takes the arena and large-block locks:
 * fn must not allocate or free. */
void sa_block_foreach(void (*fn)(const sa_block_info *b, void *ctx), void *ctx);

/* Call fn with a copy of every tag whose id is not 0 (one 8-byte load
 * each), and its block.  With check_free, the tags of live blocks only:
 * sa_block_foreach's walk, so a stale tag that free() left behind (tag.h)
 * is never seen, at the price of reading every block's first word.
 * Without, the tags alone, for a client that clears the tag of every
 * block freed.  Takes the arena and large-block locks: fn must not
 * allocate or free. */
void sa_tag_foreach(void (*fn)(sa_tag tag, void *block, void *ctx), void *ctx,
                    int check_free);

/* Non-zero if p is a free block of an arena pool (it carries the free
 * key).  p must be a block start in a live pool (sa_tag_slot found it). */
int sa_block_is_free(const void *p);

#endif
