/* format/write.c - writes a snapshot file from inside the traced process.
 *
 * Owns: the module table (dl_iterate_phdr + PT_NOTE build-ids, and the
 * history of objects since unloaded), the address -> (module, offset)
 * conversion, the frame dedup table, the streamed, checksummed output and
 * the tmp-file + rename dance (which never replaces what is not a regular
 * file of ours, see place_file).  The byte
 * layout is specified in doc/snapshot-format.md; keep the two in step.
 *
 * This runs while other threads may allocate, possibly with the tracer's
 * own locks held by the caller, so it never calls malloc or stdio: every
 * buffer comes from sa_os_map and output goes through one mmap'ed buffer
 * to sa_os_write_all.  It does not print either; the caller reports the
 * negative errno it returns.
 *
 * Layout in one picture (all integers little-endian, no padding):
 *
 *     header (64 bytes) | exe | cmdline | modules... |
 *     stacks... | 0xFFFFFFFF | nframes | frames... |
 *     trailer: nstacks, 0, total_size, total_count, "SNAPEND\0", fnv1a64
 *
 * Stacks are streamed as the iterator yields them and refer to frames by
 * index; the frame table (unique addresses seen so far) is only complete
 * at the end, so it follows the stacks.  The counts that are only known at
 * the end (stacks, totals) live in the trailer, so the file is written
 * strictly front to back and the checksum can be computed on the fly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format/snapshot.h"
#include "common/os.h"
#include "common/fmt.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>      /* rename(2), renameat2 only: no FILE, no buffering */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define W_OUTBUF   (64u * 1024)    /* write(2) granularity */
#define W_PATHMAX  4096u           /* PATH_MAX; paths longer fail cleanly */
#define W_CMDMAX   (64u * 1024)    /* command line cap, documented */
#define W_BUILDID  64u             /* sa_snap_module.build_id */

/* ---- growable arrays in mmap'ed memory ------------------------------- */

typedef struct wvec {
    void *p;
    size_t cap;    /* bytes mapped */
} wvec;

static int wvec_reserve(wvec *v, size_t need)
{
    if (need <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 16 * SA_OS_PAGE;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    void *q = sa_os_map(cap, SA_OS_PAGE);
    if (!q)
        return -ENOMEM;
    if (v->p) {
        memcpy(q, v->p, v->cap);
        sa_os_unmap(v->p, v->cap);
    }
    v->p = q;
    v->cap = cap;
    return 0;
}

static void wvec_free(wvec *v)
{
    if (v->p)
        sa_os_unmap(v->p, v->cap);
    v->p = NULL;
    v->cap = 0;
}

/* ---- state ------------------------------------------------------------ */

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

typedef struct wout {
    int fd;
    int err;              /* first negative errno */
    uint64_t hash;        /* FNV-1a of everything flushed */
    size_t len;
    unsigned char *buf;   /* W_OUTBUF bytes */
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
} wstate;

/* ---- output ----------------------------------------------------------- */

static void out_flush(wout *o)
{
    if (o->len && !o->err) {
        uint64_t h = o->hash;
        for (size_t i = 0; i < o->len; i++)
            h = (h ^ o->buf[i]) * SA_SNAP_FNV_PRIME;
        o->hash = h;
        o->err = sa_os_write_all(o->fd, o->buf, o->len);
    }
    o->len = 0;
}

static void out_bytes(wout *o, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n) {
        if (o->len == W_OUTBUF)
            out_flush(o);
        size_t k = W_OUTBUF - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void out_u32(wout *o, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    out_bytes(o, b, 4);
}

static void out_u64(wout *o, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    out_bytes(o, b, 8);
}

/* ---- module table ----------------------------------------------------- */

static int add_string(wtable *t, const char *s, size_t n, uint32_t *off)
{
    if (n > UINT32_MAX || t->strings_len > UINT32_MAX - n)
        return -EOVERFLOW;
    int rc = wvec_reserve(&t->strings, t->strings_len + n);
    if (rc)
        return rc;
    memcpy((char *)t->strings.p + t->strings_len, s, n);
    *off = (uint32_t)t->strings_len;
    t->strings_len += n;
    return 0;
}

/* Is [vaddr, vaddr + size) inside the file-backed part of a PT_LOAD
 * segment, i.e. mapped and readable without faulting? */
static int note_is_mapped(const struct dl_phdr_info *info, uint64_t vaddr, uint64_t size)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && vaddr >= ph->p_vaddr &&
            size <= ph->p_filesz && vaddr - ph->p_vaddr <= ph->p_filesz - size)
            return 1;
    }
    return 0;
}

