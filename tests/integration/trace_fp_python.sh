#!/bin/sh
# trace_fp_python.sh - the frame-pointer unwinder walks through code built
# without frame pointers (Debian's python3) without crashing: a garbage
# frame pointer must end the walk, even one near the top of the address
# space (regression: an overflowing bounds check let 0xfff...ff0 through).
# The program's output must equal the untraced run's.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_fp_python
py=/usr/bin/python3
[ -x "$py" ] || sa_skip "no $py"
script="$SA_SRC/workload.py"
sa_run_plain plain env PYTHONMALLOC=malloc "$py" "$script"
sa_expect_status plain 0 "the plain run"
for unwind in fp libunwind; do
    sa_run_traced "$unwind" env PYTHONMALLOC=malloc SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 \
        SNAPALLOC_UNWIND=$unwind "$py" "$script"
    sa_expect_status "$unwind" 0 "python3 traced with SNAPALLOC_UNWIND=$unwind"
    sa_same_stdout plain "$unwind"
done
sa_pass
