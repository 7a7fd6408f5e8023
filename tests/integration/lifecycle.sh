#!/bin/sh
# lifecycle.sh - libsnapalloc's one start-up and exit sequence
# (src/preload/lifecycle.c): at exit the leak check, then the exit
# snapshot, then the statistics, all three even when the check fails (it
# used to end the process from the first destructor, skipping the other
# two), and the failed check's status with the program's buffered output
# kept.  _exit runs the check and the snapshot, not the statistics.  And
# the core's unit tests run no constructor of ours: a bad SNAPALLOC_TRACE
# makes no warning there (the tracer's was printed three times).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init lifecycle
prog=$(sa_helper lifecycle_prog)
cmd=${SNAPALLOC_CMD:?}

run() {   # run TAG ARGS...: the checked, traced, counted run of prog
    tag=$1
    shift
    LD_PRELOAD=$SNAPALLOC_LIB SNAPALLOC_CMD=$cmd SNAPALLOC_CHECK=1 \
        SNAPALLOC_SNAPSHOT_AT_EXIT=1 SNAPALLOC_SNAPSHOT="$SA_TMP/$tag.%p.snap" \
        SNAPALLOC_STATS=1 "$prog" "$@" >"$SA_TMP/$tag.out" 2>"$SA_TMP/$tag.err" && rc=0 || rc=$?
    [ "$rc" = 23 ] || sa_fail "$tag: exit status $rc, expected the check's 23: $(cat "$SA_TMP/$tag.err")"
    [ "$(cat "$SA_TMP/$tag.out")" = "buffered 6" ] || sa_fail "$tag: stdout '$(cat "$SA_TMP/$tag.out")'"
    grep -q '^4,321 bytes in 1 blocks are definitely lost at .*lifecycle_prog.c:[0-9]* build_name$' \
        "$SA_TMP/$tag.err" || sa_fail "$tag: no leak report: $(cat "$SA_TMP/$tag.err")"
    set -- "$SA_TMP/$tag".*.snap
    [ -f "$1" ] || sa_fail "$tag: no exit snapshot"
    "$cmd" show --json "$1" >"$SA_TMP/$tag.json" 2>&1 || sa_fail "$tag: show failed: $(cat "$SA_TMP/$tag.json")"
    grep -q '"trigger": *"exit"' "$SA_TMP/$tag.json" || sa_fail "$tag: the snapshot is not the exit snapshot"
}

# A return from main: check, snapshot, statistics, in that order.
run main
report=$(grep -n 'snapalloc check: FAILED' "$SA_TMP/main.err" | cut -d: -f1)
stats=$(grep -n '^snapalloc: allocator statistics for pid' "$SA_TMP/main.err" | cut -d: -f1)
[ -n "$stats" ] || sa_fail "main: no statistics after a failed check"
[ "$report" -lt "$stats" ] || sa_fail "main: statistics (line $stats) before the check's verdict (line $report)"

# _exit: check and snapshot, no statistics.
run quick _exit
! grep -q 'allocator statistics' "$SA_TMP/quick.err" || sa_fail "_exit printed the statistics"

# The core (linked into the unit tests) has no constructor of ours.
for t in test_sizeclass test_trace_stack; do
    SNAPALLOC_TRACE=bogus SNAPALLOC_CHECK=bogus SNAPALLOC_STATS=bogus \
        "$top_builddir/tests/unit/$t" >"$SA_TMP/$t.out" 2>&1 || sa_fail "$t failed: $(cat "$SA_TMP/$t.out")"
    ! grep -q 'snapalloc: SNAPALLOC_' "$SA_TMP/$t.out" || sa_fail "$t read our settings: $(grep snapalloc: "$SA_TMP/$t.out")"
done
sa_pass
