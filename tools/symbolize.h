/* symbolize.h - offline symbolization of snapshot frames (elfutils libdwfl).
 *
 * A snapshot frame is (module, offset); a symbolizer turns it into one or
 * more symbolic frames: an inlined call chain expands to several, innermost
 * first.  Every string handed out is interned (sa_intern), so two frames from
 * two snapshots have equal fields exactly when the pointers are equal; the
 * grouping code compares pointers and sorts with strcmp.
 */
#ifndef SA_TOOLS_SYMBOLIZE_H
#define SA_TOOLS_SYMBOLIZE_H

#include <stdint.h>
#include "format/snapshot.h"

typedef struct sa_sym_frame {
    const char *function;     /* demangled; "module+0xOFF" without symbols */
    const char *file;         /* source file; "??" when unknown */
    uint32_t line;            /* 0 when unknown */
    const char *module;       /* basename of the module path; "??" outside modules */
    const char *module_path;  /* as recorded in the snapshot */
    uint64_t offset;          /* the snapshot's offset (a return address) */
    int unloaded;             /* the module was dlclose'd before the snapshot */
    int inlined;              /* inlined into the next frame (same offset) */
} sa_sym_frame;

/* The interned copy of s (never freed: the command is short-lived). */
const char *sa_intern(const char *s);

typedef struct sa_symbolizer sa_symbolizer;

/* Modules are opened lazily, on their first frame.  A missing binary or a
 * build-id mismatch is reported once per module on stderr, and that
 * module's frames stay unsymbolized (module+0xOFF). */
sa_symbolizer *sa_sym_new(const sa_snapshot *snap);
void sa_sym_free(sa_symbolizer *sym);

/* Symbolize one frame of snap; *out points into the symbolizer's cache
 * (valid until sa_sym_free).  Returns the number of frames (>= 1). */
uint32_t sa_sym_lookup(sa_symbolizer *sym, const sa_snap_frame *frame,
                       const sa_sym_frame **out);

/* How the grouping model symbolizes (model.h): the calls above behind
 * pointers, so that a unit test can hand the model a stub.  lookup's
 * frames stay valid until close. */
typedef struct sa_sym_ops {
    void *(*open)(const sa_snapshot *snap);
    uint32_t (*lookup)(void *sym, const sa_snap_frame *frame, const sa_sym_frame **out);
    void (*close)(void *sym);
} sa_sym_ops;
extern const sa_sym_ops sa_sym_dwfl;

/* Whether a symbolized function name is the address itself
 * ("module+0xOFF" or "0xADDR": no symbol was found). */
int sa_sym_unsymbolized(const char *function, const char *module);

#endif
