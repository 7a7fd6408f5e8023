#!/bin/sh
# cxx_threads.sh - cxx_threads (4 threads passing C++ objects through a
# queue, freed by other threads) prints the same checksums with and without
# libsnapalloc preloaded, and the preloaded run went through snapalloc
# (operator new counts as a malloc call); once more with tracing on.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cxx_threads
prog=$(sa_helper cxx_threads)

sa_run_plain glibc "$prog"
sa_expect_status glibc 0
sa_run_preload snapalloc "$prog"
sa_expect_status snapalloc 0
sa_same_stdout glibc snapalloc
sa_expect_malloc_calls snapalloc 100000
# With the tracer recording every allocation, too.
sa_run_traced traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog"
sa_expect_status traced 0
sa_same_stdout glibc traced
sa_expect_malloc_calls traced 100000
sa_pass
