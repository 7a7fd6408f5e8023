#!/bin/sh
# trace_fork.sh - tracing across fork: the child inherits the parent's live
# traced blocks, numbers its snapshots from 1 again, and answers a signal
# through a new helper thread; the parent's snapshot lacks the child's blocks.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_fork
PROG=$(sa_helper trace_prog)

sa_run_traced fork env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT="$SA_SNAPS/f.%p.%n.snap" "$PROG" fork "$SA_SNAPS"
sa_expect_status fork 0
sa_expect_stderr fork ""
child=$(sed -n 's/^child //p' "$(sa_out fork)")
parent=$(sed -n 's/^parent //p' "$(sa_out fork)")
[ -n "$child" ] && [ -n "$parent" ] || sa_fail "trace_prog did not print the pids"

c1=$SA_SNAPS/f.$child.1.snap c2=$SA_SNAPS/f.$child.2.snap p1=$SA_SNAPS/f.$parent.1.snap
for f in "$c1" "$c2" "$p1"; do
    [ -f "$f" ] || sa_fail "missing $(basename "$f"); have: $(ls "$SA_SNAPS")"
    sa_snapdump "$f"
done
[ ! -e "$SA_SNAPS/f.$parent.2.snap" ] || sa_fail "the parent wrote a second snapshot"
sa_expect_eq "$(sa_snap_field "$c1" trigger)" 2 "child's first snapshot is not a signal snapshot"
sa_expect_eq "$(sa_snap_field "$c1" pid)" "$child" "child's snapshot has the wrong pid"
sa_expect_eq "$(sa_snap_field "$c2" trigger)" 1 "child's second snapshot is not the exit snapshot"
sa_expect_eq "$(sa_snap_field "$p1" trigger)" 1 "parent's snapshot is not the exit snapshot"
sa_expect_trace_site "$c2" parent "1 1000 10"
sa_expect_trace_site "$c2" child "1 1000 5"
sa_expect_trace_site "$p1" parent "1 1000 10"
sa_expect_trace_site "$p1" child "0 0 0"
sa_pass
