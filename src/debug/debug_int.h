/* debug/debug_int.h - what the debug mode's files share: a block's
 * header, a finding and the report (debug/report.c), the quarantine
 * (debug/quarantine.c). */
#ifndef SA_DEBUG_INT_H
#define SA_DEBUG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "debug/debug_mode.h"

#define SA_DEBUG_FREED 0x80      /* in the api byte: the block is quarantined */
#define SA_DEBUG_MAX_LOG2 20     /* the largest header: 1 MiB alignment */
#define SA_REL_REALLOC 6         /* a releaser only: realloc (of a malloc block) */

/* A finding: what the report says. */
typedef struct sa_debug_finding {
    const char *what;          /* "buffer overflow", ... */
    const char *detail;        /* optional second phrase, or NULL */
    const char *releaser;      /* the call that released it, or NULL */
    const unsigned char *user; /* the block's address (as the program saw it) */
    size_t size;               /* requested bytes, SIZE_MAX unknown */
    int api;                   /* sa_debug_api of the allocation, 0 unknown */
    int has_offset;
    long offset;               /* first bad byte, from user */
    uint32_t alloc_id, free_id;/* stack ids, 0 none */
    int at_exit;               /* no detecting stack */
} sa_debug_finding;

void sa_debug_report(const sa_debug_finding *f);
void sa_debug_report_open(void);
void sa_debug_report_prefork(void);
void sa_debug_report_postfork_parent(void);
void sa_debug_report_postfork_child(void);
const char *sa_debug_api_name(int api);
/* For guard pages' reports (debug/guard.c), in the same format: the
 * descriptor, and a stack's lines (raw frames, as `snapalloc run`
 * symbolizes them). */
struct sa_buf;
int sa_debug_report_fd(void);
void sa_debug_report_frames(struct sa_buf *b, const char *title, const uintptr_t *f, unsigned n);

/* The quarantine. */
typedef struct sa_debug_qentry {
    void *user, *base;
    size_t bytes;              /* the allocator block's usable size */
    uint32_t alloc_id, free_id;
} sa_debug_qentry;
void sa_debug_quarantine_init(uint64_t limit);
/* Put e in; the entries it pushes out (over the limit) go to out[],
 * at most SA_DEBUG_EVICT_MAX; returns their number.  While that is
 * SA_DEBUG_EVICT_MAX, call again with e NULL for the next. */
#define SA_DEBUG_EVICT_MAX 4
unsigned sa_debug_quarantine_push(const sa_debug_qentry *e, sa_debug_qentry *out);
/* The entry of base, if quarantined: 1 and *out. */
int sa_debug_quarantine_find(const void *user, sa_debug_qentry *out);
void sa_debug_quarantine_prefork(void);
void sa_debug_quarantine_postfork_parent(void);
void sa_debug_quarantine_postfork_child(void);

#endif
