/* symbolize.c - snapshot frames to function, file:line and module, offline.
 *
 * Each module of the snapshot gets its own Dwfl, reported at bias 0: a
 * snapshot offset is (address - load bias), which is exactly the link-time
 * address in the ELF file for PIE/shared objects and non-PIE executables
 * alike, so no base arithmetic is needed and ASLR never shows.  Separate
 * debug info is found by build-id (/usr/lib/debug/.build-id) through
 * dwfl_standard_find_debuginfo.
 *
 * Every frame is a return address: the call instruction ends just before
 * it, so lookups use offset - 1 (otherwise a call that is the last
 * instruction of an inlined block or of a function would be attributed to
 * the next line or the next function).  The reported offset stays the
 * recorded one.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize.h"
#include "util.h"

/* libstdc++'s demangler; the command links -lstdc++ (the library never
 * does). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* ---- Modules -------------------------------------------------------- */

enum { MOD_UNOPENED, MOD_OK, MOD_FAILED };

typedef struct sym_module {
    int state;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    const char *name;   /* basename */
    const char *path;
    int unloaded;       /* SA_SNAP_MODULE_UNLOADED: still symbolized from its file */
} sym_module;

typedef struct cache_entry {
    int used;
    uint32_t module;
    uint64_t offset;
    uint32_t nframes;
    sa_sym_frame *frames;
} cache_entry;

struct sa_symbolizer {
    const sa_snapshot *snap;
    sym_module *mods;
    cache_entry *cache;
    size_t cache_cap, cache_used;
};

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

/* One warning per module path for the whole command (diff opens the same
 * module for both snapshots). */
static void warn_module(const char *path, const char *why)
{
    static const char **warned;
    static size_t nwarned;
    const char *p = sa_intern(path);
    for (size_t i = 0; i < nwarned; i++)
        if (warned[i] == p)
            return;
    warned = sa_xrealloc(warned, nwarned + 1, sizeof *warned);
    warned[nwarned++] = p;
    fprintf(stderr, "snapalloc: warning: %s: %s; its frames are shown as module+offset\n",
            path, why);
}

static int pseudo_module(const char *path)
{
    /* The vDSO has no file; it never allocates, so stay silent. */
    return path[0] == '[' || strncmp(path, "linux-vdso", 10) == 0 ||
           strncmp(path, "linux-gate", 10) == 0;
}

static void module_open(sym_module *m, const sa_snap_module *sm)
{
    m->state = MOD_FAILED;
    if (pseudo_module(sm->path) || sm->path[0] == '\0')
        return;
    /* A snapshot names any path: a FIFO or a device there must not block
     * or be read without end.  O_NONBLOCK opens a FIFO at once; only a
     * regular file is read. */
    int fd = open(sm->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        char why[256];
        snprintf(why, sizeof why, "cannot open (%s)", strerror(errno));
        warn_module(sm->path, why);
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        warn_module(sm->path, "not a regular file");
        close(fd);
        return;
    }
    m->dwfl = dwfl_begin(&offline_callbacks);
    if (!m->dwfl) {
        close(fd);
        return;
    }
    dwfl_report_begin(m->dwfl);
    /* base 0 with add_p_vaddr: the module's addresses are its link-time
     * addresses, i.e. the snapshot's offsets.  The fd is dwfl's on success. */
    m->mod = dwfl_report_elf(m->dwfl, m->name, sm->path, fd, 0, true);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (!m->mod)
        close(fd);
    if (!m->mod) {
        char why[256];
        snprintf(why, sizeof why, "cannot read ELF (%s)", dwfl_errmsg(-1));
        warn_module(sm->path, why);
        dwfl_end(m->dwfl);
        m->dwfl = NULL;
        return;
    }
    if (sm->build_id_len > 0) {
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int len = dwfl_module_build_id(m->mod, &bits, &vaddr);
        if (len <= 0 || (uint32_t)len != sm->build_id_len ||
            memcmp(bits, sm->build_id, (size_t)len) != 0) {
            warn_module(sm->path, "build-id mismatch (binary changed since the snapshot)");
            dwfl_end(m->dwfl);
            m->dwfl = NULL;
            m->mod = NULL;
            return;
        }
    }
    m->state = MOD_OK;
}

sa_symbolizer *sa_sym_new(const sa_snapshot *snap)
{
    sa_symbolizer *sym = sa_xcalloc(1, sizeof *sym);
    sym->snap = snap;
    sym->mods = sa_xcalloc(snap->nmodules, sizeof *sym->mods);
    for (uint32_t i = 0; i < snap->nmodules; i++) {
        const char *path = snap->modules[i].path ? snap->modules[i].path : "";
        const char *slash = strrchr(path, '/');
        sym->mods[i].path = sa_intern(path);
        sym->mods[i].name = sa_intern(path[0] ? (slash ? slash + 1 : path) : "??");
        sym->mods[i].unloaded = (snap->modules[i].flags & SA_SNAP_MODULE_UNLOADED) != 0;
    }
    return sym;
}

