/* leak/roots.c - where the leak scan looks for pointers: LeakSanitizer's
 * roots.
 *
 *   globals   writable PT_LOAD segments (.data, .bss, RELRO) of every
 *             module (dl_iterate_phdr), except libsnapalloc.so's own: its
 *             data is the allocator's and the tracer's state, not the
 *             program's.  (When the core is linked into the executable, as
 *             in the unit tests, the executable is scanned whole.)
 *   stacks    each thread's, from its stopped stack pointer minus the
 *             128-byte red zone to the top of the mapping holding it (for
 *             glibc's threads, that covers their static TLS and thread
 *             descriptor, which sit at the top of the stack mapping)
 *   registers each thread's general-purpose registers (leak/world.c)
 *   TLS       each thread's static TLS block, below the thread pointer, and
 *             its thread descriptor above it (pthread_setspecific values,
 *             the DTV pointer), clamped to the mapping of the thread pointer
 *
 *   loader    blocks the dynamic loader allocated itself (the first frame of
 *             their stack is in ld.so): the DTVs and dynamic TLS blocks of
 *             threads, link maps of dlopen'ed objects.  Their pointers live
 *             in the loader's private memory or in the cached stacks of
 *             exited threads, which are not scanned (LeakSanitizer treats
 *             them the same way).
 *
 *   mappings memory the program mapped itself (mmap: anonymous, shared,
 *             or of a file), as valgrind memcheck scans it: an allocator
 *             of the program's own (CPython's pymalloc arenas) keeps its
 *             pointers to malloc'ed blocks there.  Not the allocator's
 *             own memory inside them (leak/scan_roots.c leaves out our
 *             granules and metadata), nor devices or deleted files.
 *
 * Not roots: stacks of threads that have exited (their mappings, which
 * glibc keeps for reuse, hold dead frames and dead TLS), memory below a
 * live thread's stack pointer, and free blocks.
 */
#include "common/fmt.h"
#include "leak/leak.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/os.h"
#include "common/search.h"

/* glibc (ld.so, GLIBC_PRIVATE): the size and alignment of the static TLS
 * area, TCB included.  Weak: another libc may lack it. */
extern void _dl_get_tls_static_info(size_t *size, size_t *align) __attribute__((weak));

/* glibc's struct pthread is 2304 bytes on x86-64 (2.36); a little more
 * covers other versions, and the range is clamped to the mapping. */
#define THREAD_DESCRIPTOR_BYTES 4096
#define RED_ZONE 128

int sa_leak_ranges_add(sa_leak_ranges *v, uintptr_t lo, uintptr_t hi)
{
    if (hi <= lo)
        return 0;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        size_t bytes = sa_os_page_round(cap * sizeof(sa_leak_range));
        sa_leak_range *r = sa_os_map(bytes, SA_OS_PAGE);
        if (!r)
            return -ENOMEM;
        if (v->n)
            memcpy(r, v->r, v->n * sizeof *r);
        if (v->r)
            sa_os_unmap(v->r, v->mapped);
        v->r = r;
        v->cap = bytes / sizeof(sa_leak_range);
        v->mapped = bytes;
    }
    v->r[v->n].lo = lo;
    v->r[v->n].hi = hi;
    v->r[v->n].flags = 0;
    v->n++;
    return 0;
}

void sa_leak_ranges_free(sa_leak_ranges *v)
{
    if (v->r)
        sa_os_unmap(v->r, v->mapped);
    memset(v, 0, sizeof *v);
}

/* ---- Modules ------------------------------------------------------------ */

typedef struct modules_ctx {
    sa_leak_ranges *out;
    sa_leak_range *loader;
    int err;
} modules_ctx;

/* The dynamic loader: the object defining _dl_get_tls_static_info, or
 * else the one named ld-*.so*. */