/* Find the NT_GNU_BUILD_ID note in the object's PT_NOTE segments. */
static void find_build_id(const struct dl_phdr_info *info, wmod *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || !note_is_mapped(info, ph->p_vaddr, ph->p_memsz))
            continue;
        /* Notes are 4-byte aligned, except in segments aligned to 8
         * (.note.gnu.property), whose name and desc pad to 8. */
        size_t align = ph->p_align == 8 ? 8 : 4;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t left = ph->p_memsz;
        while (left >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) nh;
            memcpy(&nh, p, sizeof nh);
            size_t off = sizeof nh;
            size_t namesz = ((size_t)nh.n_namesz + align - 1) & ~(align - 1);
            size_t descsz = ((size_t)nh.n_descsz + align - 1) & ~(align - 1);
            if (namesz > left - off)
                break;
            const unsigned char *name = p + off;
            off += namesz;
            if (nh.n_descsz > left - off)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0 && nh.n_descsz > 0 &&
                nh.n_descsz <= W_BUILDID) {
                memcpy(m->build_id, p + off, nh.n_descsz);
                m->build_id_len = nh.n_descsz;
                return;
            }
            off = descsz > left - off ? left : off + descsz;
            p += off;
            left -= off;
        }
    }
}

static uint32_t count_loads(const struct dl_phdr_info *info)
{
    uint32_t nload = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        nload += info->dlpi_phdr[i].p_type == PT_LOAD;
    return nload;
}

/* Append the object (nload PT_LOAD segments) to t under the given path. */
static int table_add(wtable *t, const struct dl_phdr_info *info, uint32_t nload,
                     const char *name, size_t namelen)
{
    int rc = wvec_reserve(&t->mods, (t->nmods + 1) * sizeof(wmod));
    if (!rc)
        rc = wvec_reserve(&t->segs, (t->nsegs + nload) * sizeof(wseg));
    wmod *m = rc ? NULL : (wmod *)t->mods.p + t->nmods;
    if (m) {
        memset(m, 0, sizeof *m);
        rc = add_string(t, name, namelen, &m->path_off);
    }
    if (rc)
        return rc;
    m->path_len = (uint32_t)namelen;
    m->base = info->dlpi_addr;
    m->seg_first = t->nsegs;
    find_build_id(info, m);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        wseg *s = (wseg *)t->segs.p + t->nsegs++;
        s->vaddr = ph->p_vaddr;
        s->memsz = ph->p_memsz;
        s->flags = ph->p_flags;
    }
    m->nseg = nload;
    t->nmods++;
    return 0;
}

/* Index of the module of t loaded at base under path, or UINT32_MAX. */
static uint32_t table_find(const wtable *t, uint32_t from, uint32_t to, uint64_t base,
                           const char *path, size_t len)
{
    const wmod *mods = t->mods.p;
    for (uint32_t i = from; i < to; i++)
        if (mods[i].base == base && mods[i].path_len == len &&
            memcmp((const char *)t->strings.p + mods[i].path_off, path, len) == 0)
            return i;
    return UINT32_MAX;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    wstate *w = data;
    uint32_t nth = w->objects_seen++;
    uint32_t nload = count_loads(info);
    if (nload == 0)
        return 0;
    /* The main program comes first with an empty name; an unnamed object
     * later on is the vDSO on kernels/loaders that leave its name empty. */
    const char *name = info->dlpi_name;
    size_t namelen;
    if (name && *name) {
        namelen = strlen(name);
    } else if (nth == 0) {
        name = w->exe;
        namelen = w->exe_len;
    } else {
        name = "[vdso]";
        namelen = 6;
    }
    int rc = table_add(&w->t, info, nload, name, namelen);
    if (rc) {
        w->err = rc;
        return 1;
    }
    return 0;
}

