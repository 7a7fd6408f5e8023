/* leak_prog.c - programs with known leaks, for leak_*.sh: each mode is
 * checked by libsnapalloc's leak check and by valgrind memcheck, and the
 * two must agree.
 *
 *   direct     3 x 100 bytes lost                       definite 300/3
 *   list       a 5-node list (48-byte nodes) whose head is lost
 *                                                       definite 48/1, indirect 192/4
 *   global     a pointer kept in a global, then overwritten   definite 64/1
 *   thread     a block whose pointer lived only on the stack of a thread
 *              that has exited                          definite 72/1
 *   interior   a block reachable only through a pointer into its middle,
 *              which points to another block            possible 120/2
 *   baseline   2 x 1234 bytes kept, snapalloc_mark_baseline() (found with
 *              dlsym), then a 0.3 s sleep (for SNAPALLOC_CHECK_WARMUP)
 *   clean      nothing more (every mode also keeps 2 blocks reachable
 *              and frees a third)
 *
 * Leaked pointers must not linger in registers or dead stack slots that
 * either checker would see: the leaks are made in noinline functions, and
 * the stack below main's frame is scrubbed before returning.
 */
#pragma GCC optimize("O0")
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

void *keep;            /* a global root */
void *keep_interior;   /* points into a block */
void *reachable[2];
void *kept[2];

struct node {
    struct node *next;
    char pad[40];
};

static NOINLINE void scrub(void)
{
    volatile char pad[65536];
    memset((char *)pad, 0, sizeof pad);
}

static NOINLINE void direct(void)
{
    for (int i = 0; i < 3; i++) {
        char *p = malloc(100);
        memset(p, i, 100);
        p = NULL;
    }
}

static NOINLINE void list(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 5; i++) {
        struct node *n = malloc(sizeof *n);
        memset(n, 0, sizeof *n);
        n->next = head;
        head = n;
    }
    head = NULL;
}

static NOINLINE void global(void)
{
    keep = malloc(64);
    memset(keep, 1, 64);
    keep = NULL;
}

static void *thread_main(void *arg)
{
    volatile uintptr_t on_stack = (uintptr_t)malloc(72);
    memset((void *)on_stack, 2, 72);
    return arg;
}

static NOINLINE void thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0)
        exit(3);
}

static NOINLINE void interior(void)
{
    char *p = malloc(80);
    memset(p, 0, 80);
    void *q = malloc(40);
    memset(q, 0, 40);
    memcpy(p + 8, &q, sizeof q);    /* p -> q by its start */
    keep_interior = p + 32;
    p = NULL;
    q = NULL;
}

static NOINLINE void baseline(void)
{
    for (int i = 0; i < 2; i++) {
        kept[i] = malloc(1234);
        memset(kept[i], 0, 1234);
    }
    void (*mark)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "snapalloc_mark_baseline");
    if (mark)
        mark();
    usleep(300000);
}

static NOINLINE void clean(void)
{
    reachable[0] = malloc(32);
    reachable[1] = malloc(5000);
    free(malloc(77));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: leak_prog direct|list|global|thread|interior|baseline|clean\n");
        return 2;
    }
    /* stdio's buffer would be one more reachable block in one checker only
     * if the two disagreed on it: make it the same in both runs. */
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *m = argv[1];
    if (!strcmp(m, "direct"))
        direct();
    else if (!strcmp(m, "list"))
        list();
    else if (!strcmp(m, "global"))
        global();
    else if (!strcmp(m, "thread"))
        thread();
    else if (!strcmp(m, "interior"))
        interior();
    else if (!strcmp(m, "baseline"))
        baseline();
    else if (strcmp(m, "clean") != 0)
        return 2;
    clean();
    scrub();
    return 0;
}
