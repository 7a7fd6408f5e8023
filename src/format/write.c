/* format/write.c - writes a snapshot file from inside the traced process.
 *
 * Owns: the frame dedup table, the streamed, checksummed output and
 * the tmp-file + rename dance (which never replaces what is not a regular
 * file of ours, see place_file); the module table is modules.c's.  The byte
 * layout is specified in doc/snapshot-format.md; keep the two in step.
 *
 * This runs while other threads may allocate, possibly with the tracer's
 * own locks held by the caller, so it never calls malloc or stdio: every
 * buffer comes from sa_os_map and output goes through one mmap'ed buffer
 * to sa_os_write_all.  It does not print either; the caller reports the
 * negative errno it returns.
 *
 * Layout in one picture (version 3; integers little-endian, no padding;
 * v: an unsigned LEB128 varint):
 *
 *     container: "SNAPALZ\0", version, 0 (u32 each), logical length (u64),
 *     then the logical file deflated (zlib format):
 *       header (64 bytes) | exe | cmdline | modules... |
 *       stacks: (v zigzag(node - last node)+1, v size, v count)... v 0 |
 *       tree: v nnodes, (v parent distance, v frame)... |
 *       frames: v nframes, (v module+1, v offset)... |
 *       timeline: u32 npoints, points... | histogram: u32 nbuckets, buckets... |
 *       trailer: nstacks, sample_interval, total_size, total_count,
 *                "SNAPEND\0", fnv1a64
 *
 * Stacks are streamed as the iterator yields them and refer to a node of
 * the stack tree, whose nodes refer to frames by index; the tree and the
 * frame table are only complete at the end, so they follow the stacks.
 * Sharing the outer frames is what makes a file of 100k distinct deep
 * stacks small: each stack adds about one node, not 32 frame indices.  The counts that are only known at
 * the end (stacks, totals) live in the trailer, so the file is written
 * strictly front to back and the checksum can be computed on the fly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format/snapshot.h"
#include "format/writer.h"
#include "common/os.h"
#include "common/fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>      /* rename(2), renameat2 only: no FILE, no buffering */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- output ----------------------------------------------------------- */

