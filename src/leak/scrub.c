/* leak/scrub.c - under the check, clearing what the program has not
 * written in its blocks, so that the scan never takes a stale word (a
 * free-list link, a previous life's contents) for a pointer.
 */
#include "leak/leak.h"

#include <string.h>

#include "alloc/large.h"
#include "alloc/pagemap.h"

int sa_leak_scrub_on;

/* valgrind memcheck never takes a word the program did not write for a
 * pointer.  Ours would: a block handed out still holds the free-list link
 * to its neighbour in its first word, and a reused block its previous
 * life's contents.  Under the check (only: the plain and traced paths are
 * untouched) the entry points clear what the program has not written yet,
 * so the scan reads zeros there.  A large block is skipped when its pages
 * are fresh from the kernel (mapped, or released while cached): they
 * already read as zeros, and clearing them would fault them all in. */
void sa_leak_scrub(void *p, size_t from, size_t to)
{
    if (to <= from)
        return;
    uintptr_t e = sa_pagemap_get(p);
    if ((e & SA_PM_TAG) == SA_PM_LARGE) {
        const sa_large *d = (const sa_large *)(e & ~(uintptr_t)SA_PM_TAG);
        if (!d->resident && from == 0)
            return;
    } else if ((e & SA_PM_TAG) != SA_PM_ARENA) {
        return;   /* not ours */
    }
    memset((char *)p + from, 0, to - from);
}
