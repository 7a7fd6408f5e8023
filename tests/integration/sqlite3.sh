#!/bin/sh
# sqlite3.sh - the sqlite3 command-line shell runs workload.sql on an
# in-memory database with and without libsnapalloc preloaded: same output,
# exit status 0, and the preloaded run went through snapalloc.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init sqlite3
sa_need_program sqlite3
sqlite=$(command -v sqlite3)
sql=$SA_SRC/workload.sql

sa_run_plain glibc "$sqlite" -bail -init "$sql" :memory: .quit
sa_expect_status glibc 0
sa_run_preload snapalloc "$sqlite" -bail -init "$sql" :memory: .quit
sa_expect_status snapalloc 0
sa_same_stdout glibc snapalloc
[ "$(tail -n 1 "$(sa_out snapalloc)")" = "integrity|ok" ] \
    || sa_fail "workload.sql did not finish with a passing integrity check"
sa_expect_malloc_calls snapalloc 1000
sa_pass
