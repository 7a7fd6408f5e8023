#!/bin/sh
# semantics.sh - semantics.c (every malloc-family entry point) and
# semantics_cxx.cc (operator new/delete) check glibc's documented behaviour:
# first plain, which checks the tests themselves against glibc, then with
# libsnapalloc preloaded, then preloaded with tracing on (SNAPALLOC_TRACE).
# Each prints every failed check.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init semantics
c_prog=$(sa_helper semantics)
cxx_prog=$(sa_helper semantics_cxx)

# expect_pass TAG WHAT: the run passed all its checks; else show the failed
# ones and remember the run, so that every run is reported before failing.
failed=
expect_pass() {
    if [ "$(sa_status "$1")" != 0 ]; then
        grep -e '^FAIL' -e ' checks, ' "$(sa_out "$1")" >&2 || :
        sa_show "$1"
        echo "run '$1' exited with status $(sa_status "$1"): $2" >&2
        failed="$failed $1"
    else
        tail -n 1 "$(sa_out "$1")"
    fi
}

sa_run_plain c-glibc "$c_prog" glibc
expect_pass c-glibc "the C semantics test fails under glibc itself: the test is wrong"
sa_run_plain cxx-glibc "$cxx_prog"
expect_pass cxx-glibc "the C++ semantics test fails under glibc itself: the test is wrong"

sa_run_preload c-snapalloc "$c_prog" snapalloc
expect_pass c-snapalloc "snapalloc differs from glibc"
sa_run_preload cxx-snapalloc "$cxx_prog"
expect_pass cxx-snapalloc "snapalloc differs from glibc"

# Once more with the tracer on: the entry points take their traced paths.
sa_run_traced c-traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$c_prog" snapalloc
expect_pass c-traced "snapalloc differs from glibc while tracing"
sa_run_traced cxx-traced env SNAPALLOC_STATS=1 SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$cxx_prog"
expect_pass cxx-traced "snapalloc differs from glibc while tracing"

[ -z "$failed" ] || sa_fail "failed runs:$failed"

# The C sweep (the part of semantics.c that does not run in child
# processes) calls malloc over 1500 times, the C++ test operator new over
# 4000 times.
sa_expect_malloc_calls c-snapalloc 1500
sa_expect_malloc_calls cxx-snapalloc 4000
sa_pass
