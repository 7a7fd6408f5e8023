/* format/snapshot.h - the snapshot file: writer (in the traced process) and
 * reader (in the snapalloc command).  The format is documented in
 * doc/snapshot-format.md.
 *
 * Frames are stored module-relative: (module index, offset from the
 * module's load base), so that addresses can be symbolized offline despite
 * ASLR and two runs of the same binary compare equal.
 */
#ifndef SA_SNAPSHOT_H
#define SA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

/* The file's constants, for the writer and the reader alike
 * (doc/snapshot-format.md): one definition, so the two cannot drift. */
#define SA_SNAP_MAGIC       "SNAPALC\0"   /* first 8 bytes */
#define SA_SNAP_END_MAGIC   "SNAPEND\0"   /* the trailer's end marker */
#define SA_SNAP_MAGIC_LEN   8u
#define SA_SNAP_VERSION     3u            /* written; read: 1 to this */
#define SA_SNAPZ_MAGIC      "SNAPALZ\0"   /* a compressed container's first 8 bytes */
#define SA_SNAPZ_HEADER     24u           /* magic, version, 0, logical length */
#define SA_SNAP_VERSION_MIN 1u            /* version 1: modules have no flags */
#define SA_SNAP_END_STACKS  0xFFFFFFFFu   /* ends the stacks (an nframes value) */
#define SA_SNAP_HEADER      64u           /* fixed header bytes */
#define SA_SNAP_TRAILER     40u           /* nstacks, sample_interval, 2 totals, end magic, checksum */
#define SA_SNAP_SAMPLE_MAX  (1u << 30)    /* the largest sampling interval, bytes */
/* The checksum: FNV-1a 64 of every byte before it. */
#define SA_SNAP_FNV_OFFSET  0xcbf29ce484222325ull
#define SA_SNAP_FNV_PRIME   0x100000001b3ull
/* Version 3's sections after the frame table (doc/snapshot-format.md). */
#define SA_SNAP_TIMELINE_MAX 65536u       /* points a reader accepts */
#define SA_SNAP_HIST_BUCKETS 65u          /* bit lengths 0..64 */

#define SA_SNAP_NO_MODULE UINT32_MAX   /* frame outside every known module */
#define SA_SNAP_MODULE_UNLOADED 1u     /* sa_snap_module.flags: dlclose'd before the snapshot */

/* One point of the run's memory over time (the timeline section). */
typedef struct sa_snap_point sa_snap_point;

/* The histogram bucket of a block of size bytes: its bit length (0 for
 * 0; i >= 1 for 2^(i-1) <= size < 2^i). */
static inline unsigned sa_snap_hist_bucket(uint64_t size)
{
    return size ? 64u - (unsigned)__builtin_clzll(size) : 0u;
}

/* ---- Writer (async-signal-unsafe but malloc-free) --------------------- */

/* One interned stack as the tracer hands it to the writer. */
typedef struct sa_snap_wstack {
    uint32_t nframes;
    const uintptr_t *frames;   /* absolute return addresses, innermost first */
    uint64_t size;             /* live requested bytes */
    uint64_t count;            /* live blocks */
} sa_snap_wstack;

typedef struct sa_snap_winfo {
    uint32_t frame_limit;      /* nframe of snapalloc_start */
    uint64_t traced_current;
    uint64_t traced_peak;
    uint32_t trigger;          /* SA_SNAP_TRIGGER_* */
    uint32_t sequence;         /* %n of the template */
    int64_t time_ns;           /* the state's time (CLOCK_REALTIME); 0: now */
    /* Version 3 sections: the memory over time (ntimeline points, oldest
     * first; 0: an empty timeline) and the live blocks by size (NULL: no
     * histogram), SA_SNAP_HIST_BUCKETS each. */
    uint32_t ntimeline;
    const struct sa_snap_point *timeline;
    const uint64_t *hist_count, *hist_size;
    uint64_t sample_interval;  /* mean sampling interval (<= 1 GiB); 0: every block */
} sa_snap_winfo;