static int is_loader(const struct dl_phdr_info *info)
{
    uintptr_t f = (uintptr_t)&_dl_get_tls_static_info;
    if (f) {
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            uintptr_t start = info->dlpi_addr + ph->p_vaddr;
            if (ph->p_type == PT_LOAD && f >= start && f < start + ph->p_memsz)
                return 1;
        }
        return 0;
    }
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "ld-", 3) == 0 && strstr(base, ".so") != NULL;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    modules_ctx *c = data;
    uintptr_t me = (uintptr_t)&sa_leak_roots_modules;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= start && me < start + ph->p_memsz)
            mine = 1;
    }
    if (is_loader(info)) {
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
                continue;
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
            if (!c->loader->hi || lo < c->loader->lo)
                c->loader->lo = lo;
            if (hi > c->loader->hi)
                c->loader->hi = hi;
        }
    }
    /* Our own shared object: allocator state, not program data. */
    if (mine && info->dlpi_name && info->dlpi_name[0])
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (sa_leak_ranges_add(c->out, lo, lo + ph->p_memsz) != 0)
            c->err = -ENOMEM;
    }
    return 0;
}

int sa_leak_roots_modules(sa_leak_ranges *out, sa_leak_range *loader)
{
    loader->lo = loader->hi = 0;
    modules_ctx c = { out, loader, 0 };
    dl_iterate_phdr(module_cb, &c);
    return c.err;
}

/* ---- /proc/self/maps ---------------------------------------------------- */

static const char *skip_field(const char *p)
{
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    return p;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Flags of one line "lo-hi perms offset dev inode path"; *hi may be
 * clamped to the end of a mapped file. */
static uint32_t map_flags(const char *p, uintptr_t lo, uintptr_t *hi)
{
    uint32_t f = 0;
    if (p[0] == 'r')
        f |= SA_MAP_R;
    if (p[0] && p[1] == 'w')
        f |= SA_MAP_W;
    if (p[0] && p[1] && p[2] == 'x')
        f |= SA_MAP_X;
    if (p[0] && p[1] && p[2] && p[3] == 's')
        f |= SA_MAP_SHARED;
    p = skip_field(p);
    uint64_t offset = sa_parse_hex(&p);
    p = skip_field(skip_field(skip_field(p)));   /* dev, inode */
    if (*p == '[') {
        if (strncmp(p, "[heap]", 6) != 0 && strncmp(p, "[anon", 5) != 0)
            f |= SA_MAP_SPECIAL;
        return f;
    }
    if (*p != '/')
        return f;   /* anonymous */
    /* Shared anonymous memory and System V segments show as deleted
     * files; other deleted files and devices are not read. */
    if (strncmp(p, "/dev/zero", 9) == 0 || strncmp(p, "/SYSV", 5) == 0)
        return f;
    f |= SA_MAP_FILE;
    /* Devices are never read (their memory may be registers); files,
     * deleted ones too, are read through sa_leak_read_safe, which a page
     * past the file's end cannot crash. */
    if (strncmp(p, "/dev/", 5) == 0 && strncmp(p, "/dev/shm/", 9) != 0)
        return f | SA_MAP_NOSCAN;
    struct stat st;
    if (has_suffix(p, " (deleted)") || stat(p, &st) != 0)
        return f;
    if (!S_ISREG(st.st_mode))
        return f | SA_MAP_NOSCAN;
    uint64_t size = (uint64_t)st.st_size, end = lo;
    if (size > offset)
        end = lo + ((size - offset + SA_OS_PAGE - 1) & ~(uint64_t)(SA_OS_PAGE - 1));
    if (end < *hi)
        *hi = end > lo ? end : lo + 1;   /* keep it listed, nothing readable */
    if (end <= lo)
        f |= SA_MAP_NOSCAN;
    return f;
}

int sa_leak_maps_read(sa_leak_ranges *out)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* Line by line through a stack buffer: "lo-hi perms ...\n". */
    char buf[8192];
    size_t have = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl)
                break;
            *nl = '\0';
            const char *p = buf + start;
            uintptr_t lo = (uintptr_t)sa_parse_hex(&p);
            if (*p == '-') {
                p++;
                uintptr_t hi = (uintptr_t)sa_parse_hex(&p);
                while (*p == ' ')
                    p++;
                uint32_t flags = map_flags(p, lo, &hi);
                if (sa_leak_ranges_add(out, lo, hi) != 0)
                    rc = -ENOMEM;
                else if (out->n && out->r[out->n - 1].lo == lo)
                    out->r[out->n - 1].flags = flags;
            }
            start = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof buf)
            have = 0;   /* a line longer than the buffer: drop it */
    }
    close(fd);
    return rc;
}