/* ---- modules unloaded before the snapshot -----------------------------
 *
 * A stack captured while a dlopen'ed object was loaded keeps its return
 * addresses after dlclose unmaps it; to symbolize them the snapshot needs
 * that object's path, build-id and segments.  libsnapalloc's dlclose
 * (preload/override_dlclose.c) calls sa_snapshot_note_modules() first, which keeps
 * every named object then loaded in this history (never shrinks, mmap'ed,
 * deduplicated by base and path); the writer adds the history's objects no
 * longer loaded, flagged SA_SNAP_MODULE_UNLOADED.
 *
 * No lock of ours: the history is only touched inside dl_iterate_phdr
 * callbacks, which glibc runs under its loader lock (dl_load_write_lock),
 * so recorders and the writer's copy are serialized, and fork leaves that
 * lock consistent. */
static wtable history;

static int note_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    uint32_t nload = count_loads(info);
    const char *name = info->dlpi_name;
    if (nload == 0 || !name || !*name)
        return 0;   /* the main program and the vDSO stay loaded */
    size_t len = strlen(name);
    if (table_find(&history, 0, history.nmods, info->dlpi_addr, name, len) != UINT32_MAX)
        return 0;
    return table_add(&history, info, nload, name, len) ? 1 : 0;
}

void sa_snapshot_note_modules(void)
{
    int saved_errno = errno;
    dl_iterate_phdr(note_cb, NULL);
    errno = saved_errno;
}

/* Append the history's objects that are not loaded any more (first
 * callback only; the loader lock is held). */
static int history_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    wstate *w = data;
    if (w->history_copied++)
        return 1;
    const wmod *hm = history.mods.p;
    for (uint32_t i = 0; i < history.nmods; i++) {
        const char *path = (const char *)history.strings.p + hm[i].path_off;
        if (table_find(&w->t, 0, w->nlive, hm[i].base, path, hm[i].path_len) != UINT32_MAX)
            continue;
        int rc = wvec_reserve(&w->t.mods, (w->t.nmods + 1) * sizeof(wmod));
        if (!rc)
            rc = wvec_reserve(&w->t.segs, (w->t.nsegs + hm[i].nseg) * sizeof(wseg));
        wmod *m = rc ? NULL : (wmod *)w->t.mods.p + w->t.nmods;
        if (m) {
            *m = hm[i];
            rc = add_string(&w->t, path, hm[i].path_len, &m->path_off);
        }
        if (rc) {
            w->err = rc;
            return 1;
        }
        memcpy((wseg *)w->t.segs.p + w->t.nsegs, (const wseg *)history.segs.p + hm[i].seg_first,
               hm[i].nseg * sizeof(wseg));
        m->seg_first = w->t.nsegs;
        m->flags = SA_SNAP_MODULE_UNLOADED;
        w->t.nsegs += hm[i].nseg;
        w->t.nmods++;
    }
    return 1;
}

/* Build the sorted lookup index over all PT_LOAD segments (shell sort: a
 * few hundred entries, no recursion, no allocation). */
static int build_ranges(wstate *w)
{
    if (w->t.nsegs == 0)
        return 0;
    int rc = wvec_reserve(&w->ranges, w->t.nsegs * sizeof(wrange));
    if (rc)
        return rc;
    wrange *r = w->ranges.p;
    const wmod *mods = w->t.mods.p;
    const wseg *segs = w->t.segs.p;
    uint32_t n = 0;
    for (uint32_t mi = 0; mi < w->nlive; mi++) {
        for (uint32_t k = 0; k < mods[mi].nseg; k++) {
            const wseg *s = &segs[mods[mi].seg_first + k];
            r[n].start = mods[mi].base + s->vaddr;
            r[n].end = r[n].start + s->memsz;
            r[n].module = mi;
            n++;
        }
    }
    w->nranges = n;
    for (uint32_t gap = n / 2; gap > 0; gap /= 2) {
        for (uint32_t i = gap; i < n; i++) {
            wrange t = r[i];
            uint32_t j = i;
            for (; j >= gap && r[j - gap].start > t.start; j -= gap)
                r[j] = r[j - gap];
            r[j] = t;
        }
    }
    return 0;
}

