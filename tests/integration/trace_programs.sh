#!/bin/sh
# trace_programs.sh - tracing real programs from the environment: CPython
# (PYTHONMALLOC=malloc) and sqlite3 run their workloads with the same
# output as without the preload and leave one exit snapshot that reads back
# and that `snapalloc show` accepts.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_programs

check_snap() {   # NAME MIN: exactly one snapshot NAME.*.snap, > MIN stacks and blocks
    min=$2
    set -- "$SA_SNAPS/$1".*.snap
    [ $# = 1 ] && [ -f "$1" ] || sa_fail "expected one snapshot, have: $(ls "$SA_SNAPS")"
    sa_snapdump "$1"
    sa_expect_eq "$(sa_snap_field "$1" trigger)" 1 "$1: not an exit snapshot"
    [ "$(sa_snap_field "$1" stacks)" -gt "$min" ] || sa_fail "$1: not more than $min stacks"
    [ "$(sa_snap_field "$1" count)" -gt "$min" ] || sa_fail "$1: not more than $min live blocks"
    "$SNAPALLOC_CMD" show "$1" >"$SA_TMP/show.out" 2>"$SA_TMP/show.err" \
        || { cat "$SA_TMP/show.err" >&2; sa_fail "snapalloc show $1 failed"; }
}

ran=0
if command -v python3 >/dev/null 2>&1; then
    py=$(python3 -c 'import sys; print(sys.executable)' </dev/null)
    PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
    export PYTHONMALLOC PYTHONHASHSEED PYTHONDONTWRITEBYTECODE
    sa_run_plain py-glibc "$py" "$SA_SRC/workload.py"
    sa_expect_status py-glibc 0
    sa_run_traced py env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT="$SA_SNAPS/py.%p.snap" \
        "$py" "$SA_SRC/workload.py"
    sa_expect_status py 0
    sa_same_stdout py-glibc py
    sa_expect_stderr py ""
    check_snap py 10
    ran=$((ran + 1))
fi
if command -v sqlite3 >/dev/null 2>&1; then
    sa_run_plain sql-glibc sqlite3 :memory: ".read $SA_SRC/workload.sql"
    sa_expect_status sql-glibc 0
    sa_run_traced sql env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT="$SA_SNAPS/sql.%p.snap" \
        sqlite3 :memory: ".read $SA_SRC/workload.sql"
    sa_expect_status sql 0
    sa_same_stdout sql-glibc sql
    sa_expect_stderr sql ""
    # sqlite3 frees nearly everything before exit; libc's locale data stays.
    check_snap sql 0
    ran=$((ran + 1))
fi
[ "$ran" -gt 0 ] || sa_skip "neither python3 nor sqlite3 is installed"
sa_pass
