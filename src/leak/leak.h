/* leak/leak.h - the in-process leak checker (src/leak, one concern a
 * file; leak/leak.c lists them): a conservative mark-and-sweep over the
 * live blocks at exit, LeakSanitizer's roots and valgrind memcheck's
 * classes.  The other side, `snapalloc check`, reads
 * the files it writes (doc: the check interface, /tmp/leak_iface.md in
 * issue 5).
 *
 *   at exit (our destructor)                       files in DIR
 *   ------------------------                       ------------
 *   exit snapshot (the tracer's writer)            PID.exit.snap
 *   module roots (dl_iterate_phdr, before the stop)
 *   take the allocator's locks; stop every other thread (leak/world.c);
 *   release the locks (no stopped thread can be inside them)
 *   index the live blocks, mark from the roots, classify (leak/scan.c)
 *   resume the world
 *   four class snapshots, aggregated by stack       PID.{definite,indirect,
 *                                                    possible,reachable}.snap
 *   an empty marker, last                          PID.done
 *   standalone: run `snapalloc check --analyze DIR` (leak/analyzer.c)
 *
 * Memory: everything the scan uses comes from sa_os_map; nothing between
 * the stop and the resume allocates or takes a lock a stopped thread could
 * hold (dl_iterate_phdr's loader lock included: the module roots are
 * collected before the stop).
 */
#ifndef SA_LEAK_H
#define SA_LEAK_H

#include "common/compiler.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "leak/heur.h"
#include "trace/config.h"

/* ---- Configuration (leak/leak.c) ------------------------------------------- */

typedef struct sa_leak_config {
    int enabled;               /* SNAPALLOC_CHECK=1 */
    int dir_given;             /* SNAPALLOC_CHECK_DIR set and usable */
    uint64_t warmup_ns;        /* SNAPALLOC_CHECK_WARMUP; 0 = none */
    char dir[SA_PATH_MAX];     /* SNAPALLOC_CHECK_DIR */
    char options[SA_PATH_MAX]; /* SNAPALLOC_CHECK_OPTIONS, verbatim */
    unsigned heuristics;       /* SNAPALLOC_CHECK_HEURISTICS: SA_LEAK_HEUR_* bits */
} sa_leak_config;

extern SA_HIDDEN sa_leak_config sa_leak_cfg;

/* Read the SNAPALLOC_CHECK* variables into *c through the table
 * (common/config.h; warnings on fd) and adjust
 * the tracer's configuration t: CHECK=1 implies tracing (depth 32 unless
 * SNAPALLOC_TRACE says otherwise), lazy counting (unless peak snapshots
 * need the live total) and no tracer exit snapshot unless
 * SNAPALLOC_SNAPSHOT_AT_EXIT is set.  Called after sa_trace_config_read
 * (preload/lifecycle.c). */
void sa_leak_config_read(sa_leak_config *c, sa_trace_config *t, int fd);

/* ---- Scrubbing (leak/scrub.c) ------------------------------------------- */

/* Under the check (set with the configuration): blocks are cleared where
 * the program has not written them (sa_leak_scrub, called by the entry
 * points for [from, to) of a block p: all of a new block, the grown tail
 * of a realloc). */
extern SA_HIDDEN int sa_leak_scrub_on;
void sa_leak_scrub(void *p, size_t from, size_t to);

/* ---- Start, baseline and exit (leak/check.c) ----------------------------- */

/* snapalloc_mark_baseline() under the check: write PID.baseline.snap. */
void sa_leak_baseline(void);

/* Start the check's threads (the warmup baseline) and hooks
 * (snapalloc_mark_baseline's file), once the configuration is read and
 * tracing started (preload/lifecycle.c). */
void sa_leak_start(void);

/* Where the program called exit, _exit or _Exit (preload/override_exit.c
 * records it before the wrapper's own frame exists): the calling thread's
 * thread pointer, its stack pointer before the call, and its callee-saved
 * registers (x86-64: rbx, rbp, r12-r15).  The scan starts that thread's
 * stack at sp.  Offsets are fixed: the wrapper writes them from
 * assembly. */