/* The unloaded module whose segment held addr, the most recently
 * recorded first; UINT32_MAX if none.  A linear scan: few objects are
 * unloaded, and only frames outside every loaded module get here. */
static uint32_t lookup_unloaded(const wstate *w, uint64_t addr)
{
    const wmod *mods = w->t.mods.p;
    const wseg *segs = w->t.segs.p;
    for (uint32_t mi = w->t.nmods; mi-- > w->nlive;)
        for (uint32_t k = 0; k < mods[mi].nseg; k++) {
            const wseg *s = &segs[mods[mi].seg_first + k];
            uint64_t start = mods[mi].base + s->vaddr;
            if (addr >= start && addr - start < s->memsz)
                return mi;
        }
    return UINT32_MAX;
}

/* Map an absolute address to (module, offset); SA_SNAP_NO_MODULE keeps
 * the absolute address.  A return address points just after its call,
 * which is still inside the caller's segment.  Loaded modules win over
 * unloaded ones that were at the same address. */
static uint32_t lookup(const wstate *w, uint64_t addr, uint64_t *offset)
{
    const wrange *r = w->ranges.p;
    uint32_t lo = 0, hi = w->nranges;    /* first range with start > addr */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && addr < r[lo - 1].end) {
        uint32_t mi = r[lo - 1].module;
        *offset = addr - ((const wmod *)w->t.mods.p)[mi].base;
        return mi;
    }
    uint32_t mi = lookup_unloaded(w, addr);
    if (mi != UINT32_MAX) {
        *offset = addr - ((const wmod *)w->t.mods.p)[mi].base;
        return mi;
    }
    *offset = addr;
    return SA_SNAP_NO_MODULE;
}

/* ---- frame dedup ------------------------------------------------------ */