void sa_sym_free(sa_symbolizer *sym)
{
    if (!sym)
        return;
    for (uint32_t i = 0; i < sym->snap->nmodules; i++)
        if (sym->mods[i].dwfl)
            dwfl_end(sym->mods[i].dwfl);
    for (size_t i = 0; i < sym->cache_cap; i++)
        free(sym->cache[i].frames);
    free(sym->cache);
    free(sym->mods);
    free(sym);
}

/* ---- Names ---------------------------------------------------------- */

static const char *demangled(const char *name)
{
    if (!name)
        return NULL;
    if (name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        char *d = __cxa_demangle(name, NULL, NULL, &status);
        if (d && status == 0) {
            const char *r = sa_intern(d);
            free(d);
            return r;
        }
        free(d);
    }
    return sa_intern(name);
}

/* The name of a subprogram or inlined-subroutine DIE: its linkage name
 * demangled (qualified, with parameters, as the symbol table gives it) or
 * else its plain name; attributes are followed through abstract_origin and
 * specification. */
static const char *die_function_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    if (!name)
        name = dwarf_diename(die);
    return name ? demangled(name) : NULL;
}

/* ---- Lookup --------------------------------------------------------- */

static int is_function_scope(Dwarf_Die *die)
{
    int tag = dwarf_tag(die);
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

typedef struct frame_vec {
    sa_sym_frame *v;
    uint32_t n, cap;
} frame_vec;

static void push_frame(frame_vec *fv, const sa_sym_frame *f)
{
    if (fv->n == fv->cap) {
        uint32_t ncap = fv->cap ? fv->cap * 2 : 4;
        fv->v = sa_xrealloc(fv->v, ncap, sizeof *fv->v);
        fv->cap = ncap;
    }
    fv->v[fv->n++] = *f;
}

/* DWARF keeps a source file's name as the compiler saw it: relative to
 * the compilation directory when the build used relative paths (a VPATH
 * build's "../src/x.c").  Join it with DW_AT_comp_dir and fold "." and
 * ".." so that a file has one name however it was built. */
static const char *source_path(const char *src, Dwarf_Die *cudie)
{
    if (!src || src[0] == '/' || !cudie)
        return sa_intern(src ? src : "??");
    Dwarf_Attribute attr;
    const char *dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
    if (!dir || dir[0] != '/')
        return sa_intern(src);
    char joined[4096];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", dir, src) >= sizeof joined)
        return sa_intern(src);
    /* Fold the components in place. */
    char out[4096];
    size_t n = 0;
    for (char *p = joined; *p;) {
        while (*p == '/')
            p++;
        char *end = p;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* skip */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p = end;
    }
    out[n] = '\0';
    return sa_intern(n ? out : "/");
}

/* The first function scope (subprogram or inlined subroutine) among
 * scopes[from..n), into *out; 0 if there is none.  Frees scopes. */
static int first_function_scope(Dwarf_Die *scopes, int from, int n, Dwarf_Die *out)
{
    int have = 0;
    for (int i = from; i < n && !have; i++)
        if (is_function_scope(&scopes[i])) {
            *out = scopes[i];
            have = 1;
        }
    free(scopes);
    return have;
}

/* The name of function scope die: for the real (outermost) function, the
 * ELF symbol names it as the linker and the user know it (malloc, not
 * glibc's internal __GI___libc_malloc DWARF name), unless it is a GCC
 * clone (foo.part.0, foo.cold), where DWARF has the source name. */
static const char *scope_name(Dwarf_Die *die, int inlined, const char *symname)
{
    const char *name = NULL;
    if (!inlined && symname && !strchr(symname, '.'))
        name = demangled(symname);
    if (!name)
        name = die_function_name(die);
    if (!name && !inlined)
        name = demangled(symname);
    return name;
}

/* Where inlined subroutine die was called from: its call_file:call_line,
 * into f's file and line. */
static void call_site(Dwarf_Die *die, Dwarf_Files *files, size_t nfiles, Dwarf_Die *cudie,
                      sa_sym_frame *f)
{
    Dwarf_Attribute attr;
    Dwarf_Word callfile = 0, callline = 0;
    const char *cf = NULL;
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &callfile) == 0 && files &&
        callfile < nfiles)
        cf = dwarf_filesrc(files, callfile, NULL, NULL);
    dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &callline);
    f->file = cf && callline ? source_path(cf, cudie) : sa_intern("??");
    f->line = cf ? (uint32_t)callline : 0;
}

/* Inlined chain: the innermost function scope holds the line-table
 * location (already in *f); each inlined_subroutine's caller is the next
 * function scope that contains it, at the subroutine's
 * call_file:call_line.  dwarf_getscopes continues into the abstract
 * origin after an inlined scope, so the containing concrete scopes come
 * from dwarf_getscopes_die on the subroutine itself (as eu-addr2line
 * does). */
