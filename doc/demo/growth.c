/* growth.c - the demo: a toy request handler whose cache never evicts.
 *
 * Each request allocates a temporary buffer (freed) and caches its reply
 * (kept forever): live memory grows by exactly 1,000 bytes of reply plus
 * one cache entry per request.  A leak checker that scans for unreachable
 * blocks sees nothing wrong (every entry is reachable from `cache`); two
 * snapshots and `snapalloc diff` point straight at cache_put.
 *
 * Requests arrive over about a tenth of a second (a short pause every 50),
 * and halfway through a report builds a 1.5 MiB index it frees at once:
 * the run's peak of live memory, which `snapalloc run` keeps in its peak
 * file although both snapshots miss it.
 *
 * The program takes its two snapshots itself through the snapalloc API,
 * declared weak so that it also runs, untraced, without the preload:
 *
 *     growth DIR     writes DIR/before.snap after 500 requests and
 *                    DIR/after.snap after 2,000 more
 */
#define SNAPALLOC_WEAK
#include <snapalloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLY_SIZE 1000

struct entry {
    struct entry *next;
    int id;
    char *reply;
};

static struct entry *cache[64];

static char *render_reply(int id)
{
    char *reply = malloc(REPLY_SIZE);
    snprintf(reply, REPLY_SIZE, "reply to request %d", id);
    return reply;
}

static void cache_put(int id, char *reply)
{
    struct entry *e = malloc(sizeof *e);
    e->id = id;
    e->reply = reply;
    e->next = cache[id % 64];
    cache[id % 64] = e;
}

static void handle_request(int id)
{
    char *scratch = malloc(4096);      /* temporary: freed below */
    memset(scratch, id & 0xff, 4096);
    cache_put(id, render_reply(id));
    free(scratch);
}

/* A report over the cache: a temporary index of every entry, freed at
 * once (memory's peak, invisible to the two snapshots). */
static size_t build_report(void)
{
    size_t n = 1536 * 1024 / sizeof(struct entry *);    /* 1.5 MiB of slots */
    struct entry **index = calloc(n, sizeof *index);
    size_t used = 0;
    for (int b = 0; b < 64 && index; b++)
        for (struct entry *e = cache[b]; e && used < n; e = e->next)
            index[used++] = e;
    free(index);
    return used;
}

static void pause_a_little(void)
{
    struct timespec ts = {0, 2 * 1000 * 1000};    /* 2 ms: requests arrive over time */
    nanosleep(&ts, NULL);
}

static void snapshot(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!snapalloc_take_snapshot) {
        printf("not traced (run me under `snapalloc run`): no %s\n", path);
        return;
    }
    int rc = snapalloc_take_snapshot(path);
    printf("%s: %s\n", path, rc == 0 ? "written" : "failed");
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int id = 0;
    while (id < 500) {
        handle_request(id++);
        if (id % 50 == 0)
            pause_a_little();
    }
    snapshot(dir, "before.snap");
    while (id < 2500) {
        handle_request(id++);
        if (id % 50 == 0)
            pause_a_little();
        if (id == 1500)
            printf("report over %zu cached entries\n", build_report());
    }
    snapshot(dir, "after.snap");
    return 0;
}
