/* trace/libunwind.h - libunwind, loaded when tracing starts.
 *
 * libsnapalloc does not link libunwind.  A program that preloads it only
 * as its allocator would otherwise map libunwind and liblzma at every
 * start (~110 KiB resident, two more objects to relocate, for nothing),
 * and libunwind's _Unwind_* exports would sit in the program's global
 * symbol scope beside libgcc's.  The tracer loads it with dlopen
 * (RTLD_LOCAL: its symbols stay private) when tracing starts, which is in
 * the library's constructor or in snapalloc_start(), never inside a
 * malloc, and calls it through this table.
 */
#ifndef SA_TRACE_LIBUNWIND_H
#define SA_TRACE_LIBUNWIND_H

#include "common/compiler.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

typedef struct sa_libunwind {
    __typeof__(unw_tdep_getcontext) *getcontext;
    __typeof__(unw_init_local) *init_local;
    __typeof__(unw_step) *step;
    __typeof__(unw_get_reg) *get_reg;
    __typeof__(unw_get_save_loc) *get_save_loc;
    __typeof__(unw_is_signal_frame) *is_signal_frame;
    __typeof__(unw_set_caching_policy) *set_caching_policy;
    __typeof__(unw_backtrace) *backtrace;
    unw_addr_space_t *local_addr_space;
} sa_libunwind;

/* Filled by sa_libunwind_load; read only after it returned 0. */
extern SA_HIDDEN sa_libunwind sa_unw;

/* Load libunwind (SA_LIBUNWIND_SONAME, from configure) once and fill
 * sa_unw.  0, or -1 if it cannot be loaded or lacks a function (then
 * sa_libunwind_error() says why, without allocating). */
int sa_libunwind_load(void);
const char *sa_libunwind_error(void);

/* Nonzero while this thread is inside one of the tracer's own calls into
 * libunwind: libunwind's signal masking is skipped then, if
 * sa_libunwind_quiet_install(handle of libunwind) returned 0, which the
 * loader does when it loaded libunwind itself (sa_unw_quiet_installed;
 * trace/libunwind_quiet.c says why that is safe). */
extern SA_TLS int sa_unw_quiet;
extern SA_HIDDEN int sa_unw_quiet_installed;
int sa_libunwind_quiet_install(void *handle);
/* Binds libunwind's pipe2/read/write/syscall imports so that it validates
 * addresses without the pipe it would open in the program
 * (trace/libunwind_quiet.c); 0 when bound. */
int sa_libunwind_nopipe_install(void *handle);

#endif
