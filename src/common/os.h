/* common/os.h - the platform layer.  common/os.c is the only file that calls mmap,
 * munmap, mremap, madvise or raw write(2); everything above it speaks in
 * sa_os_* terms.  Every function preserves errno unless it says otherwise.
 */
#ifndef SA_OS_H
#define SA_OS_H

#include <stddef.h>
#include <stdint.h>

#define SA_OS_PAGE 4096u

/* n rounded up to a whole number of pages (n + SA_OS_PAGE - 1 must not
 * wrap: callers check sizes near SIZE_MAX first). */
static inline size_t sa_os_page_round(size_t n)
{
    return (n + SA_OS_PAGE - 1) & ~(size_t)(SA_OS_PAGE - 1);
}

/* The calling thread's thread pointer (x86-64: the %fs base, read as the
 * TCB's self pointer at %fs:0, which glibc keeps equal to it): what a
 * thread's static TLS and descriptor are found by. */
static inline uintptr_t sa_os_thread_pointer(void)
{
#if defined(__x86_64__)
    uintptr_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    return tp;
#else
    return (uintptr_t)__builtin_thread_pointer();
#endif
}

/* Map size bytes (a multiple of SA_OS_PAGE) of zeroed read-write memory
 * aligned to align (a power of two >= SA_OS_PAGE).  NULL on failure,
 * with errno = ENOMEM. */
void *sa_os_map(size_t size, size_t align);
void sa_os_unmap(void *p, size_t size);
/* Grow or shrink a mapping in place.  Returns 0, or -1 if the
 * neighbouring range is taken. */
int sa_os_remap_inplace(void *p, size_t old_size, size_t new_size);
/* Move a mapping to a fixed destination (a mapping it replaces). */
void *sa_os_remap_to(void *p, size_t old_size, size_t new_size, void *dest);
/* Tell the kernel the pages are unused (contents are lost, RSS drops). */
void sa_os_discard(void *p, size_t size);
/* Fault in [p, p + size) for writing now, in one system call
 * (MADV_POPULATE_WRITE, Linux 5.14): pages about to be written cost one
 * kernel entry per call instead of one page fault each.  Returns 0, or
 * -1 if the kernel cannot (an older kernel: never asked again). */
int sa_os_populate(void *p, size_t size);
/* Ask for transparent huge pages on [p, p + size) (MADV_HUGEPAGE).
 * Returns 0, or -1 if the kernel has none to give. */
int sa_os_hugepages(void *p, size_t size);

/* write(2) all of buf, retrying on EINTR and short writes.
 * Returns 0 or a negative errno. */
int sa_os_write_all(int fd, const void *buf, size_t len);
/* Read the file at path (a small /proc file) into buf, at most len bytes,
 * retrying on EINTR and short reads.  Returns the bytes read, or -1 if it
 * cannot be opened.  errno is preserved. */
long sa_os_read_file(const char *path, void *buf, size_t len);
/* The process's resident set size in bytes (/proc/self/statm), or 0 if
 * it cannot be read.  No allocation; errno is preserved. */
uint64_t sa_os_rss(void);
/* Remember which file stderr is, for messages printed at exit: programs
 * such as coreutils close fd 2 in an atexit handler, before library
 * destructors run.  sa_os_stderr() returns a descriptor of that file
 * (fd 2 while it still is; else one opened at that moment, close-on-exec,
 * kept for later messages), or 2 if sa_os_keep_stderr was not called.
 * No descriptor is held before then (common/os.c). */
void sa_os_keep_stderr(void);
int sa_os_stderr(void);

/* Call fn(dfd, name, ctx) for each entry of the open directory dfd,
 * "." and ".." included, until fn returns non-zero; read with getdents64
 * (opendir allocates).  Returns that non-zero value, or 0 when the
 * entries are over or cannot be read. */
int sa_os_dir_each(int dfd, int (*fn)(int dfd, const char *name, void *ctx), void *ctx);

/* 64 random bits (from AT_RANDOM/getrandom), for heap secrets. */
uint64_t sa_os_random(void);
/* A coarse monotonic clock in milliseconds (the vDSO: no system call,
 * no allocation). */
uint64_t sa_os_now_ms(void);
/* Print "snapalloc: <msg>\n" on stderr and abort().  Never allocates. */
__attribute__((noreturn, cold)) void sa_os_fatal(const char *msg);
/* operator new failed with no way to throw std::bad_alloc. */
__attribute__((noreturn, cold)) void sa_os_fatal_oom(void);

#endif
