/* common/os.c - the only file that talks to the kernel about memory.
 *
 * Alignment: the kernel hands out page-aligned mappings; for larger
 * alignments we map size + align and unmap the misaligned head and tail
 * (both are at most align bytes, so the waste is address space, not RSS).
 */
#include "common/os.h"

#include "common/fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *sa_os_map(size_t size, size_t align)
{
    int saved = errno;
    if (align < SA_OS_PAGE)
        align = SA_OS_PAGE;
    if (size > SIZE_MAX - align) {
        errno = ENOMEM;
        return NULL;
    }
    size_t span = align == SA_OS_PAGE ? size : size + align;
    /* Mapped accountable (no MAP_NORESERVE), as glibc maps: the kernel's
     * overcommit policy then refuses what it would refuse glibc
     * (malloc(2^46) fails with ENOMEM under the default heuristic, where
     * MAP_NORESERVE let it succeed). */
    void *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t start = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)raw;
    size_t tail = span - head - size;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap((char *)start + size, tail);
    errno = saved;
    return (void *)start;
}

void sa_os_unmap(void *p, size_t size)
{
    int saved = errno;
    munmap(p, size);
    errno = saved;
}

int sa_os_remap_inplace(void *p, size_t old_size, size_t new_size)
{
    int saved = errno;
    void *q = mremap(p, old_size, new_size, 0);
    errno = saved;
    return q == MAP_FAILED ? -1 : 0;
}

void *sa_os_remap_to(void *p, size_t old_size, size_t new_size, void *dest)
{
    int saved = errno;
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
    errno = saved;
    return q == MAP_FAILED ? NULL : q;
}

void sa_os_discard(void *p, size_t size)
{
    int saved = errno;
    madvise(p, size, MADV_DONTNEED);
    errno = saved;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int sa_os_populate(void *p, size_t size)
{
    static int unsupported;
    if (size == 0)
        return 0;
    if (__atomic_load_n(&unsupported, __ATOMIC_RELAXED))
        return -1;
    int saved = errno;
    int r = madvise(p, size, MADV_POPULATE_WRITE);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS))
        __atomic_store_n(&unsupported, 1, __ATOMIC_RELAXED);
    errno = saved;
    return r == 0 ? 0 : -1;
}

int sa_os_hugepages(void *p, size_t size)
{
    int saved = errno;
    int r = madvise(p, size, MADV_HUGEPAGE);
    errno = saved;
    return r == 0 ? 0 : -1;
}

int sa_os_write_all(int fd, const void *buf, size_t len)
{
    int saved = errno;
    const char *s = buf;
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            errno = saved;
            return -err;
        }
        s += n;
        len -= (size_t)n;
    }
    errno = saved;
    return 0;
}

uint64_t sa_os_rss(void)
{
    /* "size resident shared ...", in pages: the second field. */
    char buf[128];
    long n = sa_os_read_file("/proc/self/statm", buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    if (!*p)
        return 0;
    uint64_t pages = 0;
    for (p++; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (uint64_t)(*p - '0');
    return pages * SA_OS_PAGE;
}

long sa_os_read_file(const char *path, void *buf, size_t len)
{
    int saved = errno;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    errno = saved;
    return (long)got;
}

/* The program's stderr for messages printed at exit, without holding a
 * descriptor: a copy kept open for the program's whole life is one the
 * program sees (in /proc/self/fd, to a closerange, as the number its
 * 100th open gets...).  So only the file's identity and name are kept,
 * and at report time the message goes to fd 2 if it is still that file,
 * else to another of the program's descriptors that is (fd 1: a program
 * that closed stderr and not stdout on the same pipe), else to the file
 * opened again by name, else to the parent's fd 2 if it is that file (a
 * pipe, which has no name): only ever to the file stderr was at start. */
static struct {
    int known;
    dev_t dev;
    ino_t ino;
    char name[4096];   /* readlink of /proc/self/fd/2; "" if none */
} start_stderr;
static int reopened_stderr = -1;

void sa_os_keep_stderr(void)
{
    int saved = errno;
    struct stat st;
    if (!start_stderr.known && fstat(2, &st) == 0) {
        start_stderr.dev = st.st_dev;
        start_stderr.ino = st.st_ino;
        ssize_t n = readlink("/proc/self/fd/2", start_stderr.name, sizeof start_stderr.name - 1);
        start_stderr.name[n > 0 ? n : 0] = '\0';
        start_stderr.known = 1;
    }
    errno = saved;
}

static int is_start_stderr(int fd)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == start_stderr.dev &&
           st.st_ino == start_stderr.ino;
}

/* path opened for appending if it is the start stderr, else -1. */
static int reopen(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0 && !is_start_stderr(fd)) {
        close(fd);
        return -1;
    }
    if (fd >= 0)   /* a pipe or tty opened non-blocking only not to hang */
        fcntl(fd, F_SETFL, O_APPEND);
    return fd;
}

static int resolve_stderr(void)
{
    if (start_stderr.name[0] == '/' && (reopened_stderr = reopen(start_stderr.name)) >= 0)
        return reopened_stderr;
    char path[64] = "/proc/";
    sa_fmt_u64(path + strlen(path), (uint64_t)getppid());
    strcat(path, "/fd/2");
    if ((reopened_stderr = reopen(path)) >= 0)
        return reopened_stderr;
    /* Nowhere to report: better lost than written into a program's file. */
    reopened_stderr = open("/dev/null", O_WRONLY | O_CLOEXEC);
    return reopened_stderr;
}

int sa_os_stderr(void)
{
    if (!start_stderr.known)
        return 2;
    if (reopened_stderr >= 0)
        return reopened_stderr;
    int saved = errno;
    int fd = is_start_stderr(2) ? 2 : is_start_stderr(1) ? 1 : resolve_stderr();
    errno = saved;
    return fd;
}

uint64_t sa_os_random(void)
{
    int saved = errno;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* The kernel's per-exec random bytes are always there. */
        const unsigned char *at = (const unsigned char *)getauxval(AT_RANDOM);
        if (at)
            memcpy(&r, at, sizeof r);
        r ^= (uint64_t)(uintptr_t)&r * 0x9e3779b97f4a7c15ull;
    }
    errno = saved;
    return r | 1;
}

void sa_os_fatal(const char *msg)
{
    static const char prefix[] = "snapalloc: ";
    sa_os_write_all(2, prefix, sizeof prefix - 1);
    sa_os_write_all(2, msg, strlen(msg));
    sa_os_write_all(2, "\n", 1);
    abort();
}

void sa_os_fatal_oom(void)
{
    sa_os_fatal("operator new: out of memory and std::bad_alloc cannot be thrown");
}

uint64_t sa_os_now_ms(void)
{
    int saved = errno;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
        ts.tv_sec = ts.tv_nsec = 0;
    errno = saved;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sa_os_dir_each(int dfd, int (*fn)(int dfd, const char *name, void *ctx), void *ctx)
{
    /* struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2),
     * d_type (1), d_name. */
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        for (long off = 0; off < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            off += reclen;
            int r = fn(dfd, name, ctx);
            if (r)
                return r;
        }
    }
}
