/* alloc/meta.c - the metadata allocator (see alloc/meta.h). */
#include <string.h>

#include "alloc/meta.h"
#include "common/lock.h"
#include "common/os.h"

#define META_CHUNK   SA_META_CHUNK
#define META_MAX_CHUNKS 4096      /* 4 GiB of metadata listed */
#define META_MIN_LG  4          /* 16 bytes */
#define META_MAX_LG  20         /* 1 MiB */

typedef struct meta_free { struct meta_free *next; } meta_free;

static sa_lock meta_lock = SA_LOCK_INIT;
static meta_free *meta_bins[META_MAX_LG + 1];
static char *meta_cur, *meta_end;
static size_t meta_mapped;
static void *meta_chunk_list[META_MAX_CHUNKS];
static size_t meta_nchunks;   /* may exceed META_MAX_CHUNKS: then unlisted */

static unsigned size_lg(size_t size)
{
    unsigned lg = META_MIN_LG;
    while (((size_t)1 << lg) < size)
        lg++;
    return lg;
}

void *sa_meta_alloc(size_t size)
{
    if (size == 0 || size > ((size_t)1 << META_MAX_LG))
        return NULL;
    unsigned lg = size_lg(size);
    size_t bytes = (size_t)1 << lg;
    void *p = NULL;
    sa_lock_acquire(&meta_lock);
    if (meta_bins[lg]) {
        meta_free *f = meta_bins[lg];
        meta_bins[lg] = f->next;
        p = f;
    } else {
        /* Natural alignment up to a page keeps big pieces page-aligned. */
        size_t align = bytes < SA_OS_PAGE ? bytes : SA_OS_PAGE;
        uintptr_t cur = ((uintptr_t)meta_cur + align - 1) & ~(uintptr_t)(align - 1);
        if (!meta_cur || cur + bytes > (uintptr_t)meta_end) {
            char *chunk = sa_os_map(META_CHUNK, SA_OS_PAGE);
            if (chunk) {
                meta_cur = chunk;
                meta_end = chunk + META_CHUNK;
                meta_mapped += META_CHUNK;
                if (meta_nchunks < META_MAX_CHUNKS)
                    meta_chunk_list[meta_nchunks] = chunk;
                meta_nchunks++;
                cur = (uintptr_t)chunk;
            } else {
                cur = 0;
            }
        }
        if (cur) {
            p = (void *)cur;
            meta_cur = (char *)(cur + bytes);
        }
    }
    sa_lock_release(&meta_lock);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void sa_meta_free(void *p, size_t size)
{
    if (!p)
        return;
    unsigned lg = size_lg(size);
    meta_free *f = p;
    sa_lock_acquire(&meta_lock);
    f->next = meta_bins[lg];
    meta_bins[lg] = f;
    sa_lock_release(&meta_lock);
}

size_t sa_meta_chunks(void **out, size_t max)
{
    sa_lock_acquire(&meta_lock);
    size_t n = meta_nchunks < META_MAX_CHUNKS ? meta_nchunks : META_MAX_CHUNKS;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = meta_chunk_list[i];
    sa_lock_release(&meta_lock);
    return n;
}

size_t sa_meta_bytes(void)
{
    return __atomic_load_n(&meta_mapped, __ATOMIC_RELAXED);
}

void sa_meta_prefork(void) { sa_lock_acquire(&meta_lock); }
void sa_meta_postfork_parent(void) { sa_lock_release(&meta_lock); }
void sa_meta_postfork_child(void) { sa_lock_reinit(&meta_lock); }
