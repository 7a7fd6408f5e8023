#!/bin/sh
# fork.sh - fork_threads forks 50 times while 4 threads allocate; every
# child allocates (small, medium, large blocks, a thread of its own) and
# exits 0, and a child execs /bin/true.  A lock held across fork() would
# deadlock a child: the run is limited to 120 s so that fails the test.
# Plain, preloaded, and preloaded with tracing on.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init fork
prog=$(sa_helper fork_threads)
SA_TIMEOUT=120
expected="children ok: 50 of 50
exec child: ok
threads: ok"

sa_run_plain glibc "$prog"
sa_expect_status glibc 0
sa_expect_stdout glibc "$expected"
sa_run_preload snapalloc "$prog"
sa_expect_status snapalloc 0
sa_expect_stdout snapalloc "$expected"
sa_expect_malloc_calls snapalloc 1000
# With the tracer on, whose locks must survive fork() as well.
sa_run_traced traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog"
sa_expect_status traced 0
sa_expect_stdout traced "$expected"
sa_expect_malloc_calls traced 1000
sa_pass
