/* alloc/init.c - the allocator's start-up and fork handlers.
 *
 * Initialisation happens on the first malloc (which may come from the
 * dynamic loader or another library's constructor, long before main) or
 * from libsnapalloc's constructor (preload/lifecycle.c), whichever is
 * first.  It calls nothing that allocates before the allocator works: the
 * size classes and the heap secret are set first, and a malloc made by
 * what follows (the pthread key, the fork handlers) is served normally.
 * Nothing of the tracer or the leak check starts here: they start from
 * the constructor, once our dependencies are initialised.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/arena.h"
#include "alloc/heap.h"
#include "alloc/large.h"
#include "alloc/meta.h"
#include "alloc/sizeclass.h"
#include "common/config.h"
#include "common/fmt.h"
#include "common/os.h"

int sa_initialized;
static sa_lock init_lock = SA_LOCK_INIT;
static SA_TLS int in_init;

/* Lock order (every allocator lock): heap registry, shared heap,
 * abandoned heaps, large cache, arenas, metadata. */
void sa_alloc_prefork(void)
{
    sa_heap_prefork();
    sa_large_prefork();
    sa_arena_prefork();
    sa_meta_prefork();
}

void sa_alloc_postfork_parent(void)
{
    sa_meta_postfork_parent();
    sa_arena_postfork_parent();
    sa_large_postfork_parent();
    sa_heap_postfork_parent();
}

void sa_alloc_postfork_child(void)
{
    sa_meta_postfork_child();
    sa_arena_postfork_child();
    sa_large_postfork_child();
    sa_heap_postfork_child();
}

/* SNAPALLOC_THP: "1" backs the arenas with transparent huge pages where
 * the kernel allows (arena.h).  Read here, not with the other settings:
 * it must be known before the first arena is mapped (possibly before
 * main: the table's reader allocates nothing, common/config_read.c). */
static void read_thp_setting(void)
{
    sa_config_read_group(SA_CONFIG_ALLOC, &sa_arena_thp, 2);
}

void sa_init_slow(void)
{
    if (in_init)
        return;   /* a malloc from inside the steps below */
    in_init = 1;
    sa_lock_acquire(&init_lock);
    if (!sa_initialized) {
        sa_sizeclass_init();
        read_thp_setting();   /* before any arena is mapped */
        sa_secret = (uintptr_t)sa_os_random();
        __atomic_store_n(&sa_initialized, 1, __ATOMIC_RELEASE);
        sa_heap_init();
        pthread_atfork(sa_alloc_prefork, sa_alloc_postfork_parent, sa_alloc_postfork_child);
    }
    sa_lock_release(&init_lock);
    in_init = 0;
}