#define SA_EXIT_NREGS 6
typedef struct sa_exit_state {
    uintptr_t tp;
    uintptr_t sp;
    uintptr_t regs[SA_EXIT_NREGS];
} sa_exit_state;
extern SA_HIDDEN sa_exit_state sa_exit_point;

/* The exit-time check when SNAPALLOC_CHECK is on (once per process;
 * preload/lifecycle.c's exit sequence).  Returns the exit status the
 * process must end with because the check failed, or 0. */
int sa_leak_exit_check(void);

/* ---- The scan (leak/scan.c, leak/scan_roots.c) --------------------------- */

enum { SA_LEAK_DEFINITE = 1, SA_LEAK_INDIRECT = 2, SA_LEAK_POSSIBLE = 3,
       SA_LEAK_REACHABLE = 4, SA_LEAK_NCLASSES = 5 };

/* valgrind memcheck's heuristics (--leak-check-heuristics, all on by
 * default there and here): an interior pointer of these shapes counts as
 * a pointer to the block's start.  Blocks so reached are still reachable;
 * the result also lists them by heuristic (entry classes
 * SA_LEAK_HEUR_CLASS + index), as memcheck's "reachable via heuristic". */
enum { SA_LEAK_HEUR_CLASS = SA_LEAK_NCLASSES };

/* Per (class, stack): requested bytes and blocks.  stack 0 = untraced
 * (usable size counted). */
typedef struct sa_leak_entry {
    uint32_t cls;
    uint32_t stack;
    uint64_t size;
    uint64_t count;
} sa_leak_entry;

typedef struct sa_leak_result {
    uint64_t bytes[SA_LEAK_NCLASSES];    /* indexed by SA_LEAK_* */
    uint64_t blocks[SA_LEAK_NCLASSES];
    uint64_t heur_bytes[SA_LEAK_NHEUR];  /* still reachable only through */
    uint64_t heur_blocks[SA_LEAK_NHEUR]; /* a heuristic (SA_LEAK_HEUR_*) */
    sa_leak_entry *entries;              /* classes 1-4 sorted by class, then
                                            stack; then heuristic classes */
    size_t nentries;
    size_t mapped;                       /* bytes mapped for entries */
    uint32_t threads_stopped, threads_skipped;
} sa_leak_result;

/* Stop the world, scan, classify, resume.  Returns 0 or a negative errno
 * (-ENOMEM).  The caller's own registers and stack frames from its caller
 * upwards are roots; the frames below (its own) are not. */
int sa_leak_scan(sa_leak_result *out);
void sa_leak_result_free(sa_leak_result *r);

/* Write the class snapshots and PID.done into dir (leak/files.c); 0 or a negative errno. */
int sa_leak_write(const char *dir, const sa_leak_result *r);

/* The whole exit-time check (leak/check.c; sa_leak_exit_check when enabled): the exit
 * snapshot, the scan, the files; standalone, the analyzer's verdict.
 * Returns the status the process must exit with (the analyzer's non-zero
 * status), or 0. */
int sa_leak_at_exit(void);

/* The exit status of a standalone check that could not check (no
 * directory, no analyzer and no leak found): `snapalloc check`'s too. */
#define SA_LEAK_NOT_CHECKED 24

/* ---- Stop the world (leak/world.c) ----------------------------------- */

/* The signal that stops a thread: SIGRTMIN + 6 (glibc keeps 32 and 33;
 * SIGRTMIN itself and the next few are popular with programs). */
/* SA_LEAK_SIGNAL_OFFSET: common/config_parse.h */
#define SA_LEAK_NREGS 32

typedef struct sa_leak_thread {
    pid_t tid;
    int state;                 /* futex word: SA_LT_* */
    uintptr_t sp;              /* interrupted stack pointer */
    uintptr_t tp;              /* thread pointer (x86-64: %fs base) */
    uintptr_t regs[SA_LEAK_NREGS];   /* general-purpose registers */
} sa_leak_thread;

enum { SA_LT_SENT = 1, SA_LT_STOPPED = 2, SA_LT_LEFT = 3, SA_LT_SKIPPED = 4 };

typedef struct sa_leak_world {
    sa_leak_thread *threads;   /* mmap'ed, cap entries */
    uint32_t n, cap;
    size_t mapped;
    uint32_t stopped, skipped, timedout;
} sa_leak_world;