/* ---- Mappings of the program's own -------------------------------------- */

size_t sa_leak_read_safe(void *dst, uintptr_t src, size_t n)
{
    struct iovec local = { dst, n }, remote = { (void *)src, n };
    long r = syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L);
    return r > 0 ? (size_t)r : 0;
}

static int holds_any(const sa_leak_range *m, const uintptr_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] >= m->lo && v[i] < m->hi)
            return 1;
    return 0;
}

/* glibc keeps a thread's descriptor (struct pthread, 2304 bytes in 2.36)
 * at the top of its stack mapping, and keeps the mappings of exited
 * threads for reuse.  Their memory is dead, as valgrind sees it: a
 * descriptor is recognised by its TCB header, which points to itself
 * twice (tcb and self, x86-64: words 0 and 2). */
static int dead_thread_stack(const sa_leak_range *m, const uintptr_t *tps, size_t ntp)
{
#if defined(__x86_64__)
    if (m->hi - m->lo < 16384)
        return 0;
    for (uintptr_t a = m->hi - 1024; a >= m->hi - 8192; a -= 64) {
        const uintptr_t *w = (const uintptr_t *)a;
        if (w[0] == a && w[2] == a)
            return !holds_any(&(sa_leak_range){ a, a + 1, 0 }, tps, ntp);
    }
#else
    (void)m;
    (void)tps;
    (void)ntp;
#endif
    return 0;
}

int sa_leak_roots_mappings(const sa_leak_ranges *maps, const uintptr_t *sps, size_t nsp,
                           const uintptr_t *tps, size_t ntp, sa_leak_ranges *out)
{
    for (size_t i = 0; i < maps->n; i++) {
        const sa_leak_range *m = &maps->r[i];
        uint32_t f = m->flags;
        if ((f & (SA_MAP_R | SA_MAP_W)) != (SA_MAP_R | SA_MAP_W) ||
            (f & (SA_MAP_SPECIAL | SA_MAP_NOSCAN)))
            continue;
        if (holds_any(m, sps, nsp) || (!(f & SA_MAP_FILE) && dead_thread_stack(m, tps, ntp)))
            continue;
        if (sa_leak_ranges_add(out, m->lo, m->hi) != 0)
            return -ENOMEM;
        out->r[out->n - 1].flags = f;
    }
    return 0;
}

int sa_leak_maps_find(const sa_leak_ranges *maps, uintptr_t addr, sa_leak_range *m)
{
    /* The kernel lists mappings in address order. */
    size_t lo = sa_search_first_above(maps->r, maps->n, sizeof *maps->r,
                                      offsetof(sa_leak_range, hi), addr);
    if (lo < maps->n && maps->r[lo].lo <= addr && addr < maps->r[lo].hi) {
        /* Never merged with its neighbours: the next one up may be
         * another thread's guard page. */
        *m = maps->r[lo];
        return 1;
    }
    return 0;
}

int sa_leak_tls_range(const sa_leak_ranges *maps, uintptr_t tp, sa_leak_range *r)
{
    sa_leak_range m;
    if (!tp || !sa_leak_maps_find(maps, tp, &m))
        return 0;
    size_t size = 0, align = 0;
    if (_dl_get_tls_static_info)
        _dl_get_tls_static_info(&size, &align);
    uintptr_t lo = tp - size, hi = tp + THREAD_DESCRIPTOR_BYTES;
    if (size > tp || lo < m.lo)
        lo = m.lo;
    if (hi > m.hi || hi < tp)
        hi = m.hi;
    r->lo = lo;
    r->hi = hi;
    return 1;
}

int sa_leak_stack_range(const sa_leak_ranges *maps, uintptr_t sp, sa_leak_range *r)
{
    sa_leak_range m;
    if (!sa_leak_maps_find(maps, sp, &m))
        return 0;
    uintptr_t lo = sp >= m.lo + RED_ZONE ? sp - RED_ZONE : m.lo;
    r->lo = lo;
    r->hi = m.hi;
    return 1;
}
