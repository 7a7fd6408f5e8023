/* debug/report.c - debug mode's reports: one per finding, written whole
 * (one write of a buffer) to stderr or SNAPALLOC_DEBUG_FILE, then abort
 * (SNAPALLOC_DEBUG=1) or carry on (=report).  Frames are raw: the address
 * and MODULE+0xOFFSET from the module's load bias (as a snapshot's
 * frames), which `snapalloc run --debug` symbolizes into file:line; a
 * report read directly still names the module and offset for addr2line.
 *
 *   snapalloc: debug: buffer overflow (...)
 *   snapalloc: debug: block 0x5581e0 of 10 bytes, allocated by malloc
 *   snapalloc: debug: first bad byte at offset 10: 0x41 (expected 0xfd)
 *   snapalloc: debug: bytes at offset 0: cd cd ... 41 fd fd
 *   snapalloc: debug: allocated at:
 *   snapalloc: debug:     #0 0x55d5c1a0e1b9 /tmp/prog+0x11b9
 *   snapalloc: debug: freed at: / detected at:
 *   snapalloc: debug: end of report
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/lock.h"
#include "common/os.h"
#include "debug/debug_int.h"
#include "snapalloc.h"
#include "trace/config.h"
#include "trace/stack.h"
#include "trace/unwind.h"

#define PFX "snapalloc: debug: "

static int report_fd = -1;
static void frames(sa_buf *b, const char *title, const uintptr_t *f, unsigned n);
static unsigned long nreports;
static char exe_path[4096];
/* One report at a time, so that two threads' reports do not interleave. */
static sa_lock report_lock = SA_LOCK_INIT;

