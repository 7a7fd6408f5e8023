#!/bin/sh
# stress_remote.sh - 8 threads in 3 generations swap blocks in a shared
# array, so blocks are freed by other (often exited) threads; every block's
# pattern is verified before it is freed.  With and without libsnapalloc,
# and with libsnapalloc tracing.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init stress_remote
prog=$(sa_helper stress_remote)

sa_run_plain glibc "$prog"
sa_expect_status glibc 0
sa_expect_stdout glibc ok
sa_run_preload snapalloc "$prog"
sa_expect_status snapalloc 0
sa_expect_stdout snapalloc ok
# 3 generations x 8 threads x 150000 allocations
sa_expect_malloc_calls snapalloc 3500000
# With the tracer recording every allocation, too.
sa_run_traced traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog"
sa_expect_status traced 0
sa_expect_stdout traced ok
sa_expect_malloc_calls traced 3500000
sa_pass
