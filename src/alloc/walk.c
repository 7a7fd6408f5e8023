/* alloc/walk.c - enumerate live blocks and find the block holding an address
 * (see alloc/walk.h). */
#include "alloc/walk.h"

#include <string.h>

#include "alloc/arena.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"

static int block_is_free(const sa_block *b)
{
    return b->key == ((uintptr_t)b ^ sa_secret);
}

int sa_block_is_free(const void *p)
{
    return block_is_free(p);
}

typedef struct walk_ctx {
    void (*fn)(const sa_block_info *b, void *ctx);
    void *ctx;
    int check_free;   /* skip free blocks (reads each block's key) */
} walk_ctx;

/* The pool whose run starts at page i of a, if it holds blocks; *base
 * gets its first byte. */
static sa_pool *live_pool(sa_arena *a, unsigned i, char **base)
{
    sa_pool *pool = &a->pools[i];
    if (a->run_start[i] != i || pool->state == SA_POOL_EMPTY)
        return NULL;
    *base = sa_arena_base(a) + (size_t)i * SA_PAGE;
    return pool;
}

static void walk_arena(sa_arena *a, void *arg)
{
    walk_ctx *w = arg;
    for (unsigned i = 0; i < SA_ARENA_PAGES; i++) {
        char *base;
        sa_pool *pool = live_pool(a, i, &base);
        if (!pool)
            continue;
        const sa_class_info *ci = &sa_classes[pool->cls];
        sa_tag *tags = __atomic_load_n(&pool->tags, __ATOMIC_ACQUIRE);
        uint32_t carve = __atomic_load_n(&pool->carve, __ATOMIC_RELAXED);
        for (uint32_t off = 0, idx = 0; off < carve; off += ci->size, idx++) {
            sa_block *b = (sa_block *)(base + off);
            if (w->check_free && block_is_free(b))
                continue;
            sa_block_info info = { b, ci->size, tags ? &tags[idx] : NULL };
            w->fn(&info, w->ctx);
        }
    }
}

static void walk_large(sa_large *d, void *arg)
{
    walk_ctx *w = arg;
    sa_block_info info = { d->base, d->size, &d->tag };
    w->fn(&info, w->ctx);
}

/* Every carved block and every large block; with check_free, the live
 * ones only. */
static void walk_blocks(void (*fn)(const sa_block_info *b, void *ctx), void *ctx,
                        int check_free)
{
    walk_ctx w = { fn, ctx, check_free };
    sa_arena_foreach(walk_arena, &w);
    sa_large_foreach(walk_large, &w);
}

void sa_block_foreach(void (*fn)(const sa_block_info *b, void *ctx), void *ctx)
{
    walk_blocks(fn, ctx, 1);
}

/* ---- Tags ------------------------------------------------------------------ */

typedef struct tag_ctx {
    void (*fn)(sa_tag tag, void *block, void *ctx);
    void *ctx;
} tag_ctx;

static sa_tag tag_load(const sa_tag *t)
{
    uint64_t w = __atomic_load_n((const uint64_t *)t, __ATOMIC_RELAXED);
    sa_tag out;
    memcpy(&out, &w, sizeof out);
    return out;
}

static void tag_of_block(const sa_block_info *b, void *arg)
{
    tag_ctx *w = arg;
    sa_tag r = b->tag ? tag_load(b->tag) : (sa_tag){0, 0};
    if (r.id)
        w->fn(r, b->start, w->ctx);
}

void sa_tag_foreach(void (*fn)(sa_tag tag, void *block, void *ctx), void *ctx,
                    int check_free)
{
    tag_ctx w = { fn, ctx };
    walk_blocks(tag_of_block, &w, check_free);
}
