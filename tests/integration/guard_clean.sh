#!/bin/sh
# guard_clean.sh - correct programs run unchanged under guard pages at a
# high rate (SNAPALLOC_GUARD=2: one allocation in two, a fault or a
# damaged gap would end them with a report): python3 with
# PYTHONMALLOC=malloc, sqlite3, the threaded C++ program and a program
# that forks while its threads allocate give the plain run's output and
# status and no report; also with a small pool (which fills: the
# allocator serves the rest), blocks against the guard page before them,
# and with the tracer on at the same time (`snapalloc run --guard`).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init guard_clean

no_report() { # TAG
    ! grep -q '^snapalloc: debug' "$(sa_err "$1")" || sa_fail "$1: a guard pages report"
}

# guarded TAG ENV... PROG ARGS...: run it preloaded, compare with TAG's
# plain run (TAG_glibc).
guarded() {
    t=$1; shift
    sa_run_preload_nostats "$t" env "$@"
    sa_expect_status "$t" 0
    no_report "$t"
}

cxx=$(sa_helper cxx_threads)
sa_run_plain cxx_glibc "$cxx"
sa_expect_status cxx_glibc 0
for cfg in "SNAPALLOC_GUARD=2" "SNAPALLOC_GUARD=all SNAPALLOC_GUARD_SLOTS=8" \
           "SNAPALLOC_GUARD=3 SNAPALLOC_GUARD_UNDERFLOW=1"; do
    n=$((${n:-0} + 1))
    # shellcheck disable=SC2086
    guarded cxx_guard$n $cfg "$cxx"
    sa_same_stdout cxx_glibc cxx_guard$n
done

forker=$(sa_helper fork_threads)
guarded fork_guard SNAPALLOC_GUARD=2 "$forker"

if command -v sqlite3 >/dev/null 2>&1; then
    sqlite=$(command -v sqlite3)
    sql=$SA_SRC/workload.sql
    sa_run_plain sql_glibc "$sqlite" -bail -init "$sql" :memory: .quit
    sa_expect_status sql_glibc 0
    guarded sql_guard SNAPALLOC_GUARD=2 "$sqlite" -bail -init "$sql" :memory: .quit
    sa_same_stdout sql_glibc sql_guard
    guarded sql_guard_under SNAPALLOC_GUARD=2 SNAPALLOC_GUARD_UNDERFLOW=1 \
        "$sqlite" -bail -init "$sql" :memory: .quit
    sa_same_stdout sql_glibc sql_guard_under
fi

if command -v python3 >/dev/null 2>&1; then
    py=$(python3 -c 'import sys; print(sys.executable)' </dev/null)
    PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
    export PYTHONMALLOC PYTHONHASHSEED PYTHONDONTWRITEBYTECODE
    sa_run_plain py_glibc "$py" "$SA_SRC/workload.py"
    sa_expect_status py_glibc 0
    guarded py_guard SNAPALLOC_GUARD=2 "$py" "$SA_SRC/workload.py"
    sa_same_stdout py_glibc py_guard
    # The tracer and guard pages together: the run's status and output,
    # no report, a snapshot written.
    sa_cmd run --guard=2 -o "$SA_TMP/snaps" -- "$py" "$SA_SRC/workload.py"
    sa_expect_status cmd 0 "snapalloc run --guard"
    sa_same_stdout py_glibc cmd
    no_report cmd
    ls "$SA_TMP/snaps"/*.snap >/dev/null 2>&1 || sa_fail "run --guard: no snapshot"
fi
sa_pass
