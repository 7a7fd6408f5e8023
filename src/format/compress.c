/* format/compress.c - the snapshot writer's deflate stream: the bytes
 * after the container header of a version-3 file go through zlib
 * (doc/snapshot-format.md, "Container").
 *
 * zlib, because the command already links it for gzipped pprof output,
 * every Debian system has libz.so.1, and a snapshot is written once and
 * read a few times: deflate's level 1 shrinks the varint stream another
 * 3-5x at several hundred MB/s, well inside the writer's time budget.
 *
 * The writer runs inside the traced process, so zlib's own buffers (the
 * window and hash chains, about 270 KiB at the level and memLevel used)
 * come from sa_os_map through zalloc/zfree, never from malloc.
 *
 * libsnapalloc does not link zlib: it loads it (RTLD_LOCAL) when tracing
 * starts (sa_wz_load), so a process that never writes a snapshot maps
 * neither its pages nor its relocations: 76 KiB of every untraced
 * process's resident set.
 */
#include "format/writer.h"
#include "common/os.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <zlib.h>

/* The three zlib calls the writer makes, from libz.so.1. */
static struct {
    int (*init)(z_streamp, int, const char *, int);   /* deflateInit_ */
    int (*deflate)(z_streamp, int);
    int (*end)(z_streamp);
} zl;
static pthread_once_t zl_once = PTHREAD_ONCE_INIT;
static int zl_ok;

static void zl_load(void)
{
    void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    *(void **)&zl.init = dlsym(h, "deflateInit_");
    *(void **)&zl.deflate = dlsym(h, "deflate");
    *(void **)&zl.end = dlsym(h, "deflateEnd");
    __atomic_store_n(&zl_ok, zl.init && zl.deflate && zl.end, __ATOMIC_RELEASE);
}

int sa_wz_load(void)
{
    pthread_once(&zl_once, zl_load);
    return __atomic_load_n(&zl_ok, __ATOMIC_ACQUIRE) ? 0 : -ENOSYS;
}

/* Every mapping starts with its own length, so zfree can unmap it. */
#define Z_PREFIX 16u

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    size_t n = (size_t)items * size + Z_PREFIX;
    n = (n + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
    unsigned char *p = sa_os_map(n, SA_OS_PAGE);
    if (!p)
        return Z_NULL;
    memcpy(p, &n, sizeof n);
    return p + Z_PREFIX;
}

static void z_free(voidpf opaque, voidpf address)
{
    (void)opaque;
    if (!address)
        return;
    unsigned char *p = (unsigned char *)address - Z_PREFIX;
    size_t n;
    memcpy(&n, p, sizeof n);
    sa_os_unmap(p, n);
}

struct sa_wz {
    z_stream z;
    int fd;
    unsigned char *out;        /* W_OUTBUF bytes of compressed output */
};

/* Both the state and its output buffer in one mapping. */
#define WZ_MAP (((sizeof(sa_wz) + 63) & ~(size_t)63) + W_OUTBUF)

sa_wz *sa_wz_begin(int fd)
{
    if (sa_wz_load() != 0)
        return NULL;
    size_t n = (WZ_MAP + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
    sa_wz *c = sa_os_map(n, SA_OS_PAGE);
    if (!c)
        return NULL;
    c->fd = fd;
    c->out = (unsigned char *)c + ((sizeof(sa_wz) + 63) & ~(size_t)63);
    c->z.zalloc = z_alloc;
    c->z.zfree = z_free;
    c->z.opaque = Z_NULL;
    /* Level 1: the stream is already compact (varints, shared prefixes);
     * higher levels gain a few percent for twice the time. */
    if (zl.init(&c->z, 1, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK) {
        sa_os_unmap(c, n);
        return NULL;
    }
    return c;
}

/* Run deflate over the pending input with flush, writing every full
 * output buffer.  0 or a negative errno. */
static int pump(sa_wz *c, int flush)
{
    for (;;) {
        c->z.next_out = c->out;
        c->z.avail_out = W_OUTBUF;
        int zr = zl.deflate(&c->z, flush);
        if (zr == Z_STREAM_ERROR)
            return -EIO;
        size_t have = W_OUTBUF - c->z.avail_out;
        if (have) {
            int rc = sa_os_write_all(c->fd, c->out, have);
            if (rc)
                return rc;
        }
        if (flush == Z_FINISH ? zr == Z_STREAM_END : c->z.avail_out != 0)
            return 0;
    }
}

int sa_wz_write(sa_wz *c, const void *p, size_t n)
{
    c->z.next_in = (Bytef *)(uintptr_t)p;
    c->z.avail_in = (uInt)n;       /* n <= W_OUTBUF */
    return pump(c, Z_NO_FLUSH);
}

int sa_wz_finish(sa_wz *c)
{
    c->z.next_in = Z_NULL;
    c->z.avail_in = 0;
    return pump(c, Z_FINISH);
}

void sa_wz_end(sa_wz *c)
{
    if (!c)
        return;
    zl.end(&c->z);
    sa_os_unmap(c, (WZ_MAP + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1));
}
