#!/bin/sh
# trace_fp_python.sh - the frame-pointer unwinder walks through code built
# without frame pointers (Debian's python3) without crashing: a garbage
# frame pointer must end the walk, even one near the top of the address
# space (regression: an overflowing bounds check let 0xfff...ff0 through).
# The program's output must equal the untraced run's.
set -eu
lib=${SNAPALLOC_LIB:?}
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: no $py"; exit 77; }
script="$top_srcdir/tests/integration/workload.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PYTHONMALLOC=malloc "$py" "$script" >"$tmp/plain" || { echo "FAIL: plain run failed" >&2; exit 1; }
for unwind in fp libunwind; do
    if ! env PYTHONMALLOC=malloc LD_PRELOAD="$lib" SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 \
            SNAPALLOC_UNWIND=$unwind "$py" "$script" >"$tmp/$unwind"; then
        echo "FAIL: trace_fp_python: python3 traced with SNAPALLOC_UNWIND=$unwind failed" >&2
        exit 1
    fi
    cmp -s "$tmp/plain" "$tmp/$unwind" ||
        { echo "FAIL: trace_fp_python: output differs with SNAPALLOC_UNWIND=$unwind" >&2; exit 1; }
done
echo "trace_fp_python: ok"