static void push_scopes(Dwarf_Die *cudie, Dwarf_Addr addr, const char *symname,
                        const char *fallback, sa_sym_frame *f, frame_vec *fv)
{
    Dwarf_Die *scopes = NULL;
    int nscopes = dwarf_getscopes(cudie, addr, &scopes);
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
        files = NULL;
    Dwarf_Die cur;
    int have = first_function_scope(scopes, 0, nscopes, &cur);
    for (int depth = 0; have && depth < 64; depth++) {
        int inlined = dwarf_tag(&cur) == DW_TAG_inlined_subroutine;
        const char *name = scope_name(&cur, inlined, symname);
        f->function = name ? name : fallback;
        f->inlined = inlined;
        push_frame(fv, f);
        if (!inlined)
            break;
        call_site(&cur, files, nfiles, cudie, f);
        Dwarf_Die *chain = NULL;
        int nchain = dwarf_getscopes_die(&cur, &chain);
        have = first_function_scope(chain, 1, nchain, &cur);
    }
}

static void symbolize_in_module(sym_module *m, uint64_t offset, frame_vec *fv)
{
    sa_sym_frame f = {
        .file = sa_intern("??"), .line = 0,
        .module = m->name, .module_path = m->path, .offset = offset,
        .unloaded = m->unloaded,
    };
    char buf[512];
    snprintf(buf, sizeof buf, "%s+0x%" PRIx64, m->name, offset);
    const char *fallback = sa_intern(buf);

    if (m->state != MOD_OK || offset == 0) {
        f.function = fallback;
        push_frame(fv, &f);
        return;
    }
    Dwarf_Addr addr = offset - 1;
    const char *symname = dwfl_module_addrname(m->mod, addr);

    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(m->mod, addr, &bias);

    /* Innermost location from the line table. */
    Dwfl_Line *dl = dwfl_module_getsrc(m->mod, addr);
    if (dl) {
        int lineno = 0;
        const char *src = dwfl_lineinfo(dl, NULL, &lineno, NULL, NULL, NULL);
        if (src && lineno > 0) {
            f.file = source_path(src, cudie);
            f.line = (uint32_t)lineno;
        }
    }
    if (cudie)
        push_scopes(cudie, addr - bias, symname, fallback, &f, fv);
    if (fv->n == 0) {
        f.function = symname ? demangled(symname) : fallback;
        f.inlined = 0;
        push_frame(fv, &f);
    }
}

static void cache_grow(sa_symbolizer *sym)
{
    size_t ncap = sym->cache_cap ? sym->cache_cap * 2 : 256;
    cache_entry *nc = sa_xcalloc(ncap, sizeof *nc);
    for (size_t i = 0; i < sym->cache_cap; i++) {
        cache_entry *e = &sym->cache[i];
        if (!e->used)
            continue;
        size_t j = mix64(e->offset ^ ((uint64_t)e->module << 48)) & (ncap - 1);
        while (nc[j].used)
            j = (j + 1) & (ncap - 1);
        nc[j] = *e;
    }
    free(sym->cache);
    sym->cache = nc;
    sym->cache_cap = ncap;
}

uint32_t sa_sym_lookup(sa_symbolizer *sym, const sa_snap_frame *frame,
                       const sa_sym_frame **out)
{
    if ((sym->cache_used + 1) * 2 > sym->cache_cap)
        cache_grow(sym);
    size_t j = mix64(frame->offset ^ ((uint64_t)frame->module << 48)) & (sym->cache_cap - 1);
    for (; sym->cache[j].used; j = (j + 1) & (sym->cache_cap - 1)) {
        cache_entry *e = &sym->cache[j];
        if (e->module == frame->module && e->offset == frame->offset) {
            *out = e->frames;
            return e->nframes;
        }
    }
    frame_vec fv = {0};
    if (frame->module == SA_SNAP_NO_MODULE || frame->module >= sym->snap->nmodules) {
        char buf[64];
        snprintf(buf, sizeof buf, "0x%" PRIx64, frame->offset);
        sa_sym_frame f = {
            .function = sa_intern(buf), .file = sa_intern("??"), .line = 0,
            .module = sa_intern("??"), .module_path = sa_intern("??"),
            .offset = frame->offset,
        };
        push_frame(&fv, &f);
    } else {
        sym_module *m = &sym->mods[frame->module];
        if (m->state == MOD_UNOPENED)
            module_open(m, &sym->snap->modules[frame->module]);
        symbolize_in_module(m, frame->offset, &fv);
    }
    cache_entry *e = &sym->cache[j];
    e->used = 1;
    e->module = frame->module;
    e->offset = frame->offset;
    e->nframes = fv.n;
    e->frames = fv.v;
    sym->cache_used++;
    *out = e->frames;
    return e->nframes;
}

int sa_sym_unsymbolized(const char *function, const char *module)
{
    size_t n = strlen(module);
    return (strncmp(function, module, n) == 0 && strncmp(function + n, "+0x", 3) == 0) ||
           strncmp(function, "0x", 2) == 0;
}

static void *sym_dwfl_open(const sa_snapshot *snap)
{
    return sa_sym_new(snap);
}

static uint32_t sym_dwfl_lookup(void *sym, const sa_snap_frame *frame, const sa_sym_frame **out)
{
    return sa_sym_lookup(sym, frame, out);
}

static void sym_dwfl_close(void *sym)
{
    sa_sym_free(sym);
}

const sa_sym_ops sa_sym_dwfl = {sym_dwfl_open, sym_dwfl_lookup, sym_dwfl_close};
