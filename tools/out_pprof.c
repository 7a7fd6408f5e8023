/* out_pprof.c - pprof's profile format (google/pprof proto/profile.proto,
 * tools/profile.proto), gzipped, which `go tool pprof` and pprof read:
 * one sample per distinct stack with its live count and bytes
 * (inuse_objects, inuse_space: the default), period 1 when every block
 * is traced; a sampled snapshot's values are already the estimates (as Go
 * writes its heap profiles), the period is the sampling interval and a
 * comment says that the figures are estimates.  Locations carry the frame's address and its source lines,
 * an inlined chain as several lines of one location, innermost first;
 * mappings are the snapshot's modules with their build ids.  The model
 * has already folded the allocator's own frames (malloc, operator new,
 * libsnapalloc, --wrapper), so the stacks start at the call site as in
 * show.
 *
 * Encoded with protobuf-c (code generated from profile.proto at build
 * time) and compressed with zlib's gzip framing.  Show only: pprof
 * compares two profiles itself (-diff_base), so there is no diff printer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"
#include "report.h"
#include "symbolize.h"
#include "util.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* ---- An id map: (pointer, number) -> id, open addressing ------------- */

typedef struct id_slot {
    const void *p;
    uint64_t x, id;    /* id 0: empty */
} id_slot;

typedef struct id_map {
    id_slot *slots;
    size_t cap, used;
} id_map;

static size_t id_hash(const void *p, uint64_t x, size_t mask)
{
    uint64_t h = ((uint64_t)(uintptr_t)p ^ (x * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    return (size_t)(h >> 17) & mask;
}

static id_slot *id_find(id_map *m, const void *p, uint64_t x)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 256;
        id_slot *ns = sa_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].id) {
                size_t j = id_hash(m->slots[i].p, m->slots[i].x, ncap - 1);
                while (ns[j].id)
                    j = (j + 1) & (ncap - 1);
                ns[j] = m->slots[i];
            }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t j = id_hash(p, x, m->cap - 1);
    while (m->slots[j].id && (m->slots[j].p != p || m->slots[j].x != x))
        j = (j + 1) & (m->cap - 1);
    return &m->slots[j];
}

/* ---- The profile being built ---------------------------------------- */

typedef struct pprof {
    Profile prof;
    const sa_snapshot *snap;
    id_map strings, functions, locations;
    size_t cap_str, cap_sample, cap_loc, cap_fn;
} pprof;

#define GROW(arr, n, cap) \
    do { if ((n) == (cap)) { (cap) = (cap) ? (cap) * 2 : 64; \
             (arr) = sa_xrealloc((arr), (cap), sizeof *(arr)); } } while (0)

/* The string table index of s, an interned string (sa_intern). */
static int64_t str_id(pprof *b, const char *s)
{
    id_slot *e = id_find(&b->strings, s, 0);
    if (!e->id) {
        Profile *p = &b->prof;
        GROW(p->string_table, p->n_string_table, b->cap_str);
        p->string_table[p->n_string_table] = (char *)s;
        e->p = s;
        e->id = ++p->n_string_table;   /* stored +1: 0 marks an empty slot */
        b->strings.used++;
    }
    return (int64_t)(e->id - 1);
}

static int64_t lit_id(pprof *b, const char *s)
{
    return str_id(b, sa_intern(s));
}

static ValueType *value_type(pprof *b, const char *type, const char *unit)
{
    ValueType *v = sa_xcalloc(1, sizeof *v);
    perftools__profiles__value_type__init(v);
    v->type = lit_id(b, type);
    v->unit = lit_id(b, unit);
    return v;
}

/* Mappings: every module of the snapshot, in its order (the program
 * first), id = index + 1.  The snapshot records each module's load bias
 * and PT_LOAD segments, not their file offsets: the first segment maps
 * the file from offset 0, as linkers lay ELF files out. */
