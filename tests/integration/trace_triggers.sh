#!/bin/sh
# trace_triggers.sh - snapshot triggers of the environment: a signal (20
# answered one by one, then a storm of 1000), an interval, new peaks; and
# the one-line messages for malformed variables and unwritable paths.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_triggers
PROG=$(sa_helper trace_prog)

# Signals: trace_prog waits for s.1 .. s.20 after each raise(SIGUSR1).
sa_run_traced signals env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT="$SA_SNAPS/s.%n.snap" "$PROG" signals "$SA_SNAPS" 20 1000
sa_expect_status signals 0
sa_expect_stderr signals ""
for n in 1 5 20; do
    sa_snapdump "$SA_SNAPS/s.$n.snap"
    sa_expect_eq "$(sa_snap_field "$SA_SNAPS/s.$n.snap" trigger)" 2 "s.$n.snap: trigger is not 'signal' (2)"
    sa_expect_eq "$(sa_snap_field "$SA_SNAPS/s.$n.snap" sequence)" "$n" "s.$n.snap: sequence is not $n"
    sa_expect_trace_site "$SA_SNAPS/s.$n.snap" small "1 $((64 * n)) $n"
done
# Every file left is complete (written to a temporary name, then renamed).
count=0
for f in "$SA_SNAPS"/s.*.snap; do
    sa_snapdump "$f"
    count=$((count + 1))
done
[ "$count" -ge 21 ] || sa_fail "expected 20 signal snapshots and an exit snapshot, found $count files"
ls "$SA_SNAPS" | grep -v -e '^s\.[0-9]*\.snap' -e '^sites$' -e '\.txt$' -e '\.err$' >"$SA_TMP/stray" || :
[ ! -s "$SA_TMP/stray" ] || sa_fail "stray files: $(cat "$SA_TMP/stray")"
echo "trace_triggers: $count signal/exit snapshots"

# Interval: trace_prog waits for the first one.
rm -f "$SA_SNAPS"/*
sa_run_traced interval env SNAPALLOC_TRACE=8 SNAPALLOC_INTERVAL=0.05 \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_SNAPS/i.%n.snap" "$PROG" interval "$SA_SNAPS"
sa_expect_status interval 0
sa_snapdump "$SA_SNAPS/i.1.snap"
sa_expect_eq "$(sa_snap_field "$SA_SNAPS/i.1.snap" trigger)" 3 "i.1.snap: trigger is not 'interval' (3)"

# Peaks: 10 x 256 KiB with SNAPALLOC_PEAK=1M: one snapshot at >= 1 MiB, one
# at >= 2 MiB, none at exit.
rm -f "$SA_SNAPS"/*
sa_run_traced peak env SNAPALLOC_TRACE=8 SNAPALLOC_PEAK=1M \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_SNAPS/p.%n.snap" "$PROG" peak "$SA_SNAPS"
sa_expect_status peak 0
[ -f "$SA_SNAPS/p.2.snap" ] && [ ! -e "$SA_SNAPS/p.3.snap" ] || sa_fail "expected exactly p.1.snap and p.2.snap: $(ls "$SA_SNAPS")"
for n in 1 2; do
    sa_snapdump "$SA_SNAPS/p.$n.snap"
    sa_expect_eq "$(sa_snap_field "$SA_SNAPS/p.$n.snap" trigger)" 4 "p.$n.snap: trigger is not 'peak' (4)"
    cur=$(sa_snap_field "$SA_SNAPS/p.$n.snap" current)
    [ "$cur" -ge $((n << 20)) ] && [ "$cur" -lt $((n << 20 | 256 << 10)) ] \
        || sa_fail "p.$n.snap: traced current $cur is not the first value >= $n MiB"
done
sa_expect_trace_site "$SA_SNAPS/p.1.snap" quarter "1 1048576 4"
sa_expect_trace_site "$SA_SNAPS/p.2.snap" quarter "1 2097152 8"

# A malformed variable: one line, tracing off, the program unharmed.
rm -f "$SA_SNAPS"/*
sa_run_traced garbage env SNAPALLOC_TRACE=abc SNAPALLOC_SNAPSHOT="$SA_SNAPS/g.snap" \
    "$PROG" exact "$SA_SNAPS"
sa_expect_status garbage 0
sa_expect_stderr garbage 'snapalloc: SNAPALLOC_TRACE="abc": not a number from 0 to 128; tracing stays off'
[ ! -e "$SA_SNAPS/g.snap" ] || sa_fail "SNAPALLOC_TRACE=abc wrote a snapshot"

# An unwritable path: one line at exit, exit status unchanged; and one for
# the peak file (the program passes 1 MiB), which is not retried.
sa_run_traced nodir env SNAPALLOC_TRACE=4 SNAPALLOC_SNAPSHOT="$SA_SNAPS/missing/x.snap" \
    "$PROG" exact "$SA_SNAPS"
sa_expect_status nodir 0
printf '%s\n' "snapalloc: cannot write snapshot $SA_SNAPS/missing/x.snap.peak: No such file or directory; peak snapshots are off from now on" \
    "snapalloc: cannot write snapshot $SA_SNAPS/missing/x.snap: No such file or directory" >"$SA_TMP/nodir.want"
sa_expect_same_file "$(sa_err nodir)" "$SA_TMP/nodir.want" "unwritable path: stderr"
sa_pass
