/* alloc/tag.h - the per-block tag: 8 bytes the allocator keeps beside every
 * block for one client, the tracer, which stores a stack id and the
 * requested size in them.  The allocator gives tags their storage and
 * their lifetime, never their meaning:
 *
 *   - a pool's tags are an array of one tag per block, in metadata
 *     (meta.c), made on the first request for one (sa_tag_slot with
 *     create) and freed with the pool; a large block's tag is in its
 *     descriptor, cleared when the block is made;
 *   - the allocator never clears the tag of a freed block: its client
 *     clears it, or (under the leak check's lazy counting) leaves it stale
 *     and asks the block whether it is free (walk.h);
 *   - id 0 means "no tag": sa_tag_foreach skips such tags.
 *
 * sa_tag_mem counts the bytes of tag storage (the tracer reports them as
 * its own memory).  The accessors are in alloc.h (sa_tag_slot) and
 * alloc_inline.h (the page-map paths that never allocate).
 */
#ifndef SA_ALLOC_TAG_H
#define SA_ALLOC_TAG_H

#include <stdint.h>

typedef struct __attribute__((aligned(8))) sa_tag {
    uint32_t id;     /* the client's; 0 = untagged */
    uint32_t size;   /* the client's */
} sa_tag;            /* aligned: read whole with one load (walk.c) */

#endif
