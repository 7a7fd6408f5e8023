/* dlopen_close.c - dlopen()s dl_lib.so (path in argv[1]), calls
 * lib_work() and dlclose()s it: the library's data is unmapped, so the
 * 8-byte copy its global held is lost too.  memcheck: definitely lost 208
 * bytes in 2 blocks. */
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
    return dlclose(lib) != 0;
}
