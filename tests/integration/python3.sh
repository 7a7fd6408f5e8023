#!/bin/sh
# python3.sh - CPython with PYTHONMALLOC=malloc (every object in malloc
# memory) runs workload.py with and without libsnapalloc preloaded: same
# stdout, exit status 0, and the preloaded run went through snapalloc.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init python3
sa_need_program python3

# Preload into the interpreter itself, not into a launcher such as a pyenv
# shim (a shell script that would run python under our preload anyway, but
# would also count its own allocations).
py=$(python3 -c 'import sys; print(sys.executable)' </dev/null) \
    || sa_fail "python3 -c 'print(sys.executable)' failed"
[ -x "$py" ] || sa_fail "python3 reports a non-executable interpreter '$py'"

PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
export PYTHONMALLOC PYTHONHASHSEED PYTHONDONTWRITEBYTECODE
script=$SA_SRC/workload.py

sa_run_plain glibc "$py" "$script"
sa_expect_status glibc 0
sa_run_preload snapalloc "$py" "$script"
sa_expect_status snapalloc 0
sa_same_stdout glibc snapalloc
sa_expect_eq "$(tail -n 1 "$(sa_out snapalloc)")" done "workload.py did not finish"
sa_expect_malloc_calls snapalloc 10000
sa_pass
