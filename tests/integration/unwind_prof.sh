#!/bin/sh
# unwind_prof.sh - a program linked with libunwind samples its own stack
# from SIGPROF while it allocates from 90 call sites: traced, it shares
# the tracer's libunwind, which must keep its signal masking for it (the
# unit test test_trace_libunwind_quiet checks that it does; a sample
# landing inside one of the tracer's libunwind steps is too rare to
# provoke here).  A deadlock fails the test by its 120 s limit; the output
# must be the plain run's.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init unwind_prof
prog=$(sa_helper unwind_prof)
SA_TIMEOUT=120
expected="allocations: 200000
own unwind: ok
samples unwound: all"

sa_run_plain glibc "$prog"
sa_expect_status glibc 0
sa_expect_stdout glibc "$expected"
sa_run_traced traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog"
sa_expect_status traced 0
sa_expect_stdout traced "$expected"
sa_expect_malloc_calls traced 200000
sa_pass
