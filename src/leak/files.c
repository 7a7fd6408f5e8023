/* leak/files.c - where the check's files go and what they are: the
 * check directory (SNAPALLOC_CHECK_DIR, else a private one in $TMPDIR,
 * taken over after an exec, removed after the standalone verdict), the
 * paths "DIR/PID.SUFFIX" in it, and the class snapshot files with the
 * PID.done marker written last (sa_leak_write).
 */
#include "leak/check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config_parse.h"
#include "common/fmt.h"
#include "common/os.h"
#include "format/snapshot.h"
#include "snapalloc.h"
#include "trace/config.h"
#include "trace/stack.h"

/* ---- The files ---------------------------------------------------------- */

static const char *const class_names[SA_LEAK_NCLASSES] = {
    NULL, "definite", "indirect", "possible", "reachable",
};

int sa_leak_path(char *dst, const char *dir, const char *suffix)
{
    char pid[21];
    sa_fmt_u64(pid, (uint64_t)getpid());
    size_t n = 0;
    const char *parts[] = { dir, "/", pid, ".", suffix };
    for (unsigned i = 0; i < 5; i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= SA_PATH_MAX)
            return -1;
        memcpy(dst + n, parts[i], l);
        n += l;
    }
    dst[n] = '\0';
    return 0;
}

typedef struct class_iter {
    const sa_leak_result *r;
    size_t i;
    uint32_t cls;
} class_iter;

static int class_next(void *ctx, sa_snap_wstack *out)
{
    class_iter *it = ctx;
    while (it->i < it->r->nentries) {
        const sa_leak_entry *e = &it->r->entries[it->i++];
        if (e->cls != it->cls)
            continue;
        sa_stack *s = e->stack ? sa_stack_get(e->stack) : NULL;
        out->nframes = s ? s->nframes : 0;
        out->frames = s ? s->frames : NULL;
        out->size = e->size;
        out->count = e->count;
        return 1;
    }
    return 0;
}

/* An existing PID.done that is an empty regular file of ours. */
static int done_is_ours(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
           st.st_size == 0;
}

