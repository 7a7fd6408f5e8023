#!/bin/sh
# debug_clean.sh - correct programs run unchanged in debug mode
# (SNAPALLOC_DEBUG=1: any report would abort them): python3 with
# PYTHONMALLOC=malloc, sqlite3, the threaded C++ program and a program
# that forks while its threads allocate give the plain
# run's output and status and no report, with their blocks really made by
# debug mode (malloc_usable_size is the requested size); `snapalloc check
# --debug` passes a clean program and fails, with the check's exit code,
# on a report.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init debug_clean

no_report() { # TAG
    ! grep -q '^snapalloc: debug' "$(sa_err "$1")" || sa_fail "$1: a debug mode report"
}

cxx=$(sa_helper cxx_threads)
sa_run_plain cxx_glibc "$cxx"
sa_expect_status cxx_glibc 0
sa_run_preload cxx_debug env SNAPALLOC_DEBUG=1 "$cxx"
sa_expect_status cxx_debug 0
sa_same_stdout cxx_glibc cxx_debug
sa_expect_malloc_calls cxx_debug 100000
no_report cxx_debug

# fork() while other threads allocate: the children (which _exit, and
# are checked at exit unless threads were copied mid-change) report
# nothing and succeed.
forker=$(sa_helper fork_threads)
sa_run_preload fork_debug env SNAPALLOC_DEBUG=1 "$forker"
sa_expect_status fork_debug 0
no_report fork_debug

if command -v sqlite3 >/dev/null 2>&1; then
    sqlite=$(command -v sqlite3)
    sql=$SA_SRC/workload.sql
    sa_run_plain sql_glibc "$sqlite" -bail -init "$sql" :memory: .quit
    sa_expect_status sql_glibc 0
    sa_run_preload sql_debug env SNAPALLOC_DEBUG=1 "$sqlite" -bail -init "$sql" :memory: .quit
    sa_expect_status sql_debug 0
    sa_same_stdout sql_glibc sql_debug
    no_report sql_debug
fi

if command -v python3 >/dev/null 2>&1; then
    py=$(python3 -c 'import sys; print(sys.executable)' </dev/null)
    PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
    export PYTHONMALLOC PYTHONHASHSEED PYTHONDONTWRITEBYTECODE
    sa_run_plain py_glibc "$py" "$SA_SRC/workload.py"
    sa_expect_status py_glibc 0
    sa_run_preload py_debug env SNAPALLOC_DEBUG=1 "$py" "$SA_SRC/workload.py"
    sa_expect_status py_debug 0
    sa_same_stdout py_glibc py_debug
    no_report py_debug
    # malloc_usable_size is the requested size in debug mode only.
    usable='import ctypes; l = ctypes.CDLL(None); l.malloc.restype = ctypes.c_void_p
l.malloc_usable_size.argtypes = [ctypes.c_void_p]; print(l.malloc_usable_size(l.malloc(13)))'
    sa_run_preload_nostats usable_debug env SNAPALLOC_DEBUG=1 "$py" -c "$usable"
    sa_expect_stdout usable_debug 13
    sa_run_preload_nostats usable_plain "$py" -c "$usable"
    sa_expect_stdout usable_plain 16
fi

# snapalloc check --debug: a clean program passes (its own status), a
# report fails the check with --exitcode's status.
sa_build "$SA_TMP/defects" "$top_srcdir/tests/debug/defects.c" O0 -pthread -ldl
# Its list is reachable: debug blocks are found from the pointers the
# program holds (past their headers), not "possibly lost".
sa_cmd check --debug --fail-on definite,indirect,possible -- "$SA_TMP/defects" clean
sa_expect_status cmd 0 "check --debug of a clean program"
sa_expect_err_line cmd 'possibly lost: 0 bytes in 0 blocks' "nothing possibly lost"
sa_cmd check --debug --exitcode 9 -- "$SA_TMP/defects" double
sa_expect_status cmd 9 "check --debug of a double free"
sa_expect_err_line cmd 'snapalloc check: failed: 1 debug mode report' "the verdict"
sa_expect_err_line cmd 'snapalloc: debug: double free .*' "the report"
sa_pass
