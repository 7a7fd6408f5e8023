#!/bin/sh
# stress_remote.sh - 8 threads in 3 generations swap blocks in a shared
# array, so blocks are freed by other (often exited) threads; every block's
# pattern is verified before it is freed.  With and without libsnapalloc.
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
sa_pass
