/* The invariant checks of a debug build (configure --enable-debug,
 * src/common/assert.h): each test breaks one documented invariant through
 * the internal API, as a bug would, and expects the next change of the
 * structure to abort the process.  Built only in a debug build. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/arena.h"
#include "alloc/heap.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"
#include "common/assert.h"
#include "trace/stack.h"

static void setup(void) { sa_init(); }
TestSuite(debug_checks, .init = setup);

static sa_pool *pool_of(void *p)
{
    uintptr_t e = sa_pagemap_get(p);
    cr_assert_eq(e & SA_PM_TAG, SA_PM_ARENA);
    sa_arena *a = (sa_arena *)(e - SA_PM_ARENA);
    return &a->pools[a->run_start[((uintptr_t)p >> SA_PAGE_SHIFT) & (SA_ARENA_PAGES - 1)]];
}

/* ---- the report ------------------------------------------------------ */

static volatile int one = 1;

static void fail_an_assertion(void)
{
    sa_assert(one == 2);
}
static const int fail_line = __LINE__ - 2;   /* the sa_assert line */

/* A failed assertion writes exactly one line on stderr and aborts. */
Test(debug_checks, a_failed_assertion_prints_one_line_and_aborts)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        fail_an_assertion();
        _exit(0);
    }
    close(fds[1]);
    char out[512] = "";
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && (n = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n;
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);
    char want[512];
    snprintf(want, sizeof want, "snapalloc: assertion failed: one == 2 (%s:%d, fail_an_assertion)\n",
             __FILE__, fail_line);
    cr_assert_str_eq(out, want);
}

/* ---- pools ------------------------------------------------------------- */

/* A pool's used count one too high: at the free that brings the block
 * back, used + free list no longer equals the blocks carved. */
Test(debug_checks, pool_used_count, .signal = SIGABRT)
{
    char *p = sa_malloc(208);
    sa_pool *pool = pool_of(p);
    pool->used++;
    sa_free(p);
    sa_heap_flush_cache();   /* the block goes back to its pool */
}

/* A free-list entry that is not a block start (a stray write into a free
 * block's link): caught when the pool next changes. */
Test(debug_checks, pool_free_list_entry, .signal = SIGABRT)
{
    char *p = sa_malloc(48);
    sa_pool *pool = pool_of(p);
    cr_assert_not_null(pool->free, "the page's other blocks are free");
    sa_block *stray = (sa_block *)((char *)pool->free + 16);
    stray->next = pool->free->next;
    stray->key = (uintptr_t)stray ^ sa_secret;
    pool->free->next = stray;
    sa_free(p);
    sa_heap_flush_cache();
}

/* ---- the page map ------------------------------------------------------ */

/* The entry of a pool's first page names the wrong distance: the next
 * page carved finds it. */
Test(debug_checks, page_entry_of_a_pool, .signal = SIGABRT)
{
    unsigned cls = sa_size_class(4400);
    cr_assert_eq(sa_classes[cls].size, 4432);
    cr_assert_eq(sa_classes[cls].pages, 12);
    char *p = sa_malloc(4400);   /* the pool's first block, alone in page 0 */
    sa_pool *pool = pool_of(p);
    cr_assert_eq(p, sa_pool_base(pool));
    sa_arena *a = sa_pool_arena(pool);
    unsigned color = (unsigned)(((uintptr_t)a - (uintptr_t)sa_arena_base(a)) >> SA_PAGE_SHIFT);
    sa_pagemap_page_set((uintptr_t)p, sa_pagemap_page_entry(cls, 1, color));
    sa_malloc(4400);             /* carves page 1 */
}

/* ---- arenas ------------------------------------------------------------ */

/* An arena's free-page count off by one: it sits in the wrong bucket. */
Test(debug_checks, arena_free_page_count, .signal = SIGABRT)
{
    sa_pool *pool = sa_arena_take_pool(0, 0);
    cr_assert_not_null(pool);
    sa_pool_arena(pool)->nfree--;
    sa_arena_take_pool(0, 0);
}

/* ---- large blocks ------------------------------------------------------ */

/* A cached block's size changed behind the cache's byte count. */
Test(debug_checks, large_cache_bytes, .signal = SIGABRT)
{
    char *p = sa_malloc(200000);
    sa_large *d = (sa_large *)(sa_pagemap_get(p) - SA_PM_LARGE);
    sa_free(p);                  /* into the cache */
    d->size -= SA_PAGE;
    sa_malloc(100000);           /* looks in the cache */
}

/* A split whose head kept its whole size: the tail it cached overlaps
 * it.  Caught when the cache next changes (its byte count, the page
 * map's entry at the head's end and the overlap itself disagree). */
Test(debug_checks, large_cache_split_overlap, .signal = SIGABRT)
{
    char *keep = sa_malloc(2 << 20);   /* a peak that lets the cache keep pages */
    char *p = sa_malloc(1 << 20);
    sa_free(keep);
    sa_free(p);
    char *head = sa_malloc(100000);    /* split: head p, the rest cached */
    cr_assert_eq(head, p);
    sa_large *d = (sa_large *)(sa_pagemap_get(head) - SA_PM_LARGE);
    sa_free(head);
    d->size = 1 << 20;                 /* as if the head had not shrunk */
    sa_malloc(200000);                 /* looks in the cache */
}

/* ---- the stack table --------------------------------------------------- */

/* A stack whose hash is not its frames' (lookup would never find it):
 * caught when the index grows and every stack is checked. */
Test(debug_checks, stack_hash, .signal = SIGABRT)
{
    uintptr_t frames[2] = {0x1000, 0};
    uint32_t id = sa_stack_intern(frames, 2);
    cr_assert_neq(id, 0);
    sa_stack_at(id & SA_STACK_INDEX_MASK)->hash ^= 1;
    for (uintptr_t i = 1; i <= 4096; i++) {   /* the index grows at 2049 */
        frames[1] = i;
        sa_stack_intern(frames, 2);
    }
}

/* An id beyond the last stack handed out. */
Test(debug_checks, stack_ids_in_range, .signal = SIGABRT)
{
    uintptr_t frames[1] = {0x2000};
    cr_assert_neq(sa_stack_intern(frames, 1), 0);
    __atomic_store_n(&sa_stack_last, 0, __ATOMIC_RELEASE);
    sa_stack_table_check();
}
