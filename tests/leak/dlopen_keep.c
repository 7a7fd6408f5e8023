/* dlopen_keep.c - dlopen()s dl_lib.so (path in argv[1]), calls lib_work()
 * and keeps the library loaded: its global still holds the 8-byte copy.
 * memcheck: definitely lost 200 bytes in 1 block. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib)
        return 1;
    size_t (*work)(const char *) = (size_t (*)(const char *))dlsym(lib, "lib_work");
    if (!work)
        return 1;
    printf("%zu\n", work("library"));
    return 0;
}
