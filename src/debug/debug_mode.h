/* debug/debug_mode.h - debug mode (SNAPALLOC_DEBUG): pymalloc's debug hooks for
 * any program, with the tracer's stacks.  The entry points
 * (preload/override*.c) enter it only from the paths they already take
 * when tracing is on (debug mode turns the tracer on), so the malloc and
 * free fast paths do not change.
 *
 * A debug block, inside one allocator block (base):
 *
 *     base            u-16        u-8  u-7  u-6..u-1  u         u+size     u+size+16
 *     | 0xFD (aligned | size      |api |log2| 0xFD x6 | 0xCD... | 0xFD x16 |
 *     |  headers only)| (8 bytes) |    |hdr |         | (data)  |          |
 *
 * The header is 16 bytes, or the alignment when larger (aligned
 * allocations), so u keeps the alignment asked for; log2 hdr finds base
 * again.  u is never an allocator block start, which tells a debug block
 * from a block allocated before debug mode started (freed plainly).
 *
 * Freed blocks are filled with 0xDD and wait in the quarantine
 * (debug/quarantine.c: a ring per thread), bounded by
 * SNAPALLOC_DEBUG_QUARANTINE bytes; their guards and fill are checked
 * when they leave it and at exit (the fill of blocks over 4 KiB in part:
 * debug.c, fill_damage; doc/debug.md says which bytes).  Reports
 * (debug/report.c) go to stderr or SNAPALLOC_DEBUG_FILE with raw frames
 * (module+offset) that `snapalloc run --debug` symbolizes.
 *
 * (Not debug/debug.h: with src/ on the include path, that name would hide
 * libstdc++'s <debug/debug.h> from the C++ tests.)
 */
#ifndef SA_DEBUG_H
#define SA_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

#define SA_DEBUG_CLEAN 0xCD      /* a new block's bytes (pymalloc's CLEANBYTE) */
#define SA_DEBUG_DEAD 0xDD       /* a freed block's (DEADBYTE) */
#define SA_DEBUG_FORBIDDEN 0xFD  /* the guard bytes (FORBIDDENBYTE) */
#define SA_DEBUG_TAIL 16         /* guard bytes after a block */
#define SA_DEBUG_HEAD 16         /* the header, at least */
#define SA_DEBUG_FRAMES 24       /* stack depth when debug mode turns tracing on */
#define SA_DEBUG_QUARANTINE_DEFAULT "4M"

/* The allocating (or releasing) API of a block. */
typedef enum sa_debug_api {
    SA_API_MALLOC = 1,           /* malloc, calloc, realloc, memalign... / free */
    SA_API_NEW = 2,              /* operator new / delete */
    SA_API_NEW_ARRAY = 3,        /* operator new[] / delete[] */
    SA_API_NEW_ALIGNED = 4,      /* operator new(align_val_t) / delete(.., align_val_t) */
    SA_API_NEW_ARRAY_ALIGNED = 5 /* operator new[](align_val_t) / delete[](.., align_val_t) */
} sa_debug_api;

/* SNAPALLOC_DEBUG_* (the table: common/config.c). */
typedef struct sa_debug_config {
    int mode;               /* SNAPALLOC_DEBUG: 0 off, 1 abort, 2 report */
    uint64_t quarantine;    /* SNAPALLOC_DEBUG_QUARANTINE bytes */
    char file[4096];        /* SNAPALLOC_DEBUG_FILE: "" = stderr */
    uint64_t guard;         /* SNAPALLOC_GUARD: 1 in N allocations, 0 off (debug/guard.h) */
    int guard_slots;        /* SNAPALLOC_GUARD_SLOTS */
    int guard_underflow;    /* SNAPALLOC_GUARD_UNDERFLOW: blocks against the guard before */
    int guard_per_sec;      /* SNAPALLOC_GUARD_PER_SEC: guarded blocks a second at most, 0 any */
} sa_debug_config;
#define SA_DEBUG_ABORT 1
#define SA_DEBUG_REPORT 2

extern SA_HIDDEN sa_debug_config sa_debug_cfg;
/* Non-zero in debug mode; read only on paths taken while tracing. */
extern SA_HIDDEN int sa_debug_on;

/* Start-up (preload/lifecycle.c): read the variables (before the tracer
 * starts: debug mode turns it on in *trace_depth when it is off). */
void sa_debug_config_read(int fd, int *trace_depth, int *trace_at_exit);
/* After the tracer started: route the entry points here. */
void sa_debug_start(void);
/* At exit: check every live and quarantined block; returns the number of
 * reports of the whole run (the check's status is decided by its caller). */
unsigned long sa_debug_exit_check(void);
/* Reports so far. */
unsigned long sa_debug_reports(void);

/* The entry points' debug paths.  Allocation: the user pointer (the tracer
 * records the block at sa_debug_base(u), with size n). */
void *sa_debug_alloc(size_t n, size_t align, sa_debug_api api, int zero);
/* entry_frame: the exported entry point's frame (its saved frame pointer,
 * then the program's return address), for the free stack through the
 * unwind cache; NULL unwinds from here. */
void sa_debug_free(void *u, sa_debug_api api, const void *entry_frame);
void *sa_debug_realloc(void *u, size_t n, const void *entry_frame);
size_t sa_debug_usable_size(void *u);
/* The allocator block a debug user pointer lives in. */
static inline void *sa_debug_base(void *u)
{
    return (char *)u - ((size_t)1 << ((unsigned char *)u)[-7]);
}

/* The user pointer of a live debug block in allocator block start (of
 * usable size bytes), or NULL (the leak scan: leak/scan.c). */
void *sa_debug_user_of(void *start, size_t bytes);

/* Fork handlers (preload/lifecycle.c). */
void sa_debug_prefork(void);
void sa_debug_postfork_parent(void);
void sa_debug_postfork_child(void);

#endif