static void add_mappings(pprof *b)
{
    const sa_snapshot *s = b->snap;
    Profile *p = &b->prof;
    p->mapping = sa_xcalloc(s->nmodules ? s->nmodules : 1, sizeof *p->mapping);
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const sa_snap_module *mod = &s->modules[i];
        Mapping *m = sa_xcalloc(1, sizeof *m);
        perftools__profiles__mapping__init(m);
        m->id = i + 1;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (uint32_t k = 0; k < mod->nsegments; k++) {
            const sa_snap_segment *g = &mod->segments[k];
            lo = g->vaddr < lo ? g->vaddr : lo;
            hi = g->vaddr + g->memsz > hi ? g->vaddr + g->memsz : hi;
        }
        if (lo <= hi) {
            m->memory_start = mod->base + (lo & ~(uint64_t)4095);
            m->memory_limit = mod->base + ((hi + 4095) & ~(uint64_t)4095);
        }
        m->filename = str_id(b, sa_intern(mod->path));
        char hex[2 * sizeof mod->build_id + 1] = "";
        for (uint32_t k = 0; k < mod->build_id_len && k < sizeof mod->build_id; k++)
            snprintf(hex + 2 * k, 3, "%02x", mod->build_id[k]);
        m->build_id = str_id(b, sa_intern(hex));
        m->has_functions = m->has_filenames = m->has_line_numbers = 1;
        m->has_inline_frames = 1;
        p->mapping[p->n_mapping++] = m;
    }
}

/* The module of a frame (by its recorded path), or -1 outside them. */
static int module_of(const pprof *b, const sa_key_frame *k)
{
    for (uint32_t i = 0; i < b->snap->nmodules; i++)
        if (k->module_path && strcmp(b->snap->modules[i].path, k->module_path) == 0)
            return (int)i;
    return -1;
}

static uint64_t function_id(pprof *b, const sa_key_frame *k)
{
    id_slot *e = id_find(&b->functions, k->function, (uint64_t)(uintptr_t)k->file);
    if (!e->id) {
        Profile *p = &b->prof;
        Function *f = sa_xcalloc(1, sizeof *f);
        perftools__profiles__function__init(f);
        f->id = p->n_function + 1;
        f->name = f->system_name = str_id(b, k->function);
        f->filename = str_id(b, k->file);
        GROW(p->function, p->n_function, b->cap_fn);
        p->function[p->n_function++] = f;
        e->p = k->function;
        e->x = (uint64_t)(uintptr_t)k->file;
        e->id = f->id;
        b->functions.used++;
    }
    return e->id;
}

/* The location of the n frames at k (an inlined chain, innermost first,
 * ending at the frame that holds the address). */
static uint64_t location_id(pprof *b, const sa_key_frame *const *k, uint32_t n)
{
    const sa_key_frame *last = k[n - 1];
    id_slot *e = id_find(&b->locations, last->module_path, last->shown_offset << 8 | n);
    if (e->id)
        return e->id;
    Profile *p = &b->prof;
    Location *l = sa_xcalloc(1, sizeof *l);
    perftools__profiles__location__init(l);
    l->id = p->n_location + 1;
    int mod = module_of(b, last);
    l->mapping_id = mod < 0 ? 0 : (uint64_t)mod + 1;
    l->address = last->shown_offset + (mod < 0 ? 0 : b->snap->modules[mod].base);
    l->line = sa_xcalloc(n, sizeof *l->line);
    for (uint32_t i = 0; i < n; i++) {
        Line *ln = sa_xcalloc(1, sizeof *ln);
        perftools__profiles__line__init(ln);
        ln->function_id = function_id(b, k[i]);
        ln->line = k[i]->line;
        l->line[l->n_line++] = ln;
    }
    GROW(p->location, p->n_location, b->cap_loc);
    p->location[p->n_location++] = l;
    e->p = last->module_path;
    e->x = last->shown_offset << 8 | n;
    e->id = l->id;
    b->locations.used++;
    return l->id;
}