int sa_leak_write(const char *dir, const sa_leak_result *r)
{
    char path[SA_PATH_MAX];
    size_t cur = 0, peak = 0;
    snapalloc_get_traced_memory(&cur, &peak);
    int rc = 0;
    /* The four classes, then "heuristic-NAME.snap" for each heuristic
     * that reached a block (the analyzer's "reachable via heuristic"). */
    for (uint32_t c = SA_LEAK_DEFINITE; c < SA_LEAK_HEUR_CLASS + SA_LEAK_NHEUR; c++) {
        char suffix[64];
        if (c >= SA_LEAK_HEUR_CLASS && !r->heur_blocks[c - SA_LEAK_HEUR_CLASS])
            continue;
        const char *name = c < SA_LEAK_HEUR_CLASS ? class_names[c]
                                                  : sa_leak_heur_names[c - SA_LEAK_HEUR_CLASS];
        size_t l = 0;
        if (c >= SA_LEAK_HEUR_CLASS) {
            memcpy(suffix, "heuristic-", 10);
            l = 10;
        }
        memcpy(suffix + l, name, strlen(name));
        l += strlen(name);
        memcpy(suffix + l, ".snap", 6);
        if (sa_leak_path(path, dir, suffix) != 0)
            return -ENAMETOOLONG;
        sa_snap_winfo info = {
            .frame_limit = (uint32_t)snapalloc_get_traceback_limit(),
            .traced_current = cur,
            .traced_peak = peak,
            .trigger = SA_SNAP_TRIGGER_LEAK,
            .sequence = c,
        };
        class_iter it = { r, 0, c };
        int w = sa_snapshot_write(path, &info, class_next, &it);
        if (w < 0) {
            sa_trigger_report(path, w);
            rc = w;
        }
    }
    if (rc)
        return rc;   /* no .done: the set is incomplete */
    /* The marker is empty: created new (O_EXCL), it appears whole.  A
     * FIFO or anything else planted at its path is never opened. */
    if (sa_leak_path(path, dir, "done") != 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    int err = fd < 0 ? errno : close(fd) != 0 ? errno : 0;
    if (err == EEXIST && done_is_ours(path))
        return 0;   /* a stale marker of an earlier process with our pid */
    if (err) {
        rc = -err;
        sa_trigger_report(path, rc);
    }
    return rc;
}

/* ---- The directory ------------------------------------------------------ */

static char private_dir[SA_PATH_MAX];
static pid_t private_pid;

/* Why the leak check of this process cannot run; printed once. */
static void dir_failed(const char *where, int err)
{
    static int said;
    if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        return;
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: leak check: cannot create a directory in ");
    sa_buf_str(&b, where);
    sa_buf_str(&b, ": ");
    const char *why = sa_config_errno_text(err);
    sa_buf_str(&b, why ? why : "error");
    sa_buf_str(&b, "; the program is not checked\n");
    sa_buf_flush(&b);
}

typedef struct own_dir_search {
    const char *base, *prefix;
    size_t blen, plen;
    char *out;
} own_dir_search;

/* One entry of base: "PREFIX" and 6 characters, a directory of ours. */
static int own_dir_entry(int dfd, const char *name, void *ctx)
{
    own_dir_search *s = ctx;
    struct stat st;
    if (strncmp(name, s->prefix, s->plen) != 0 || strlen(name) != s->plen + 6 ||
        s->blen + 1 + s->plen + 7 > SA_PATH_MAX ||
        fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid())
        return 0;
    memcpy(s->out, s->base, s->blen);
    s->out[s->blen] = '/';
    memcpy(s->out + s->blen + 1, name, s->plen + 7);
    return 1;
}

/* A directory "snapalloc-check.PID.XXXXXX" of ours in base that an earlier
 * image of this process (before an exec) made: its path into out, 1; else
 * 0. */
static int find_own_dir(const char *base, const char *prefix, char *out)
{
    int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    own_dir_search s = { base, prefix, strlen(base), strlen(prefix), out };
    int found = sa_os_dir_each(dfd, own_dir_entry, &s);
    close(dfd);
    return found;
}

/* The directory of this process's files, created on first use in
 * standalone mode (again in a fork child: it gets its own) in $TMPDIR,
 * else /tmp.  Its name carries the pid, so that after an exec the new
 * image takes over the directory the old one made (for a baseline) rather
 * than leaving it behind; the old image's baseline is not the new one's
 * and is removed. */
const char *sa_leak_check_dir(void)
{
    if (sa_leak_cfg.dir_given)
        return sa_leak_cfg.dir;
    pid_t me = getpid();
    if (private_pid == me)
        return private_dir;
    const char *base = secure_getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char prefix[48] = "snapalloc-check.";
    size_t p = strlen(prefix);
    p += sa_fmt_u64(prefix + p, (uint64_t)me);
    prefix[p++] = '.';
    prefix[p] = '\0';
    size_t l = strlen(base);
    if (l + 1 + p + 7 > sizeof private_dir) {
        dir_failed(base, ENAMETOOLONG);
        return NULL;
    }
    if (find_own_dir(base, prefix, private_dir)) {
        char stale[SA_PATH_MAX];
        if (sa_leak_path(stale, private_dir, "baseline.snap") == 0)
            unlink(stale);
        private_pid = me;
        return private_dir;
    }
    memcpy(private_dir, base, l);
    private_dir[l] = '/';
    memcpy(private_dir + l + 1, prefix, p);
    memcpy(private_dir + l + 1 + p, "XXXXXX", 7);
    if (!mkdtemp(private_dir)) {
        dir_failed(base, errno);
        return NULL;
    }
    private_pid = me;
    return private_dir;
}

static int remove_entry(int dfd, const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
        unlinkat(dfd, name, 0);
    return 0;
}

void sa_leak_remove_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        sa_os_dir_each(dfd, remove_entry, NULL);
        close(dfd);
    }
    rmdir(dir);
}
