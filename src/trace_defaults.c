/* trace_defaults.c - weak no-op tracer hooks, overridden by trace.c.
 * They let the allocator core link on its own (e.g. in unit tests that
 * do not pull in the tracer). */
#include "trace.h"

__attribute__((weak)) int sa_trace_on;
__attribute__((weak)) void sa_trace_alloc(void *ptr, size_t size) { (void)ptr; (void)size; }
__attribute__((weak)) void sa_trace_free(void *ptr) { (void)ptr; }
__attribute__((weak)) sa_trace_rec sa_trace_detach(void *ptr) { (void)ptr; sa_trace_rec r = { 0, 0 }; return r; }
__attribute__((weak)) void sa_trace_reattach(void *ptr, sa_trace_rec rec) { (void)ptr; (void)rec; }
__attribute__((weak)) void sa_trace_init_from_env(void) {}
__attribute__((weak)) void sa_trace_prefork(void) {}
__attribute__((weak)) void sa_trace_postfork_parent(void) {}
__attribute__((weak)) void sa_trace_postfork_child(void) {}
