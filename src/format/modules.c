/* format/modules.c - the snapshot's module table: every loaded object
 * (dl_iterate_phdr, with its PT_NOTE build-id and its PT_LOAD segments),
 * the history of objects unloaded since (noted before each dlclose, so
 * that frames in them still name them), and the sorted index that maps a
 * frame's absolute address to (module, offset).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>

#include "common/os.h"
#include "format/writer.h"

/* ---- growable arrays -------------------------------------------------- */

int sa_wvec_reserve(wvec *v, size_t need)
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

void sa_wvec_free(wvec *v)
{
    if (v->p)
        sa_os_unmap(v->p, v->cap);
    v->p = NULL;
    v->cap = 0;
}

/* ---- module table ----------------------------------------------------- */

static int add_string(wtable *t, const char *s, size_t n, uint32_t *off)
{
    if (n > UINT32_MAX || t->strings_len > UINT32_MAX - n)
        return -EOVERFLOW;
    int rc = sa_wvec_reserve(&t->strings, t->strings_len + n);
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
    int rc = sa_wvec_reserve(&t->mods, (t->nmods + 1) * sizeof(wmod));
    if (!rc)
        rc = sa_wvec_reserve(&t->segs, (t->nsegs + nload) * sizeof(wseg));
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
        int rc = sa_wvec_reserve(&w->t.mods, (w->t.nmods + 1) * sizeof(wmod));
        if (!rc)
            rc = sa_wvec_reserve(&w->t.segs, (w->t.nsegs + hm[i].nseg) * sizeof(wseg));
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
    int rc = sa_wvec_reserve(&w->ranges, w->t.nsegs * sizeof(wrange));
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

int sa_wmods_collect(wstate *w)
{
    dl_iterate_phdr(phdr_cb, w);
    w->nlive = w->t.nmods;
    if (!w->err)
        dl_iterate_phdr(history_cb, w);
    return w->err ? w->err : build_ranges(w);
}

uint32_t sa_wmods_lookup(const wstate *w, uint64_t addr, uint64_t *offset)
{
    return lookup(w, addr, offset);
}
