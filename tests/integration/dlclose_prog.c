/* dlclose_prog.c - dlopen()s the shared object given as argv[1], calls its
 * plugin_make (one block kept in a global here, one leaked inside it),
 * dlclose()s it, then exits: the snapshot taken at exit (or the leak
 * check) must still place both blocks in the unloaded object. */
#include <dlfcn.h>
#include <stdio.h>

void *kept_from_plugin;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dlclose_prog LIBRARY\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    void *(*make)(size_t, size_t) = (void *(*)(size_t, size_t))dlsym(h, "plugin_make");
    if (!make) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    kept_from_plugin = make(3000, 777);
    if (dlclose(h) != 0) {
        fprintf(stderr, "dlclose: %s\n", dlerror());
        return 1;
    }
    printf("unloaded\n");
    return 0;
}