/* Stop every other thread (warnings on fd for threads that cannot be
 * stopped).  Returns 0 or -ENOMEM. */
int sa_leak_world_stop(sa_leak_world *w, int fd);
/* Let them go; waits until they left the handler before unmapping. */
void sa_leak_world_resume(sa_leak_world *w);

/* ---- Roots (leak/roots.c) -------------------------------------------- */

typedef struct sa_leak_range {
    uintptr_t lo, hi;
    uint32_t flags;            /* SA_MAP_*: /proc/self/maps entries only */
} sa_leak_range;

/* What /proc/self/maps says of a mapping (sa_leak_maps_read). */
enum {
    SA_MAP_R = 1, SA_MAP_W = 2, SA_MAP_X = 4, SA_MAP_SHARED = 8,
    SA_MAP_FILE = 16,          /* backed by a file (hi clamped to its end) */
    SA_MAP_SPECIAL = 32,       /* [stack], [vvar], [vdso], [vsyscall] */
    SA_MAP_NOSCAN = 64,        /* a device, a deleted file: never read it */
};

/* A growable array of ranges in mmap'ed memory. */
typedef struct sa_leak_ranges {
    sa_leak_range *r;
    size_t n, cap, mapped;
} sa_leak_ranges;

int sa_leak_ranges_add(sa_leak_ranges *v, uintptr_t lo, uintptr_t hi);
void sa_leak_ranges_free(sa_leak_ranges *v);

/* Writable PT_LOAD segments of every module but libsnapalloc.so, and the
 * dynamic loader's text (*loader; {0, 0} if not found).  Calls
 * dl_iterate_phdr: only while the world runs. */
int sa_leak_roots_modules(sa_leak_ranges *out, sa_leak_range *loader);
/* /proc/self/maps as sorted ranges with their SA_MAP_* flags (raw
 * syscalls, no stdio).  A file mapping's hi is clamped to the end of its
 * file, whose pages past it would fault (SIGBUS) if read. */
int sa_leak_maps_read(sa_leak_ranges *out);
/* Copy up to n bytes at src into dst without faulting (a mapped file's
 * pages past its end would raise SIGBUS): the bytes copied, up to the
 * first page that cannot be read. */
size_t sa_leak_read_safe(void *dst, uintptr_t src, size_t n);
/* The mappings the program made itself, which valgrind memcheck scans
 * and we do too: readable and writable, anonymous or backed by a file,
 * not special, and not a thread's stack (a mapping holding one of the
 * nsp stack pointers, scanned from there by the caller, or one whose top
 * holds the descriptor of a thread that has exited: see leak/roots.c).
 * tps: the thread pointers of the live threads.  The allocator's own
 * memory inside them is left to the caller (granules and metadata). */
int sa_leak_roots_mappings(const sa_leak_ranges *maps, const uintptr_t *sps, size_t nsp,
                           const uintptr_t *tps, size_t ntp, sa_leak_ranges *out);
/* The mapping containing addr: 1 and *m, else 0. */
int sa_leak_maps_find(const sa_leak_ranges *maps, uintptr_t addr, sa_leak_range *m);
/* The static TLS block and thread descriptor around thread pointer tp,
 * clamped to tp's mapping: 1 and *r, else 0. */
int sa_leak_tls_range(const sa_leak_ranges *maps, uintptr_t tp, sa_leak_range *r);
/* The stack of a thread stopped at sp: [sp - red zone, top of its mapping). */
int sa_leak_stack_range(const sa_leak_ranges *maps, uintptr_t sp, sa_leak_range *r);

/* ---- Heuristics (leak/heuristics.c) ---------------------------------- */

/* Which heuristic of mask, if any, makes ptr (inside the block [start,
 * start + size), not at its start) count as a pointer to the block:
 * SA_LEAK_HEUR_* + 1, or 0.  maps (sa_leak_maps_read) tells where
 * vtables may be. */
int sa_leak_heur_match(unsigned mask, uintptr_t start, uint64_t size, uintptr_t ptr,
                       const sa_leak_ranges *maps);

#endif
