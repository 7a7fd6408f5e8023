#!/bin/sh
# trace_fork.sh - tracing across fork: the child inherits the parent's live
# traced blocks, numbers its snapshots from 1 again, and answers a signal
# through a new helper thread; the parent's snapshot lacks the child's blocks.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/trace_lib.sh"
tr_init trace_fork

sa_run_preload_nostats fork env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT="$TR_DIR/f.%p.%n.snap" "$TR_PROG" fork "$TR_DIR"
sa_expect_status fork 0
tr_expect_err fork ""
child=$(sed -n 's/^child //p' "$(sa_out fork)")
parent=$(sed -n 's/^parent //p' "$(sa_out fork)")
[ -n "$child" ] && [ -n "$parent" ] || sa_fail "trace_prog did not print the pids"

c1=$TR_DIR/f.$child.1.snap c2=$TR_DIR/f.$child.2.snap p1=$TR_DIR/f.$parent.1.snap
for f in "$c1" "$c2" "$p1"; do
    [ -f "$f" ] || sa_fail "missing $(basename "$f"); have: $(ls "$TR_DIR")"
    tr_dump "$f"
done
[ ! -e "$TR_DIR/f.$parent.2.snap" ] || sa_fail "the parent wrote a second snapshot"
[ "$(tr_header "$c1" trigger)" = 2 ] || sa_fail "child's first snapshot is not a signal snapshot"
[ "$(tr_header "$c1" pid)" = "$child" ] || sa_fail "child's snapshot has the wrong pid"
[ "$(tr_header "$c2" trigger)" = 1 ] || sa_fail "child's second snapshot is not the exit snapshot"
[ "$(tr_header "$p1" trigger)" = 1 ] || sa_fail "parent's snapshot is not the exit snapshot"
tr_expect_site "$c2" parent "1 1000 10"
tr_expect_site "$c2" child "1 1000 5"
tr_expect_site "$p1" parent "1 1000 10"
tr_expect_site "$p1" child "0 0 0"
sa_pass