static void out_flush(wout *o)
{
    if (o->len && !o->err) {
        uint64_t h = o->hash;
        for (size_t i = 0; i < o->len; i++)
            h = (h ^ o->buf[i]) * SA_SNAP_FNV_PRIME;
        o->hash = h;
        o->logical += o->len;
        o->err = o->z ? sa_wz_write(o->z, o->buf, o->len)
                      : sa_os_write_all(o->fd, o->buf, o->len);
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

/* LEB128: 7 bits a byte, low first, the high bit set on all but the last. */
static void out_varint(wout *o, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    out_bytes(o, b, n);
}

/* ---- open-addressing indexes ------------------------------------------ */

/* The frame dedup (key: the address) and the stack tree (key: parent and
 * frame) are both tables of uint32_t slots holding an item's index + 1
 * (0: empty), probed linearly from the key's hash, at most half full. */
static uint32_t key_slot(uint64_t key, uint32_t bits)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static uint64_t addr_key(const wstate *w, uint32_t i)
{
    return ((const uint64_t *)w->addrs.p)[i];
}

static uint64_t node_key(const wstate *w, uint32_t i)
{
    const wnode *n = &((const wnode *)w->nodes.p)[i];
    return (uint64_t)n->parent << 32 | n->frame;
}

/* Double the table *slots of *bits (4096 slots at first) and re-insert
 * its n items. */
static int grow_index(const wstate *w, wvec *slots_vec, uint32_t *bits_io, uint32_t n,
                      uint64_t (*key)(const wstate *, uint32_t))
{
    uint32_t bits = *bits_io ? *bits_io + 1 : 12;
    if (bits > 31)
        return -EOVERFLOW;
    wvec fresh = {0};
    int rc = sa_wvec_reserve(&fresh, ((size_t)1 << bits) * sizeof(uint32_t));
    if (rc)
        return rc;
    uint32_t *slots = fresh.p;           /* zeroed by mmap */
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = key_slot(key(w, i), bits);
        while (slots[s])
            s = (s + 1) & mask;
        slots[s] = i + 1;
    }
    sa_wvec_free(slots_vec);
    *slots_vec = fresh;
    *bits_io = bits;
    return 0;
}

/* ---- frame dedup ------------------------------------------------------ */

static int intern(wstate *w, uint64_t addr, uint32_t *index)
{
    /* Keep the load factor at or below 1/2. */
    if (w->slot_bits == 0 || w->naddrs >= (1u << (w->slot_bits - 1))) {
        int rc = grow_index(w, &w->slots, &w->slot_bits, w->naddrs, addr_key);
        if (rc)
            return rc;
    }
    uint32_t *slots = w->slots.p;
    uint32_t mask = (1u << w->slot_bits) - 1;
    uint32_t s = key_slot(addr, w->slot_bits);
    for (; slots[s]; s = (s + 1) & mask) {
        if (((const uint64_t *)w->addrs.p)[slots[s] - 1] == addr) {
            *index = slots[s] - 1;
            return 0;
        }
    }
    int rc = sa_wvec_reserve(&w->addrs, ((size_t)w->naddrs + 1) * sizeof(uint64_t));
    if (rc)
        return rc;
    ((uint64_t *)w->addrs.p)[w->naddrs] = addr;
    slots[s] = w->naddrs + 1;
    *index = w->naddrs++;
    return 0;
}

/* ---- the stack tree --------------------------------------------------- */

/* The node (index + 1) of frame under parent (index + 1, or 0), added if new. */
static int node_child(wstate *w, uint32_t parent, uint32_t frame, uint32_t *node)
{
    if (w->nslot_bits == 0 || w->nnodes >= (1u << (w->nslot_bits - 1))) {
        int rc = grow_index(w, &w->nslots, &w->nslot_bits, w->nnodes, node_key);
        if (rc)
            return rc;
    }
    uint32_t *slots = w->nslots.p;
    uint32_t mask = (1u << w->nslot_bits) - 1;
    uint32_t s = key_slot((uint64_t)parent << 32 | frame, w->nslot_bits);
    for (; slots[s]; s = (s + 1) & mask) {
        const wnode *n = &((const wnode *)w->nodes.p)[slots[s] - 1];
        if (n->parent == parent && n->frame == frame) {
            *node = slots[s];
            return 0;
        }
    }
    if (w->nnodes == UINT32_MAX - 1)
        return -EOVERFLOW;
    int rc = sa_wvec_reserve(&w->nodes, ((size_t)w->nnodes + 1) * sizeof(wnode));
    if (rc)
        return rc;
    ((wnode *)w->nodes.p)[w->nnodes] = (wnode){parent, frame};
    slots[s] = ++w->nnodes;
    *node = w->nnodes;
    return 0;
}

/* The node of a stack's innermost frame (index + 1; 0 for no frames),
 * walking in from the outermost. */
static int stack_node(wstate *w, const sa_snap_wstack *st, uint32_t *node)
{
    uint32_t at = 0;
    for (uint32_t i = st->nframes; i-- > 0;) {
        uint32_t frame;
        int rc = intern(w, (uint64_t)st->frames[i], &frame);
        if (rc == 0)
            rc = node_child(w, at, frame, &at);
        if (rc)
            return rc;
    }
    *node = at;
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
    long got = sa_os_read_file("/proc/self/cmdline", buf, W_CMDMAX);
    size_t len = got > 0 ? (size_t)got : 0;
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
    int64_t t = info->time_ns ? info->time_ns : (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    out_bytes(o, SA_SNAP_MAGIC, SA_SNAP_MAGIC_LEN);
    out_u32(o, SA_SNAP_VERSION);
    out_u32(o, (uint32_t)getpid());
    out_u64(o, (uint64_t)t);
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

/* Version 3's sections, after the frame table: the timeline (u32 count,
 * then time, traced, rss per point) and the size histogram (u32 0 or 65,
 * then count and size per bucket).  Each is self-contained: a reader
 * validates it on its own. */
static void write_sections(wout *o, const sa_snap_winfo *info)
{
    uint32_t n = info->timeline ? info->ntimeline : 0;
    out_u32(o, n);
    for (uint32_t i = 0; i < n; i++) {
        out_u64(o, (uint64_t)info->timeline[i].time_ns);
        out_u64(o, info->timeline[i].traced);
        out_u64(o, info->timeline[i].rss);
    }
    int hist = info->hist_count && info->hist_size;
    out_u32(o, hist ? SA_SNAP_HIST_BUCKETS : 0);
    for (uint32_t i = 0; hist && i < SA_SNAP_HIST_BUCKETS; i++) {
        out_u64(o, info->hist_count[i]);
        out_u64(o, info->hist_size[i]);
    }
}

/* Stream the stacks (each its node of the stack tree: index + 1, 0 for
 * no frames, coded as below; then size and count; a 0 ends them), then
 * the tree, the frame table, the sections and the trailer, whose last 8
 * bytes are the checksum of the bytes before. */
static int write_stacks(wout *o, wstate *w, const sa_snap_winfo *info,
                        sa_snap_next_fn next, void *ctx)
{
    uint64_t nstacks = 0, total_size = 0, total_count = 0;
    uint32_t last_node = 0;
    sa_snap_wstack st;
    while (next && !o->err && next(ctx, &st)) {
        if (nstacks == UINT32_MAX)
            return -EOVERFLOW;
        uint32_t node;
        int rc = stack_node(w, &st, &node);
        if (rc)
            return rc;
        /* The node as the zigzag-coded change from the last stack's,
         * plus 1 (0 ends the stacks): a stack that made new nodes names
         * the last one, so consecutive stacks mostly differ by a little. */
        int64_t d = (int64_t)node - (int64_t)last_node;
        last_node = node;
        out_varint(o, ((uint64_t)d << 1 ^ (uint64_t)(d >> 63)) + 1);
        out_varint(o, st.size);
        out_varint(o, st.count);
        nstacks++;
        total_size += st.size;       /* wraps like the reader's sum */
        total_count += st.count;
    }
    out_varint(o, 0);
    out_varint(o, w->nnodes);
    const wnode *nodes = w->nodes.p;
    /* A parent as its distance back (node i's parent is i + 1 - d; d =
     * i + 1 for none): a chain of new frames costs one byte a link. */
    for (uint32_t i = 0; i < w->nnodes; i++) {
        out_varint(o, (uint64_t)i + 1 - nodes[i].parent);
        out_varint(o, nodes[i].frame);
    }
    out_varint(o, w->naddrs);
    const uint64_t *addrs = w->addrs.p;
    for (uint32_t i = 0; i < w->naddrs; i++) {
        uint64_t offset;
        uint32_t mi = sa_wmods_lookup(w, addrs[i], &offset);
        out_varint(o, mi == SA_SNAP_NO_MODULE ? 0 : (uint64_t)mi + 1);
        out_varint(o, offset);
    }
    write_sections(o, info);
    out_u32(o, (uint32_t)nstacks);
    out_u32(o, (uint32_t)info->sample_interval);
    out_u64(o, total_size);
    out_u64(o, total_count);
    out_bytes(o, SA_SNAP_END_MAGIC, SA_SNAP_MAGIC_LEN);
    out_flush(o);
    /* The checksum covers every logical byte before it. */
    uint64_t sum = o->hash;
    out_u64(o, sum);
    out_flush(o);
    return o->err;
}

/* The container: its header raw, then the logical file deflated; the
 * logical length, known at the end, is written into the header last. */
static int write_compressed(wout *o, wstate *w, const sa_snap_winfo *info,
                            const char *cmd, size_t cmd_len, sa_snap_next_fn next, void *ctx)
{
    unsigned char head[SA_SNAPZ_HEADER] = {0};
    memcpy(head, SA_SNAPZ_MAGIC, SA_SNAP_MAGIC_LEN);
    head[8] = (unsigned char)SA_SNAP_VERSION;
    int rc = sa_os_write_all(o->fd, head, sizeof head);
    if (rc)
        return rc;
    o->z = sa_wz_begin(o->fd);
    if (!o->z)
        return -ENOMEM;
    write_header(o, info, w->exe, w->exe_len, cmd, cmd_len, w->t.nmods);
    write_modules(o, w);
    rc = write_stacks(o, w, info, next, ctx);
    if (rc == 0)
        rc = sa_wz_finish(o->z);
    sa_wz_end(o->z);
    o->z = NULL;
    if (rc)
        return rc;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(o->logical >> (8 * i));
    if (pwrite(o->fd, len, 8, 16) != 8)
        return errno ? -errno : -EIO;
    return 0;
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
    wout o = {.fd = -1, .hash = SA_SNAP_FNV_OFFSET, .buf = scratch};
    int rc;

    /* dl_iterate_phdr takes the loader lock; the caller holds no
     * allocator lock, so a thread inside dlopen -> malloc cannot deadlock
     * with us. */
    rc = sa_wmods_collect(&w);
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

    rc = write_compressed(&o, &w, info, cmd, cmd_len, next, ctx);
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
    sa_wvec_free(&w.t.mods);
    sa_wvec_free(&w.t.segs);
    sa_wvec_free(&w.t.strings);
    sa_wvec_free(&w.ranges);
    sa_wvec_free(&w.slots);
    sa_wvec_free(&w.addrs);
    sa_wvec_free(&w.nslots);
    sa_wvec_free(&w.nodes);
    sa_os_unmap(scratch, W_SCRATCH);
    errno = saved_errno;
    return rc;
}
