/* fds_prog.c - a program that watches its own file descriptors, for
 * fds.sh: tracing and the leak check must open none the program can see.
 *
 *   fds_prog list           prints the open fds (from /proc/self/fd) at
 *                           start, after traced mallocs from deep stacks,
 *                           after more from new call sites, and at exit
 *   fds_prog reuse DIR      closes every fd above 2, opens DIR/a and DIR/b
 *                           (fds 3 and 4), allocates from new call sites,
 *                           writes to both and checks what the files hold
 *   fds_prog many DIR N     closes every fd above 2, opens N files in DIR,
 *                           leaks one block, writes one line to each file
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile keep[64];

static void list_fds(const char *when)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        perror("opendir /proc/self/fd");
        exit(2);
    }
    printf("%s:", when);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            printf(" %s", e->d_name);
    printf("\n");
    fflush(stdout);
    closedir(d);
}

/* A deep stack of distinct frames, so the unwinder has work to learn. */
__attribute__((noinline)) static void *nest(int depth, size_t size)
{
    void *p = depth > 0 ? nest(depth - 1, size + 1) : malloc(size);
    __asm__ volatile("" ::: "memory");   /* not a tail call */
    return p;
}

__attribute__((noinline)) static void site_a(int i) { keep[i] = nest(40, 16); }
__attribute__((noinline)) static void site_b(int i) { keep[i] = nest(25, 100); }
__attribute__((noinline)) static void site_c(int i) { keep[i] = nest(60, 1000); }

static void close_all(void)
{
    for (int fd = 3; fd < 4096; fd++)
        close(fd);
}

static int open_at(const char *dir, const char *name, int want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd != want) {
        fprintf(stderr, "fds_prog: %s opened as fd %d, expected %d\n", path, fd, want);
        exit(2);
    }
    return fd;
}

static int check_file(const char *dir, const char *name, const char *want)
{
    char path[4096], buf[256] = {0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    if (n != strlen(want) || memcmp(buf, want, n) != 0) {
        fprintf(stderr, "fds_prog: %s holds '%.*s', expected '%s'\n", path, (int)n, buf, want);
        return 1;
    }
    return 0;
}

static int reuse(const char *dir)
{
    site_a(0);   /* libunwind is set up (and would open its pipe) */
    close_all();
    int a = open_at(dir, "a", 3), b = open_at(dir, "b", 4);
    for (int i = 1; i < 8; i++) {   /* new call sites: the unwinder learns */
        site_b(i);
        site_c(i + 8);
    }
    if (write(a, "data-a\n", 7) != 7 || write(b, "data-b\n", 7) != 7) {
        perror("fds_prog: write");
        return 2;
    }
    close(a);
    close(b);
    int bad = check_file(dir, "a", "data-a\n") + check_file(dir, "b", "data-b\n");
    printf("reuse: %s\n", bad ? "data lost" : "ok");
    return bad ? 1 : 0;
}

static int many(const char *dir, int n)
{
    close_all();
    int fds[4096];
    for (int i = 0; i < n && i < 4096; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        fds[i] = open_at(dir, name, 3 + i);
    }
    site_c(0);
    keep[0] = NULL;   /* one definite leak for the report */
    site_b(1);
    for (int i = 0; i < n; i++) {
        char line[32];
        int len = snprintf(line, sizeof line, "file %d\n", i);
        if (write(fds[i], line, (size_t)len) != len)
            return 2;
    }
    printf("many: ok\n");
    return 0;   /* the files stay open: the report comes at exit */
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        list_fds("start");
        site_a(0);
        list_fds("traced");
        for (int i = 1; i < 8; i++)
            site_b(i), site_c(i + 8);
        list_fds("learnt");
        free(keep[0]);
        list_fds("end");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "reuse") == 0)
        return reuse(argv[2]);
    if (argc == 4 && strcmp(argv[1], "many") == 0)
        return many(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: fds_prog list | reuse DIR | many DIR N\n");
    return 2;
}
