/* tests/debug/guard.c - heap defects guard pages (SNAPALLOC_GUARD) must
 * catch at the faulting access, one per case (argv[1]);
 * tests/integration/guard.sh runs each at -O0 and -O2 under
 * SNAPALLOC_GUARD=all (every allocation guarded while the pool has room:
 * the defect's block is guarded for certain) and checks the report: kind,
 * size, offset, and the lines marked ALLOC, FREE and ACCESS (the
 * allocating, freeing and faulting calls) or DETECT (the free that found
 * the damage). */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
    struct node *next;
    long value;
    char name[184];
};

static struct node *list;

static void push(long value, const char *name)
{
    struct node *n = malloc(sizeof *n);   /* ALLOC:uaf */
    n->next = list;
    n->value = value;
    snprintf(n->name, sizeof n->name, "%s", name);
    list = n;
}

/* Pops the head and frees it, but returns the freed node: the caller's
 * cursor still points at it. */
static struct node *pop(void)
{
    struct node *n = list;
    list = n->next;
    free(n);   /* FREE:uaf */
    return n;
}

/* A read after free at offset 16 (name), by strlen. */
static long read_after_free(void)
{
    push(42, "first");
    struct node *stale = pop();
    return (long)strlen(stale->name);   /* ACCESS:uaf_read */
}

/* A write after free at offset 16 (name), by snprintf. */
static void write_after_free(long v)
{
    push(7, "second");
    struct node *stale = pop();
    snprintf(stale->name, sizeof stale->name, "%ld", v);   /* ACCESS:uaf_write */
}

/* A loop that runs one element too far over an array of 8 ints (32
 * bytes, a multiple of the 16-byte alignment: its end touches the guard
 * page). */
static int sum_past(int n)
{
    int *a = malloc(8 * sizeof *a);   /* ALLOC:overflow */
    for (int i = 0; i < 8; i++)
        a[i] = i + n;
    int s = 0;
    for (int i = 0; i <= 8; i++)
        s += a[i];   /* ACCESS:overflow */
    free(a);
    return s;
}

/* A copy one byte too short for the NUL: 10 bytes end 6 bytes before the
 * guard page (16-byte alignment), so the NUL lands in the gap, which
 * free() checks. */
static char *copy(const char *s)
{
    char *p = malloc(strlen(s));   /* ALLOC:slack */
    strcpy(p, s);
    return p;
}

static void slack(void)
{
    char *p = copy("0123456789");
    puts(p);
    free(p);   /* DETECT:slack */
}

/* Writes the digits of n right to left into 16 bytes, one too many: the
 * last lands before the block (SNAPALLOC_GUARD_UNDERFLOW=1 puts the
 * block against the guard page before it). */
static void underflow(const char *arg)
{
    int n = atoi(arg);
    char *digits = malloc(16);   /* ALLOC:underflow */
    int i = 16;
    digits[--i] = 0;
    do
        digits[--i] = (char)('0' + n % 10);   /* ACCESS:underflow */
    while ((n /= 10) != 0 || i > -1);
    printf("%s\n", digits + 1);
    free(digits);
}

static void double_free(void)
{
    char *p = malloc(40);   /* ALLOC:double */
    strcpy(p, "twice");
    puts(p);
    free(p);   /* FREE:double */
    puts("freed");
    free(p);   /* DETECT:double */
}

/* A read after free in a second thread, of a block the first allocated. */
static char *shared;

static void *reader(void *arg)
{
    (void)arg;
    return (void *)(long)shared[3];   /* ACCESS:thread */
}

static void thread_uaf(void)
{
    shared = strdup("shared text");   /* ALLOC:thread */
    free(shared);   /* FREE:thread */
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, reader, NULL);
    pthread_join(t, &r);
    printf("%ld\n", (long)r);
}

/* Correct use of guarded blocks: malloc_usable_size is the size asked
 * for, realloc keeps the contents, calloc's memory is zero. */
static void clean(void)
{
    char *p = malloc(13);
    printf("usable %zu\n", malloc_usable_size(p));
    strcpy(p, "hello, world");
    p = realloc(p, 3000);
    printf("%s %zu\n", p, malloc_usable_size(p));
    p = realloc(p, 5);
    p[4] = 0;
    printf("%s\n", p);
    free(p);
    int *z = calloc(100, sizeof *z);
    int sum = 0;
    for (int i = 0; i < 100; i++)
        sum += z[i];
    printf("calloc sum %d\n", sum);
    free(z);
    void *a = aligned_alloc(256, 100);
    printf("aligned %d\n", (int)((unsigned long)a % 256));
    free(a);
}

/* How many of 50,000 mallocs of each of four sizes were guarded: a
 * guarded block's usable size is the size asked for, an arena block's
 * its class's (32, 48, 208, 1024 here). */
static void rate(void)
{
    static const size_t sizes[] = {24, 40, 200, 1000};
    long guarded[4] = {0};
    for (int i = 0; i < 200000; i++) {
        size_t n = sizes[i % 4];
        char *p = malloc(n);
        p[0] = 1;
        guarded[i % 4] += malloc_usable_size(p) == n;
        free(p);
    }
    printf("guarded %ld %ld %ld %ld\n", guarded[0], guarded[1], guarded[2], guarded[3]);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Mallocs of 40 bytes for 400 ms: how many were guarded, and the time
 * they took (the bound on guarded blocks a second). */
static void bound(void)
{
    long start = now_ms(), end, guarded = 0, n = 0;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            char *p = malloc(40);
            p[0] = 1;
            guarded += malloc_usable_size(p) == 40;
            free(p);
        }
        end = now_ms();
    } while (end - start < 400);
    printf("guarded %ld of %ld in %ld ms\n", guarded, n, end - start);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "clean";
    if (strcmp(c, "uaf_read") == 0)
        printf("%ld\n", read_after_free());
    else if (strcmp(c, "uaf_write") == 0)
        write_after_free(argc);
    else if (strcmp(c, "overflow") == 0)
        printf("%d\n", sum_past(argc));
    else if (strcmp(c, "slack") == 0)
        slack();
    else if (strcmp(c, "underflow") == 0)
        underflow(argc > 2 ? argv[2] : "7");
    else if (strcmp(c, "double") == 0)
        double_free();
    else if (strcmp(c, "thread") == 0)
        thread_uaf();
    else if (strcmp(c, "rate") == 0)
        rate();
    else if (strcmp(c, "bound") == 0)
        bound();
    else
        clean();
    return 0;
}
