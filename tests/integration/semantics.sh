#!/bin/sh
# semantics.sh - semantics.c (every malloc-family entry point) and
# semantics_cxx.cc (operator new/delete) check glibc's documented behaviour:
# first plain, which checks the tests themselves against glibc, then with
# libsnapalloc preloaded.  Each prints every failed check.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init semantics
c_prog=$(sa_helper semantics)
cxx_prog=$(sa_helper semantics_cxx)

# expect_pass TAG WHAT: the run passed all its checks, else show the failed ones.
expect_pass() {
    if [ "$(sa_status "$1")" != 0 ]; then
        grep '^FAIL' "$(sa_out "$1")" >&2 || :
        tail -n 1 "$(sa_out "$1")" >&2
        sa_show "$1"
        sa_fail "run '$1' exited with status $(sa_status "$1"): $2"
    fi
    tail -n 1 "$(sa_out "$1")"
}

sa_run_plain c-glibc "$c_prog" glibc
expect_pass c-glibc "the C semantics test fails under glibc itself: the test is wrong"
sa_run_preload c-snapalloc "$c_prog" snapalloc
expect_pass c-snapalloc "snapalloc differs from glibc"

sa_run_plain cxx-glibc "$cxx_prog"
expect_pass cxx-glibc "the C++ semantics test fails under glibc itself: the test is wrong"
sa_run_preload cxx-snapalloc "$cxx_prog"
expect_pass cxx-snapalloc "snapalloc differs from glibc"

# The C sweep alone calls malloc over 3000 times, the C++ test operator new
# over 4000 times.
sa_expect_malloc_calls c-snapalloc 3000
sa_expect_malloc_calls cxx-snapalloc 4000
sa_pass