void sa_debug_report_open(void)
{
    if (report_fd >= 0)
        return;   /* debug mode opened it, guard pages ask again */
    long n = syscall(SYS_readlink, "/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;
    if (sa_debug_cfg.file[0])
        report_fd = (int)syscall(SYS_openat, AT_FDCWD, sa_debug_cfg.file,
                                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (report_fd < 0) {
        if (sa_debug_cfg.file[0])
            sa_warn_setting(sa_os_stderr(), "SNAPALLOC_DEBUG_FILE", sa_debug_cfg.file,
                            "cannot be opened; reports go to stderr");
        report_fd = sa_os_stderr();
    }
}

int sa_debug_report_fd(void)
{
    return report_fd >= 0 ? report_fd : sa_os_stderr();
}

void sa_debug_report_frames(sa_buf *b, const char *title, const uintptr_t *f, unsigned n)
{
    frames(b, title, f, n);
}

unsigned long sa_debug_reports(void)
{
    return __atomic_load_n(&nreports, __ATOMIC_RELAXED);
}

const char *sa_debug_api_name(int api)
{
    static const char *const names[] = {
        "?", "malloc", "operator new", "operator new[]", "operator new(align_val_t)",
        "operator new[](align_val_t)", "?", "?",
        "?", "free()", "operator delete", "operator delete[]",
        "operator delete(align_val_t)", "operator delete[](align_val_t)", "realloc()",
    };
    return api >= 0 && api < (int)(sizeof names / sizeof names[0]) ? names[api] : "?";
}


static void frame_line(sa_buf *b, unsigned i, uintptr_t pc)
{
    sa_buf_str(b, PFX "    #");
    sa_buf_u64(b, i);
    sa_buf_char(b, ' ');
    sa_buf_hex(b, pc);
    Dl_info info;
    struct link_map *lm = NULL;
    if (dladdr1((void *)pc, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
        const char *path = lm->l_name && lm->l_name[0] == '/' ? lm->l_name : exe_path;
        sa_buf_char(b, ' ');
        sa_buf_str(b, path);
        sa_buf_char(b, '+');
        sa_buf_hex(b, pc - lm->l_addr);
    }
    sa_buf_char(b, '\n');
}

static void frames(sa_buf *b, const char *title, const uintptr_t *f, unsigned n)
{
    sa_buf_str(b, PFX);
    sa_buf_str(b, title);
    sa_buf_str(b, n ? ":\n" : ": (no stack)\n");
    for (unsigned i = 0; i < n; i++)
        frame_line(b, i, f[i]);
}

static void stack_of(sa_buf *b, const char *title, uint32_t id)
{
    sa_stack *s = sa_stack_get(id);
    frames(b, title, s ? s->frames : NULL, s ? s->nframes : 0);
}

static void hex_dump(sa_buf *b, const sa_debug_finding *f)
{
    long from = (f->offset & ~7L) - 8, to = from + 24;
    long lo = -16, hi = (long)f->size + SA_DEBUG_TAIL;
    if (from < lo)
        from = lo;
    if (to > hi)
        to = hi;
    sa_buf_str(b, PFX "bytes at offset ");
    sa_buf_i64(b, from);
    sa_buf_str(b, ":");
    for (long i = from; i < to; i++) {
        static const char digits[] = "0123456789abcdef";
        unsigned c = f->user[i];
        sa_buf_char(b, i == f->offset ? '[' : ' ');
        sa_buf_char(b, digits[c >> 4]);
        sa_buf_char(b, digits[c & 15]);
        if (i == f->offset)
            sa_buf_char(b, ']');
    }
    sa_buf_char(b, '\n');
}

static void block_line(sa_buf *b, const sa_debug_finding *f)
{
    sa_buf_str(b, PFX "block ");
    sa_buf_hex(b, (uintptr_t)f->user);
    if (f->size != SIZE_MAX) {
        sa_buf_str(b, " of ");
        sa_buf_u64(b, f->size);
        sa_buf_str(b, " bytes, allocated by ");
        sa_buf_str(b, sa_debug_api_name(f->api));
    }
    if (f->releaser) {
        sa_buf_str(b, ", released by ");
        sa_buf_str(b, f->releaser);
    }
    sa_buf_char(b, '\n');
    if (!f->has_offset)
        return;
    sa_buf_str(b, PFX "first bad byte at offset ");
    sa_buf_i64(b, f->offset);
    sa_buf_str(b, ": ");
    sa_buf_hex(b, f->user[f->offset]);
    sa_buf_char(b, '\n');
    hex_dump(b, f);
}

void sa_debug_report(const sa_debug_finding *f)
{
    uintptr_t here[SNAPALLOC_MAX_FRAMES];
    int nhere = 0;
    int prev = sa_trace_guard_enter();
    if (!f->at_exit && !prev)
        nhere = sa_unwind_capture(here, sa_trace_cfg.depth > 0 ? sa_trace_cfg.depth : SA_DEBUG_FRAMES);
    sa_lock_acquire(&report_lock);
    sa_buf b;
    sa_buf_init(&b, report_fd >= 0 ? report_fd : sa_os_stderr());
    sa_buf_str(&b, PFX);
    sa_buf_str(&b, f->what);
    sa_buf_char(&b, '\n');
    block_line(&b, f);
    if (f->size != SIZE_MAX)
        stack_of(&b, "allocated at", f->alloc_id);
    if (f->free_id)
        stack_of(&b, "freed at", f->free_id);
    if (f->at_exit)
        sa_buf_str(&b, PFX "detected at exit\n");
    else
        frames(&b, "detected at", here, nhere > 0 ? (unsigned)nhere : 0);
    sa_buf_str(&b, PFX "end of report\n");
    sa_buf_flush(&b);
    sa_lock_release(&report_lock);
    sa_trace_guard_leave(prev);
    __atomic_fetch_add(&nreports, 1, __ATOMIC_RELAXED);
    if (sa_debug_cfg.mode == SA_DEBUG_ABORT)
        abort();
}

void sa_debug_report_prefork(void)
{
    sa_lock_acquire(&report_lock);
}

void sa_debug_report_postfork_parent(void)
{
    sa_lock_release(&report_lock);
}

void sa_debug_report_postfork_child(void)
{
    sa_lock_reinit(&report_lock);
}
