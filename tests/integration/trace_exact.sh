#!/bin/sh
# trace_exact.sh - SNAPALLOC_TRACE in a real program: the exit snapshot
# holds exactly 100 x 64 B, 10 x 4 KiB and 1 x 1 MiB at the program's three
# allocation sites, with the program's own frame first (snapalloc's frames
# stripped), under both unwinders; threads add up exactly.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_exact
PROG=$(sa_helper trace_prog)

for unwind in libunwind fp; do
    rm -f "$SA_SNAPS"/*
    sa_run_traced exact-$unwind env SNAPALLOC_TRACE=16 SNAPALLOC_UNWIND=$unwind \
        SNAPALLOC_SNAPSHOT="$SA_SNAPS/x.%e.%p.%n.snap" "$PROG" exact "$SA_SNAPS"
    sa_expect_status exact-$unwind 0
    sa_expect_stdout exact-$unwind "traced memory ok
traceback ok"
    sa_expect_stderr exact-$unwind ""
    set -- "$SA_SNAPS"/x.trace_prog.*.1.snap
    [ $# = 1 ] && [ -f "$1" ] || sa_fail "$unwind: no single exit snapshot x.trace_prog.PID.1.snap"
    snap=$1
    sa_snapdump "$snap"
    sa_expect_eq "$(sa_snap_field "$snap" trigger)" 1 "$unwind: trigger is not 'exit' (1)"
    sa_expect_eq "$(sa_snap_field "$snap" limit)" 16 "$unwind: frame limit is not 16"
    sa_expect_trace_site "$snap" small "1 6400 100"
    sa_expect_trace_site "$snap" page "1 40960 10"
    sa_expect_trace_site "$snap" big "1 1048576 1"
    echo "trace_exact: $unwind: exact sites"
done

rm -f "$SA_SNAPS"/*
sa_run_traced threads env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT="$SA_SNAPS/t.snap" \
    "$PROG" threads "$SA_SNAPS"
sa_expect_status threads 0
sa_snapdump "$SA_SNAPS/t.snap"
sa_expect_trace_site "$SA_SNAPS/t.snap" thread "1 128000 4000"

# Under the leak check the live totals are not kept at every malloc and
# free but recounted from the records when asked for: the same answers.
for mode in exact threads; do
    rm -rf "$SA_SNAPS"/*
    mkdir "$SA_SNAPS/chk"
    sa_run_preload_nostats lazy-$mode env SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_DIR="$SA_SNAPS/chk" \
        SNAPALLOC_TRACE=16 "$PROG" $mode "$SA_SNAPS"
    sa_expect_status lazy-$mode 0
    set -- "$SA_SNAPS"/chk/*.exit.snap
    [ $# = 1 ] && [ -f "$1" ] || sa_fail "lazy-$mode: no single PID.exit.snap from the check"
    cp "$1" "$SA_SNAPS/l.snap"
    sa_snapdump "$SA_SNAPS/l.snap"
    if [ $mode = exact ]; then
        sa_expect_stdout lazy-exact "traced memory ok
traceback ok"
        sa_expect_trace_site "$SA_SNAPS/l.snap" small "1 6400 100"
        sa_expect_trace_site "$SA_SNAPS/l.snap" page "1 40960 10"
        sa_expect_trace_site "$SA_SNAPS/l.snap" big "1 1048576 1"
    else
        sa_expect_trace_site "$SA_SNAPS/l.snap" thread "1 128000 4000"
    fi
done
echo "trace_exact: lazy counts under the check"
rm -rf "$SA_SNAPS/chk"

# libunwind is loaded only for tracing with it: an untraced program, or
# one traced with frame pointers, never maps it (nor its liblzma).
sa_run_preload_nostats maps-off cat /proc/self/maps
sa_run_traced maps-fp env SNAPALLOC_TRACE=8 SNAPALLOC_UNWIND=fp \
    SNAPALLOC_SNAPSHOT="$SA_SNAPS/m.snap" cat /proc/self/maps
sa_run_traced maps-on env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT="$SA_SNAPS/m.snap" \
    cat /proc/self/maps
for t in maps-off maps-fp maps-on; do
    sa_expect_status $t 0
    grep -q libsnapalloc "$(sa_out $t)" || sa_fail "$t: libsnapalloc is not mapped"
done
! grep -q 'libunwind\|liblzma' "$(sa_out maps-off)" || sa_fail "libunwind mapped without tracing"
! grep -q 'libunwind\|liblzma' "$(sa_out maps-fp)" || sa_fail "libunwind mapped for fp tracing"
grep -q libunwind "$(sa_out maps-on)" || sa_fail "tracing did not load libunwind"
echo "trace_exact: libunwind only when tracing with it"

# Not tracing: no snapshot, nothing on stderr.
rm -f "$SA_SNAPS"/*
sa_run_preload_nostats off env SNAPALLOC_SNAPSHOT="$SA_SNAPS/o.snap" "$PROG" exact "$SA_SNAPS"
sa_expect_status off 0
sa_expect_stderr off ""
[ ! -e "$SA_SNAPS/o.snap" ] || sa_fail "a snapshot was written without SNAPALLOC_TRACE"
sa_pass
