/* format/writer.h - the snapshot writer's state, shared by write.c (the
 * file: header, stacks, frames, trailer, the atomic rename) and
 * modules.c (the module table, the history of unloaded objects, the
 * address -> (module, offset) index).  Private to src/format.
 *
 * Nothing here allocates through malloc: every array is a wvec, pages
 * from sa_os_map grown by doubling (the writer runs inside the traced
 * process, possibly with the tracer's locks held by its caller).
 */
#ifndef SA_FORMAT_WRITER_H
#define SA_FORMAT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "format/snapshot.h"

#define W_OUTBUF   (64u * 1024)    /* write(2) granularity */
#define W_PATHMAX  4096u           /* PATH_MAX; paths longer fail cleanly */
#define W_CMDMAX   (64u * 1024)    /* command line cap, documented */
#define W_BUILDID  64u             /* sa_snap_module.build_id */

/* A growable array in mmap'ed memory. */
typedef struct wvec {
    void *p;
    size_t cap;    /* bytes mapped */
} wvec;

/* Make room for need bytes: 0 or -ENOMEM (v unchanged). */
int sa_wvec_reserve(wvec *v, size_t need);
void sa_wvec_free(wvec *v);

typedef struct wmod {
    uint32_t path_off, path_len;   /* into its table's strings */
    uint32_t build_id_len;
    uint8_t build_id[W_BUILDID];
    uint64_t base;                 /* dlpi_addr */
    uint32_t seg_first, nseg;      /* into its table's segs */
    uint32_t flags;                /* SA_SNAP_MODULE_* */
} wmod;

typedef struct wseg {
    uint64_t vaddr, memsz;
    uint32_t flags;
} wseg;

/* Lookup index: absolute [start, end) of a PT_LOAD segment, sorted. */
typedef struct wrange {
    uint64_t start, end;
    uint32_t module;
} wrange;

/* compress.c: zlib, loaded (once) on first use; 0 or -ENOSYS.  Call it
 * where dlopen may allocate: the tracer's start, under its guard. */
int sa_wz_load(void);
/* compress.c: a deflate stream to fd, its memory from sa_os_map. */
typedef struct sa_wz sa_wz;
sa_wz *sa_wz_begin(int fd);                          /* NULL: out of memory */
int sa_wz_write(sa_wz *c, const void *p, size_t n);  /* n <= W_OUTBUF; 0 or -errno */
int sa_wz_finish(sa_wz *c);                          /* ends the stream */
void sa_wz_end(sa_wz *c);                            /* frees it */

typedef struct wout {
    int fd;
    int err;              /* first negative errno */
    uint64_t hash;        /* FNV-1a of every logical byte flushed */
    uint64_t logical;     /* logical bytes flushed */
    size_t len;
    unsigned char *buf;   /* W_OUTBUF bytes */
    sa_wz *z;             /* set: flushed bytes are deflated */
} wout;

/* Modules, their segments and their paths. */
typedef struct wtable {
    wvec mods;    uint32_t nmods;
    wvec segs;    uint32_t nsegs;
    wvec strings; size_t strings_len;
} wtable;

typedef struct wstate {
    int err;
    uint32_t objects_seen;        /* dl_iterate_phdr callbacks so far */
    char *exe;                    /* W_PATHMAX, readlink of /proc/self/exe */
    size_t exe_len;

    wtable t;     /* the loaded modules, then the unloaded ones */
    uint32_t nlive;               /* t's first nlive modules are loaded */
    int history_copied;
    wvec ranges;  /* wrange per segment of a loaded module, sorted by start */
    uint32_t nranges;

    /* Frame dedup: open addressing on the absolute address.  The address
     * -> (module, offset) map is injective for a fixed module table, so
     * deduplicating addresses deduplicates (module, offset) pairs, and
     * each unique address is converted once, at the end. */
    wvec slots;   uint32_t slot_bits;    /* uint32_t: frame index + 1, 0 empty */
    wvec addrs;   uint32_t naddrs;       /* uint64_t per unique frame */

    /* The stack tree: a node is (parent node, frame index), a stack the
     * node of its innermost frame, so stacks share their outer frames.
     * Nodes are numbered in creation order, a parent before its
     * children (the reader relies on it: no cycles).  Open addressing on
     * (parent, frame) as for the frames. */
    wvec nslots;  uint32_t nslot_bits;   /* uint32_t: node index + 1, 0 empty */
    wvec nodes;   uint32_t nnodes;       /* wnode per node */
} wstate;

typedef struct wnode {
    uint32_t parent;   /* node index + 1; 0: an outermost frame */
    uint32_t frame;    /* index into the frame table */
} wnode;

/* modules.c: fill w's module table with the loaded objects and those
 * unloaded since (sa_snapshot_note_modules' history), and build the
 * address index.  Calls dl_iterate_phdr (the loader lock): the caller
 * holds no allocator lock.  0 or a negative errno. */
int sa_wmods_collect(wstate *w);
/* The module of absolute address addr and *offset within it, or
 * SA_SNAP_NO_MODULE (offset = addr). */
uint32_t sa_wmods_lookup(const wstate *w, uint64_t addr, uint64_t *offset);

#endif
