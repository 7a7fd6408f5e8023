/* trace/libunwind_quiet.c - libunwind without a signal-mask system call
 * per step while the tracer is the one stepping, and without the pipe it
 * would open in the traced program.
 *
 * Debian's libunwind (1.6, built without per-thread caches) takes a lock
 * around its cache of frame states on every unw_step, and blocks all
 * signals for as long as it holds it: two rt_sigprocmask system calls per
 * step, and two more around each dl_iterate_phdr of a cache miss.  While a
 * traced program learns its call sites that is 54k system calls for
 * `python3 -c pass` (1 us each on the machines measured: half the traced
 * start-up cost, and most of what a short-lived program pays for a leak
 * check).
 *
 * The mask is there so that a signal handler on the same thread cannot
 * re-enter libunwind while the thread holds the lock.  When the tracer is
 * the caller, no handler can reach the tracer's libunwind: a handler that
 * allocates finds the tracer's guard set and is not traced, so nothing of
 * ours unwinds.  So libunwind's import of sigprocmask is bound to a
 * function that skips the call while this thread is inside one of the
 * tracer's walks (sa_unw_quiet set) and passes every other call on: the
 * same rewrite of a GOT slot that heaptrack's runtime attach makes.
 *
 * Only when the tracer loaded libunwind itself: a program that has
 * libunwind already may unwind from its own signal handlers (profilers
 * do), and such a handler running inside one of our steps would then wait
 * on a lock its own thread holds.  If the slot cannot be found or written,
 * nothing changes: libunwind only stays slower.
 *
 * The pipe: libunwind (x86-64 Ginit.c, 1.6) opens one with pipe2 when it
 * first initialises, and tests an address it is not sure of (a frame it
 * walks by the frame-pointer chain, lacking unwind tables) by writing one
 * byte from it into the pipe and reading it back.  Those two descriptors
 * are the program's lowest free ones; a program that closes its
 * descriptors and opens files gets them back, and libunwind then reads
 * from the program's file or pipe (hanging on a blocking one), writes
 * stray bytes into it, or, its read failing, closes the program's
 * descriptors and opens a new pipe on them (libunwind issues #274, #291).
 * So its imports of pipe2, read, write and syscall are bound too: pipe2
 * hands out two numbers no descriptor can have, read on the first says
 * "nothing to read" and a write of one byte to the second is answered by
 * a test that needs no descriptor (sa_unw_readable).  Every other call
 * passes through.  These are bound whoever loaded libunwind: they keep
 * its contract (the write fails exactly when the byte is unreadable).
 */
#include <config.h>

#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "common/os.h"
#include "trace/libunwind.h"

SA_TLS int sa_unw_quiet;

static int quiet_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    /* libunwind saves the mask into old and restores it from there in
     * the same call into it: both halves are skipped, old is never read. */
    if (sa_unw_quiet)
        return 0;
    return sigprocmask(how, set, old);
}

/* Descriptor numbers no open file can have: a call that reaches the
 * kernel with one of them only fails with EBADF. */
#define SA_UNW_FAKE_READ  (-1000)
#define SA_UNW_FAKE_WRITE (-1001)

static int quiet_pipe2(int fds[2], int flags)
{
    (void)flags;
    fds[0] = SA_UNW_FAKE_READ;
    fds[1] = SA_UNW_FAKE_WRITE;
    return 0;
}

static ssize_t quiet_read(int fd, void *buf, size_t len)
{
    if (fd != SA_UNW_FAKE_READ)
        return read(fd, buf, len);
    errno = EAGAIN;   /* an empty non-blocking pipe: libunwind goes on */
    return -1;
}

/* 1 if the byte at addr can be read.  rt_sigprocmask copies the new mask
 * in before it looks at `how`: an invalid `how` makes it fail with EFAULT
 * for an unreadable mask and EINVAL otherwise, changing nothing. */
static int sa_unw_readable(const void *addr)
{
    long r = syscall(SYS_rt_sigprocmask, 0x7fff, addr, (void *)0, (long)sizeof(uint64_t));
    return !(r < 0 && errno == EFAULT);
}

/* A write of len bytes from addr to the fake pipe: what the pipe would
 * have said, without it.  libunwind loops while errno is EINTR, even
 * after a success. */
static ssize_t fake_write(const void *addr, size_t len)
{
    int saved = errno;
    int ok = sa_unw_readable(addr);
    errno = ok ? (saved == EINTR ? 0 : saved) : EFAULT;
    return ok ? (ssize_t)(len ? 1 : 0) : -1;
}

