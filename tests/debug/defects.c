/* tests/debug/defects.c - heap defects debug mode must report, one per
 * case (argv[1]); tests/integration/debug.sh runs each at -O0 and -O2 and
 * checks the report: kind, size, offset, and the lines marked ALLOC, FREE
 * and DETECT (the allocating, freeing and detecting calls). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *kept;   /* a block alive at exit */

/* A copy one byte too short for the terminating NUL. */
static char *copy(const char *s)
{
    char *p = malloc(strlen(s));   /* ALLOC:overflow */
    strcpy(p, s);
    return p;
}

static void overflow(void)
{
    char *p = copy("0123456789");
    puts(p);
    free(p);   /* DETECT:overflow */
}

/* Writes before a block: the digits of n right to left, one too many. */
static void underflow(const char *arg)
{
    int n = atoi(arg);
    char *digits = malloc(16);   /* ALLOC:underflow */
    int i = 16;
    digits[--i] = 0;
    do
        digits[--i] = (char)('0' + n % 10);
    while ((n /= 10) != 0 || i > -1);
    printf("%s\n", digits + 1);
    free(digits);   /* DETECT:underflow */
}

struct node {
    struct node *next;
    long value;
    char name[184];
};

/* A list whose popped node is freed while a cursor still points at it;
 * the cursor then writes to it at offset off (0, 8, 100...). */
static struct node *list;

static void push(long value, const char *name)
{
    struct node *n = malloc(sizeof *n);   /* ALLOC:uaf */
    n->next = list;
    n->value = value;
    snprintf(n->name, sizeof n->name, "%s", name);
    list = n;
}

static long pop(void)
{
    struct node *n = list;
    long value = n->value;
    printf("pop %s\n", n->name);
    list = n->next;
    free(n);   /* FREE:uaf */
    return value;
}

static void write_after_free(const char *arg)
{
    size_t off = (size_t)atoi(arg);
    push(1, "first");
    push(2, "second");
    struct node *cursor = list;
    long sum = pop();
    ((char *)cursor)[off] = 1;
    printf("left %s\n", list->name);
    sum += pop();   /* with a small quarantine, this free pushes the first out */
    printf("sum %ld\n", sum);
}

static void double_free(void)
{
    char *p = malloc(40);   /* ALLOC:double */
    snprintf(p, 40, "%s", "hello");
    puts(p);
    free(p);   /* FREE:double */
    free(p);   /* DETECT:double */
}

static void invalid_free(void)
{
    char *p = malloc(64);
    strcpy(p, "name=value");
    char *value = strchr(p, '=') + 1;
    puts(value);
    free(value);   /* DETECT:invalid */
    free(p);
}

/* A block still alive at exit, one byte short for its string: only the
 * exit check sees the overflow. */
static void exit_overflow(const char *arg)
{
    size_t n = strlen(arg);
    kept = malloc(n);   /* ALLOC:exit */
    memcpy(kept, arg, n + 1);
    printf("kept %s\n", kept);
}

/* The same, found on demand by snapalloc_debug_check(). */
static void check_api(void)
{
    kept = malloc(48);   /* ALLOC:api */
    memset(kept, 'x', 49);
    int (*check)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "snapalloc_debug_check");
    if (check)
        printf("damaged: %d\n", check());   /* DETECT:api */
}

/* A thread that terminates its line one byte past the end. */
static void *worker(void *arg)
{
    size_t n = strlen(arg);
    char *line = malloc(n);   /* ALLOC:thread */
    for (size_t i = 0; i < n; i++)
        line[i] = '-';
    line[n] = 0;
    puts(line);
    free(line);   /* DETECT:thread */
    return NULL;
}

static void in_thread(const char *arg)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)arg);
    pthread_join(t, NULL);
}

/* A large buffer written at offset off after it was freed (blocks over
 * 4 KiB have parts of their fill checked: doc/debug.md). */
