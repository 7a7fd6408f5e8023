/* snapdump.c - print a snapshot file as plain lines for the tracer's
 * integration tests (trace_*.sh), which match stacks by module-relative
 * frame offsets:
 *
 *   snapshot pid=P trigger=T sequence=S limit=L current=C peak=P stacks=N size=Z count=K
 *   stack size=Z count=K frames=N
 *   frame MODULE-BASENAME OFFSET          (decimal; "?" ADDRESS outside modules)
 *
 * Exit status 2 with a one-line reason if the file does not read back.
 */
#include <stdio.h>
#include <string.h>

#include "format/snapshot.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: snapdump FILE\n");
        return 2;
    }
    char err[256];
    sa_snapshot *s = sa_snapshot_read(argv[1], err, sizeof err);
    if (!s) {
        fprintf(stderr, "snapdump: %s: %s\n", argv[1], err);
        return 2;
    }
    printf("snapshot pid=%u trigger=%u sequence=%u limit=%u current=%llu peak=%llu "
           "stacks=%u size=%llu count=%llu\n",
           s->pid, s->trigger, s->sequence, s->frame_limit,
           (unsigned long long)s->traced_current, (unsigned long long)s->traced_peak,
           s->nstacks, (unsigned long long)s->total_size, (unsigned long long)s->total_count);
    for (uint32_t i = 0; i < s->nstacks; i++) {
        const sa_snap_stack *st = &s->stacks[i];
        printf("stack size=%llu count=%llu frames=%u\n", (unsigned long long)st->size,
               (unsigned long long)st->count, st->nframes);
        for (uint32_t f = 0; f < st->nframes; f++) {
            const sa_snap_frame *fr = &st->frames[f];
            if (fr->module == SA_SNAP_NO_MODULE || fr->module >= s->nmodules) {
                printf("frame ? %llu\n", (unsigned long long)fr->offset);
                continue;
            }
            const char *path = s->modules[fr->module].path;
            const char *base = strrchr(path, '/');
            printf("frame %s %llu\n", base ? base + 1 : path, (unsigned long long)fr->offset);
        }
    }
    sa_snapshot_free(s);
    return 0;
}
