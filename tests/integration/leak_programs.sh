#!/bin/sh
# leak_programs.sh - no false positives: python3 (PYTHONMALLOC=malloc, so
# every object is a malloc block), sqlite3 and a threaded C++ program with
# global, thread_local and on-stack containers (some of its threads still
# run at exit) lose nothing: definitely and indirectly lost are 0 bytes,
# as valgrind memcheck reports for the same runs.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init leak_programs
CXX_PROG=$(sa_helper leak_cxx)

no_loss() {
    sa_expect_status "$1" 0
    sa_expect_check_class "$1" definite "0 0"
    sa_expect_check_class "$1" indirect "0 0"
    set -- "$1" $(sa_check_class "$1" reachable)
    [ "$3" -gt "$2" ] || [ "$3" -gt 0 ] || sa_fail "run '$1' has no reachable block: was the heap scanned?"
    echo "$SA_NAME: $1: nothing lost, $2 bytes in $3 blocks reachable"
}

sa_run_checked cxx "$CXX_PROG"
no_loss cxx
# Its heap is mostly held by the containers: at least the 6 x 200
# heap_held vectors (of 1..200 doubles) are reachable.
set -- $(sa_check_class cxx reachable)
[ "$1" -ge 960000 ] || sa_fail "cxx: reachable $1 bytes, expected the containers' 960000 and more"

# /usr/bin/python3: on a development machine `python3` may be a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || :)
if [ -n "$PY" ]; then
    sa_run_checked python3 env PYTHONMALLOC=malloc "$PY" "$SA_SRC/workload.py"
    no_loss python3
else
    echo "$SA_NAME: python3 is not installed"
fi

if command -v sqlite3 >/dev/null 2>&1; then
    sa_run_checked sqlite3 sh -c 'exec sqlite3 :memory: <"$1"' sh "$SA_SRC/workload.sql"
    no_loss sqlite3
else
    echo "$SA_NAME: sqlite3 is not installed"
fi
sa_pass