static void large_write_after_free(const char *arg)
{
    size_t off = (size_t)atoi(arg);
    char *buf = malloc(65536);   /* ALLOC:uaf_large */
    memset(buf, 'a', 65536);
    printf("%c\n", buf[off]);
    free(buf);   /* FREE:uaf_large */
    buf[off] = 'b';
}

/* A block freed by another thread (each thread has its own quarantine):
 * written to after that thread ended (thread_uaf), or freed again while
 * it still runs (thread_double). */
static char *handed;
static pthread_barrier_t handed_back;

static void *drop_handed(void *arg)
{
    (void)arg;
    free(handed);   /* FREE:thread_uaf */
    return NULL;
}

static void *drop_handed_and_wait(void *arg)
{
    (void)arg;
    free(handed);   /* FREE:thread_double */
    pthread_barrier_wait(&handed_back);
    pthread_barrier_wait(&handed_back);
    return NULL;
}

/* Frees 5000 small blocks (more than a 64 KiB quarantine holds) and
 * ends. */
static char *names[5000];

static void *drop_many(void *arg)
{
    for (int i = 0; i < 5000; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "%s%d", (const char *)arg, i);
    }
    for (int i = 0; i < 5000; i++)
        free(names[i]);
    return NULL;
}

/* A write after free in the main thread once a worker that filled the
 * quarantine has ended (run with SNAPALLOC_DEBUG_QUARANTINE=64K): the
 * worker's blocks leave to make room, not the main thread's own. */
static void uaf_after_workers(const char *arg)
{
    char *first = malloc(16);
    snprintf(first, 16, "%s", arg);
    puts(first);
    free(first);
    pthread_t t;
    pthread_create(&t, NULL, drop_many, "w");
    pthread_join(t, NULL);
    char *p = malloc(64);   /* ALLOC:workers_uaf */
    snprintf(p, 64, "%s", arg);
    puts(p);
    for (int i = 0; i < 200; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "%s%d", arg, i);
    }
    free(p);   /* FREE:workers_uaf */
    p[8] = 'x';
    for (int i = 0; i < 200; i++)
        free(names[i]);   /* would push p out, were the worker's blocks kept */
}

static void uaf_after_thread(const char *arg)
{
    handed = malloc(64);   /* ALLOC:thread_uaf */
    snprintf(handed, 64, "%s", arg);
    puts(handed);
    pthread_t t;
    pthread_create(&t, NULL, drop_handed, NULL);
    pthread_join(t, NULL);
    handed[8] = 'x';
}

static void double_free_across_threads(const char *arg)
{
    handed = malloc(64);   /* ALLOC:thread_double */
    snprintf(handed, 64, "%s", arg);
    puts(handed);
    pthread_barrier_init(&handed_back, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, drop_handed_and_wait, NULL);
    pthread_barrier_wait(&handed_back);
    free(handed);   /* DETECT:thread_double */
    pthread_barrier_wait(&handed_back);
    pthread_join(t, NULL);
}

/* No defect: a list kept to the end, reachable from a global. */
static void clean(void)
{
    for (long i = 0; i < 10; i++)
        push(i, "kept");
    printf("first %s %ld\n", list->name, list->value);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "0";
    if (!strcmp(c, "overflow")) overflow();
    else if (!strcmp(c, "underflow")) underflow(arg);
    else if (!strcmp(c, "uaf")) write_after_free(arg);
    else if (!strcmp(c, "double")) double_free();
    else if (!strcmp(c, "invalid")) invalid_free();
    else if (!strcmp(c, "exit")) exit_overflow(arg);
    else if (!strcmp(c, "api")) check_api();
    else if (!strcmp(c, "thread")) in_thread(arg);
    else if (!strcmp(c, "uaf_large")) large_write_after_free(arg);
    else if (!strcmp(c, "thread_uaf")) uaf_after_thread(arg);
    else if (!strcmp(c, "workers_uaf")) uaf_after_workers(arg);
    else if (!strcmp(c, "thread_double")) double_free_across_threads(arg);
    else if (!strcmp(c, "clean")) clean();
    else return 2;
    return 0;
}
