/* check_mkset_lib.c - an allocation site of check_mkset in a source file of
 * its own, so suppressions by file name can tell it apart. */
#pragma GCC optimize("O0", "no-inline", "no-omit-frame-pointer", "no-optimize-sibling-calls")
#include <dlfcn.h>
#include <stdint.h>

void check_record(void *inner, uint64_t block, uint64_t count);
void lib_alloc(uint64_t n);

__attribute__((noinline)) void lib_alloc(uint64_t n)
{
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    check_record(m, 128, n); /* SITE:lib */
}