enum {
    SA_SNAP_TRIGGER_API = 0, SA_SNAP_TRIGGER_EXIT = 1, SA_SNAP_TRIGGER_SIGNAL = 2,
    SA_SNAP_TRIGGER_INTERVAL = 3, SA_SNAP_TRIGGER_PEAK = 4,
    SA_SNAP_TRIGGER_LEAK = 5,       /* a leak check class; sequence = class */
    SA_SNAP_TRIGGER_BASELINE = 6,   /* the leak check's baseline */
};

/* Iterator over the live stacks: fills *out and returns 1, or returns 0
 * at the end.  Stacks with count 0 may be skipped by the iterator. */
typedef int (*sa_snap_next_fn)(void *ctx, sa_snap_wstack *out);

/* Write a snapshot to path atomically (tmp file + rename, O_EXCL|
 * O_NOFOLLOW|O_CLOEXEC, mode 0600).  Never calls malloc; its buffers come
 * from mmap.  Returns 0 or a negative errno; on failure no file is left
 * under path. */
int sa_snapshot_write(const char *path, const sa_snap_winfo *info,
                      sa_snap_next_fn next, void *ctx);

/* Remember every object loaded now (path, build-id, segments), so that a
 * later snapshot can still place frames in the ones unloaded by then.
 * Called before dlclose; never calls malloc; preserves errno. */
void sa_snapshot_note_modules(void);

/* ---- Reader (used by the snapalloc command; may use malloc) ------------ */

typedef struct sa_snap_segment {
    uint64_t vaddr;            /* p_vaddr of the PT_LOAD segment */
    uint64_t memsz;
    uint32_t flags;            /* p_flags (PF_R/PF_W/PF_X) */
} sa_snap_segment;

typedef struct sa_snap_module {
    char *path;                /* as the loader saw it ("" for the main program is replaced by the exe path) */
    uint8_t build_id[64];
    uint32_t build_id_len;
    uint64_t base;             /* load bias (dlpi_addr) */
    uint32_t flags;            /* SA_SNAP_MODULE_UNLOADED (version 2; 0 in version 1) */
    uint32_t nsegments;
    sa_snap_segment *segments;
} sa_snap_module;

typedef struct sa_snap_frame {
    uint32_t module;           /* index into modules, or SA_SNAP_NO_MODULE */
    uint64_t offset;           /* address - base, or the absolute address */
} sa_snap_frame;

typedef struct sa_snap_stack {
    uint32_t nframes;
    sa_snap_frame *frames;     /* innermost first */
    uint64_t size;
    uint64_t count;
} sa_snap_stack;

/* One point of the run's memory over time (the timeline section). */
struct sa_snap_point {
    int64_t time_ns;           /* CLOCK_REALTIME */
    uint64_t traced;           /* traced current memory */
    uint64_t rss;              /* resident set size */
};

typedef struct sa_snapshot {
    uint32_t version;
    uint32_t pid;
    int64_t time_ns;           /* CLOCK_REALTIME when written */
    char *exe;                 /* executable path */
    char *cmdline;             /* arguments joined by single spaces */
    uint32_t frame_limit;
    uint32_t trigger;
    uint32_t sequence;
    uint64_t traced_current, traced_peak;
    uint64_t total_size, total_count;   /* sums over stacks */
    uint32_t nmodules;
    sa_snap_module *modules;
    uint32_t nstacks;
    sa_snap_stack *stacks;
    /* Sampling: the mean interval in bytes (0: every allocation traced;
     * then size and count are exact, else estimates). */
    uint64_t sample_interval;
    /* Memory over the run so far, oldest first (0 points when absent). */
    uint32_t ntimeline;
    sa_snap_point *timeline;
    /* Live blocks by size, exact: bucket i holds the blocks of requested
     * size s with bit-length(s) == i (bucket 0: size 0; bucket i >= 1:
     * 2^(i-1) <= s < 2^i).  has_histogram 0 when the file has none. */
    int has_histogram;
    uint64_t hist_count[65], hist_size[65];
} sa_snapshot;

/* Read and validate path.  On error returns NULL and writes a one-line
 * reason (no trailing newline, no file name) into err. */
sa_snapshot *sa_snapshot_read(const char *path, char *err, size_t errlen);
/* Same, from a memory buffer (used by the fuzz-style tests). */
sa_snapshot *sa_snapshot_parse(const void *buf, size_t len, char *err, size_t errlen);
void sa_snapshot_free(sa_snapshot *snap);

#endif