/* One sample: the group's stack as locations, its count and bytes. */
static void add_sample(pprof *b, const sa_group *g)
{
    Sample *s = sa_xcalloc(1, sizeof *s);
    perftools__profiles__sample__init(s);
    s->location_id = sa_xcalloc(g->nkey ? g->nkey : 1, sizeof *s->location_id);
    for (uint32_t i = 0; i < g->nkey;) {
        uint32_t n = 1;
        while (i + n < g->nkey && g->key[i + n - 1]->inlined)
            n++;
        s->location_id[s->n_location_id++] = location_id(b, g->key + i, n);
        i += n;
    }
    s->value = sa_xcalloc(2, sizeof *s->value);
    s->n_value = 2;
    s->value[0] = (int64_t)g->count[0];
    s->value[1] = (int64_t)g->size[0];
    Profile *p = &b->prof;
    GROW(p->sample, p->n_sample, b->cap_sample);
    p->sample[p->n_sample++] = s;
}

static void build(pprof *b, const sa_model *m, const sa_report_src *src)
{
    Profile *p = &b->prof;
    perftools__profiles__profile__init(p);
    b->snap = src->snap;
    lit_id(b, "");   /* string_table[0] must be "" */
    p->n_sample_type = 2;
    p->sample_type = sa_xcalloc(2, sizeof *p->sample_type);
    p->sample_type[0] = value_type(b, "inuse_objects", "count");
    p->sample_type[1] = value_type(b, "inuse_space", "bytes");
    p->default_sample_type = lit_id(b, "inuse_space");
    p->period_type = value_type(b, "space", "bytes");
    uint64_t iv = src->snap->sample_interval;
    p->period = iv ? (int64_t)iv : 1;
    p->time_nanos = src->snap->time_ns;
    p->comment = sa_xcalloc(2, sizeof *p->comment);
    if (src->snap->cmdline && src->snap->cmdline[0])
        p->comment[p->n_comment++] = str_id(b, sa_intern(src->snap->cmdline));
    if (iv) {
        char note[96];
        snprintf(note, sizeof note, "estimated from samples every %" PRIu64 " bytes", iv);
        p->comment[p->n_comment++] = str_id(b, sa_intern(note));
    }
    add_mappings(b);
    for (size_t i = 0; i < m->nshown; i++)
        add_sample(b, m->groups[i]);
}

static void destroy(pprof *b)
{
    Profile *p = &b->prof;
    for (size_t i = 0; i < p->n_sample; i++) {
        free(p->sample[i]->location_id);
        free(p->sample[i]->value);
        free(p->sample[i]);
    }
    for (size_t i = 0; i < p->n_location; i++) {
        for (size_t j = 0; j < p->location[i]->n_line; j++)
            free(p->location[i]->line[j]);
        free(p->location[i]->line);
        free(p->location[i]);
    }
    for (size_t i = 0; i < p->n_function; i++)
        free(p->function[i]);
    for (size_t i = 0; i < p->n_mapping; i++)
        free(p->mapping[i]);
    for (size_t i = 0; i < p->n_sample_type; i++)
        free(p->sample_type[i]);
    free(p->period_type);
    free(p->sample);
    free(p->location);
    free(p->function);
    free(p->mapping);
    free(p->sample_type);
    free(p->comment);
    free(p->string_table);
    free(b->strings.slots);
    free(b->functions.slots);
    free(b->locations.slots);
}

/* buf gzipped onto out; a write error shows in ferror(out). */
static void write_gzip(FILE *out, const uint8_t *buf, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: the gzip framing, which pprof expects. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        sa_oom();
    uLong bound = deflateBound(&z, (uLong)len);
    uint8_t *gz = sa_xcalloc(bound, 1);
    z.next_in = (Bytef *)buf;
    z.avail_in = (uInt)len;
    z.next_out = gz;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        sa_oom();
    fwrite(gz, 1, z.total_out, out);
    deflateEnd(&z);
    free(gz);
}

static void pprof_show(FILE *out, const sa_model *m, const sa_report_src *src)
{
    pprof b;
    memset(&b, 0, sizeof b);
    build(&b, m, src);
    size_t len = protobuf_c_message_get_packed_size(&b.prof.base);
    uint8_t *buf = sa_xcalloc(len ? len : 1, 1);
    protobuf_c_message_pack(&b.prof.base, buf);
    write_gzip(out, buf, len);
    free(buf);
    destroy(&b);
}

const sa_output_format sa_out_pprof = {
    .name = "pprof",
    .whole_stacks = 1,
    .line_frames = 1,
    .binary = 1,
    .show = pprof_show,
    .diff = NULL,
};
