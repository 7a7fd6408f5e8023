/* alloc/meta.h - memory for the allocator's own metadata (heaps, large-block
 * descriptors, per-pool trace records).  Never comes from the heap it
 * describes: it is carved from 1 MiB mmap chunks.  Freed pieces go to
 * free lists by power-of-two size and are reused; chunks are never
 * unmapped (metadata is small and long-lived).  Pieces are zeroed.
 */
#ifndef SA_META_H
#define SA_META_H

#include <stddef.h>

void *sa_meta_alloc(size_t size);
void sa_meta_free(void *p, size_t size);
size_t sa_meta_bytes(void);           /* mapped for metadata */
/* The chunks mapped so far (the leak scan keeps them out of its roots:
 * large-block descriptors and thread caches point at blocks).  Writes up
 * to max chunk start addresses into out; returns how many there are.
 * Each chunk is SA_META_CHUNK bytes. */
#define SA_META_CHUNK (1u << 20)
size_t sa_meta_chunks(void **out, size_t max);
void sa_meta_prefork(void);
void sa_meta_postfork_parent(void);
void sa_meta_postfork_child(void);

#endif