static ssize_t quiet_write(int fd, const void *buf, size_t len)
{
    return fd == SA_UNW_FAKE_WRITE ? fake_write(buf, len) : write(fd, buf, len);
}

/* libunwind calls syscall(SYS_write, fd, addr, 1) so that sanitizers do
 * not see the read.  On x86-64 a variadic call passes its integer
 * arguments as a plain one does: glibc's syscall reads the same six. */
static long quiet_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
    if (nr == SYS_write && (int)a == SA_UNW_FAKE_WRITE)
        return fake_write((const void *)b, (size_t)c);
    return syscall(nr, a, b, c, d, e, f);
}

#if defined(__x86_64__)

/* A d_ptr of the dynamic section: glibc relocates them in place on
 * x86-64, other loaders may not. */
static uintptr_t dyn_ptr(const struct link_map *lm, uintptr_t v)
{
    return v < lm->l_addr ? lm->l_addr + v : v;
}

struct relro_query {
    uintptr_t base, slot;
    int found, in_relro;
};

static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct relro_query *q = arg;
    if (info->dlpi_addr != q->base)
        return 0;
    q->found = 1;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_GNU_RELRO)
            continue;
        uintptr_t lo = q->base + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (q->slot >= lo && q->slot < hi)
            q->in_relro = 1;
    }
    return 1;
}

/* The GOT slot through which the object lm calls name, or NULL. */
static void **find_slot(const struct link_map *lm, const char *name)
{
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *tables[2] = {NULL, NULL};
    size_t sizes[2] = {0, 0};
    for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)dyn_ptr(lm, d->d_un.d_ptr); break;
        case DT_STRTAB: strtab = (const char *)dyn_ptr(lm, d->d_un.d_ptr); break;
        case DT_JMPREL: tables[0] = (const ElfW(Rela) *)dyn_ptr(lm, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
        case DT_RELA: tables[1] = (const ElfW(Rela) *)dyn_ptr(lm, d->d_un.d_ptr); break;
        case DT_RELASZ: sizes[1] = d->d_un.d_val; break;
        default: break;
        }
    }
    if (!symtab || !strtab)
        return NULL;
    for (int t = 0; t < 2; t++) {
        if (!tables[t])
            continue;
        for (size_t i = 0; i < sizes[t] / sizeof(ElfW(Rela)); i++) {
            const ElfW(Rela) *r = &tables[t][i];
            unsigned type = (unsigned)ELF64_R_TYPE(r->r_info);
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
                continue;
            const ElfW(Sym) *s = &symtab[ELF64_R_SYM(r->r_info)];
            if (s->st_name && strcmp(strtab + s->st_name, name) == 0)
                return (void **)(lm->l_addr + r->r_offset);
        }
    }
    return NULL;
}

/* Binds lm's import name to fn; 0 on success, -1 if lm has no such
 * import or its slot cannot be written. */
static int rebind(struct link_map *lm, const char *name, void *fn)
{
    void **slot = find_slot(lm, name);
    if (!slot)
        return -1;
    struct relro_query q = {lm->l_addr, (uintptr_t)slot, 0, 0};
    dl_iterate_phdr(find_relro, &q);
    if (!q.found)
        return -1;
    uintptr_t page = (uintptr_t)slot & ~(uintptr_t)(SA_OS_PAGE - 1);
    if (q.in_relro && mprotect((void *)page, SA_OS_PAGE, PROT_READ | PROT_WRITE) != 0)
        return -1;
    /* One aligned store: a thread calling through the slot meanwhile
     * takes either function, and both are correct for it. */
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    if (q.in_relro)
        mprotect((void *)page, SA_OS_PAGE, PROT_READ);
    return 0;
}

int sa_libunwind_quiet_install(void *handle)
{
    struct link_map *lm = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return -1;
    return rebind(lm, "sigprocmask", (void *)quiet_sigprocmask);
}

int sa_libunwind_nopipe_install(void *handle)
{
    struct link_map *lm = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return -1;
    /* The readers first: a pipe2 bound alone would hand out numbers the
     * real read and write reject, and every address would look invalid. */
    if (rebind(lm, "read", (void *)quiet_read) != 0)
        return -1;
    if (find_slot(lm, "write") && rebind(lm, "write", (void *)quiet_write) != 0)
        return -1;
    if (find_slot(lm, "syscall") && rebind(lm, "syscall", (void *)quiet_syscall) != 0)
        return -1;
    return rebind(lm, "pipe2", (void *)quiet_pipe2);
}

#else

int sa_libunwind_quiet_install(void *handle)
{
    (void)handle;
    return -1;
}

int sa_libunwind_nopipe_install(void *handle)
{
    (void)handle;
    return -1;
}

#endif