static uint32_t slot_of(uint64_t addr, uint32_t bits)
{
    return (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static int grow_slots(wstate *w)
{
    uint32_t bits = w->slot_bits ? w->slot_bits + 1 : 12;
    if (bits > 31)
        return -EOVERFLOW;
    wvec fresh = {0};
    int rc = wvec_reserve(&fresh, ((size_t)1 << bits) * sizeof(uint32_t));
    if (rc)
        return rc;
    uint32_t *slots = fresh.p;           /* zeroed by mmap */
    uint32_t mask = (1u << bits) - 1;
    const uint64_t *addrs = w->addrs.p;
    for (uint32_t i = 0; i < w->naddrs; i++) {
        uint32_t s = slot_of(addrs[i], bits);
        while (slots[s])
            s = (s + 1) & mask;
        slots[s] = i + 1;
    }
    wvec_free(&w->slots);
    w->slots = fresh;
    w->slot_bits = bits;
    return 0;
}

static int intern(wstate *w, uint64_t addr, uint32_t *index)
{
    /* Keep the load factor at or below 1/2. */
    if (w->slot_bits == 0 || w->naddrs >= (1u << (w->slot_bits - 1))) {
        int rc = grow_slots(w);
        if (rc)
            return rc;
    }
    uint32_t *slots = w->slots.p;
    uint32_t mask = (1u << w->slot_bits) - 1;
    uint32_t s = slot_of(addr, w->slot_bits);
    for (; slots[s]; s = (s + 1) & mask) {
        if (((const uint64_t *)w->addrs.p)[slots[s] - 1] == addr) {
            *index = slots[s] - 1;
            return 0;
        }
    }
    int rc = wvec_reserve(&w->addrs, ((size_t)w->naddrs + 1) * sizeof(uint64_t));
    if (rc)
        return rc;
    ((uint64_t *)w->addrs.p)[w->naddrs] = addr;
    slots[s] = w->naddrs + 1;
    *index = w->naddrs++;
    return 0;
}

/* ---- process facts ---------------------------------------------------- */

static size_t read_exe(char *buf)
{
    ssize_t n = readlink("/proc/self/exe", buf, W_PATHMAX);
    return n < 0 || (size_t)n >= W_PATHMAX ? 0 : (size_t)n;
}

/* /proc/self/cmdline with NULs turned into spaces and the trailing NUL
 * dropped, at most W_CMDMAX bytes. */
static size_t read_cmdline(char *buf)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0;
    while (len < W_CMDMAX) {
        ssize_t n = read(fd, buf + len, W_CMDMAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len && buf[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    return len;
}

/* ---- the file --------------------------------------------------------- */

static void write_header(wout *o, const sa_snap_winfo *info, const char *exe,
                         size_t exe_len, const char *cmd, size_t cmd_len,
                         uint32_t nmods)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    out_bytes(o, SA_SNAP_MAGIC, SA_SNAP_MAGIC_LEN);
    out_u32(o, SA_SNAP_VERSION);
    out_u32(o, (uint32_t)getpid());
    out_u64(o, (uint64_t)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
    out_u64(o, info->traced_current);
    out_u64(o, info->traced_peak);
    out_u32(o, info->frame_limit);
    out_u32(o, info->trigger);
    out_u32(o, info->sequence);
    out_u32(o, nmods);
    out_u32(o, (uint32_t)exe_len);
    out_u32(o, (uint32_t)cmd_len);
    out_bytes(o, exe, exe_len);
    out_bytes(o, cmd, cmd_len);
}

static void write_modules(wout *o, const wstate *w)
{
    const wmod *mods = w->t.mods.p;
    const wseg *segs = w->t.segs.p;
    for (uint32_t i = 0; i < w->t.nmods; i++) {
        const wmod *m = &mods[i];
        out_u32(o, m->path_len);
        out_u32(o, m->build_id_len);
        out_u32(o, m->nseg);
        out_u64(o, m->base);
        out_u32(o, m->flags);
        out_bytes(o, (const char *)w->t.strings.p + m->path_off, m->path_len);
        out_bytes(o, m->build_id, m->build_id_len);
        for (uint32_t k = 0; k < m->nseg; k++) {
            const wseg *s = &segs[m->seg_first + k];
            out_u64(o, s->vaddr);
            out_u64(o, s->memsz);
            out_u32(o, s->flags);
        }
    }
}

/* Stream the stacks, then the frame table and the trailer. */
static int write_stacks(wout *o, wstate *w, sa_snap_next_fn next, void *ctx)
{
    uint64_t nstacks = 0, total_size = 0, total_count = 0;
    sa_snap_wstack st;
    while (next && !o->err && next(ctx, &st)) {
        if (st.nframes == SA_SNAP_END_STACKS || nstacks == UINT32_MAX)
            return -EOVERFLOW;
        out_u32(o, st.nframes);
        out_u64(o, st.size);
        out_u64(o, st.count);
        for (uint32_t i = 0; i < st.nframes; i++) {
            uint32_t index;
            int rc = intern(w, (uint64_t)st.frames[i], &index);
            if (rc)
                return rc;
            out_u32(o, index);
        }
        nstacks++;
        total_size += st.size;       /* wraps like the reader's sum */
        total_count += st.count;
    }
    out_u32(o, SA_SNAP_END_STACKS);
    out_u32(o, w->naddrs);
    const uint64_t *addrs = w->addrs.p;
    for (uint32_t i = 0; i < w->naddrs; i++) {
        uint64_t offset;
        uint32_t mi = lookup(w, addrs[i], &offset);
        out_u32(o, mi);
        out_u64(o, offset);
    }
    out_u32(o, (uint32_t)nstacks);
    out_u32(o, 0);
    out_u64(o, total_size);
    out_u64(o, total_count);
    out_bytes(o, SA_SNAP_END_MAGIC, SA_SNAP_MAGIC_LEN);
    out_flush(o);
    if (o->err)
        return o->err;
    /* The checksum covers every byte before it and is not itself hashed. */
    unsigned char sum[8];
    for (int i = 0; i < 8; i++)
        sum[i] = (unsigned char)(o->hash >> (8 * i));
    return sa_os_write_all(o->fd, sum, 8);
}

/* "<path>.tmp.<pid>.<counter>" into tmp (W_PATHMAX bytes). */
static int tmp_name(char *tmp, const char *path, uint32_t counter)
{
    size_t n = strlen(path);
    if (n + 64 >= W_PATHMAX)
        return -ENAMETOOLONG;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.", 5);
    n += 5;
    n += sa_fmt_u64(tmp + n, (uint64_t)getpid());
    tmp[n++] = '.';
    sa_fmt_u64(tmp + n, counter);
    return 0;
}

static uint32_t tmp_counter;

/* Move the finished temp file to path.  A snapshot only ever replaces a
 * regular file owned by our effective user (an earlier snapshot at a fixed
 * path): never a device node (SNAPALLOC_SNAPSHOT=/dev/null as root), a
 * FIFO, a symlink or a directory.  renameat2(RENAME_NOREPLACE) takes a free
 * path atomically; only when something is there (or the file system lacks
 * the flag) is it checked with lstat and replaced by rename, with the race
 * that leaves: a file swapped in between the two calls is replaced. */
static int place_file(const char *tmp, const char *path)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    int err = errno;
    if (err != EEXIST && err != EINVAL && err != ENOSYS)
        return -err;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return -EISDIR;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
            return -EEXIST;
    } else if (errno != ENOENT) {
        return -errno;
    }
    return rename(tmp, path) == 0 ? 0 : -errno;
}

/* Scratch mapping: output buffer, temp path, exe path, command line. */
#define W_SCRATCH (W_OUTBUF + 2 * W_PATHMAX + W_CMDMAX)

int sa_snapshot_write(const char *path, const sa_snap_winfo *info,
                      sa_snap_next_fn next, void *ctx)
{
    int saved_errno = errno;
    if (!path || !*path || !info)
        return -EINVAL;
    unsigned char *scratch = sa_os_map(W_SCRATCH, SA_OS_PAGE);
    if (!scratch)
        return -ENOMEM;
    char *tmp = (char *)scratch + W_OUTBUF;
    char *cmd = tmp + 2 * W_PATHMAX;
    wstate w;
    memset(&w, 0, sizeof w);
    w.exe = tmp + W_PATHMAX;
    w.exe_len = read_exe(w.exe);
    size_t cmd_len = read_cmdline(cmd);
    wout o = {.fd = -1, .err = 0, .hash = SA_SNAP_FNV_OFFSET, .len = 0, .buf = scratch};
    int rc;

    /* dl_iterate_phdr takes the loader lock; the caller holds no
     * allocator lock, so a thread inside dlopen -> malloc cannot deadlock
     * with us. */
    dl_iterate_phdr(phdr_cb, &w);
    w.nlive = w.t.nmods;
    if (!w.err)
        dl_iterate_phdr(history_cb, &w);
    rc = w.err ? w.err : build_ranges(&w);
    if (rc)
        goto out;

    for (int tries = 0;; tries++) {
        rc = tmp_name(tmp, path, __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED));
        if (rc)
            goto out;
        o.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                    0600);
        if (o.fd >= 0)
            break;
        rc = -errno;
        /* EEXIST: a stale temp file of an earlier process with our pid. */
        if (rc != -EEXIST || tries == 8)
            goto out;
    }

    write_header(&o, info, w.exe, w.exe_len, cmd, cmd_len, w.t.nmods);
    write_modules(&o, &w);
    rc = write_stacks(&o, &w, next, ctx);
    /* No fsync: the rename below already guarantees that readers see the
     * old file or the complete new one while the system stays up.  Making
     * it survive a power cut would stall the traced program on a disk
     * flush for every snapshot, which is the wrong trade for diagnostics. */
    if (close(o.fd) != 0 && rc == 0)
        rc = -errno;
    o.fd = -1;
    if (rc == 0)
        rc = place_file(tmp, path);
    if (rc != 0)
        unlink(tmp);

out:
    wvec_free(&w.t.mods);
    wvec_free(&w.t.segs);
    wvec_free(&w.t.strings);
    wvec_free(&w.ranges);
    wvec_free(&w.slots);
    wvec_free(&w.addrs);
    sa_os_unmap(scratch, W_SCRATCH);
    errno = saved_errno;
    return rc;
}
