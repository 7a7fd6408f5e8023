/* html_prog.c - a program with known allocations over time for the HTML
 * report's tests (cli_html.sh): three snapshots of different live memory.
 *
 *   make_table: 16 x 4096 B            snapshot 1 (API)   65536 B of ours
 *   fill_cache: 300 x 48 B             snapshot 2 (API)   + 14400 B
 *   make_table's blocks freed          exit snapshot      14400 B of ours
 *
 * Built by the test at -O0 and -O2 (sa_build); the lines are found by
 * their SITE markers.
 */
#include <stdlib.h>

#define SNAPALLOC_WEAK
#include "snapalloc.h"

static void *table[16];
static void *cache[300];

static __attribute__((noinline)) void make_table(void)
{
    for (int i = 0; i < 16; i++)
        table[i] = malloc(4096); /* SITE:table */
}

static __attribute__((noinline)) void fill_cache(void)
{
    for (int i = 0; i < 300; i++)
        cache[i] = malloc(48); /* SITE:cache */
}

static void snapshot(void)
{
    if (snapalloc_take_snapshot)
        snapalloc_take_snapshot(NULL);
}

int main(void)
{
    make_table();
    snapshot();
    fill_cache();
    snapshot();
    for (int i = 0; i < 16; i++)
        free(table[i]);
    return cache[299] ? 0 : 1;
}
