#!/bin/sh
# trace_triggers.sh - snapshot triggers of the environment: a signal (20
# answered one by one, then a storm of 1000), an interval, new peaks; and
# the one-line messages for malformed variables and unwritable paths.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/trace_lib.sh"
tr_init trace_triggers

# Signals: trace_prog waits for s.1 .. s.20 after each raise(SIGUSR1).
sa_run_preload_nostats signals env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT="$TR_DIR/s.%n.snap" "$TR_PROG" signals "$TR_DIR" 20 1000
sa_expect_status signals 0
tr_expect_err signals ""
for n in 1 5 20; do
    tr_dump "$TR_DIR/s.$n.snap"
    [ "$(tr_header "$TR_DIR/s.$n.snap" trigger)" = 2 ] || sa_fail "s.$n.snap: trigger is not 'signal' (2)"
    [ "$(tr_header "$TR_DIR/s.$n.snap" sequence)" = "$n" ] || sa_fail "s.$n.snap: sequence is not $n"
    tr_expect_site "$TR_DIR/s.$n.snap" small "1 $((64 * n)) $n"
done
# Every file left is complete (written to a temporary name, then renamed).
count=0
for f in "$TR_DIR"/s.*.snap; do
    tr_dump "$f"
    count=$((count + 1))
done
[ "$count" -ge 21 ] || sa_fail "expected 20 signal snapshots and an exit snapshot, found $count files"
ls "$TR_DIR" | grep -v -e '^s\.[0-9]*\.snap' -e '^sites$' -e '\.txt$' -e '\.err$' >"$SA_TMP/stray" || :
[ ! -s "$SA_TMP/stray" ] || sa_fail "stray files: $(cat "$SA_TMP/stray")"
echo "trace_triggers: $count signal/exit snapshots"

# Interval: trace_prog waits for the first one.
rm -f "$TR_DIR"/*
sa_run_preload_nostats interval env SNAPALLOC_TRACE=8 SNAPALLOC_INTERVAL=0.05 \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$TR_DIR/i.%n.snap" "$TR_PROG" interval "$TR_DIR"
sa_expect_status interval 0
tr_dump "$TR_DIR/i.1.snap"
[ "$(tr_header "$TR_DIR/i.1.snap" trigger)" = 3 ] || sa_fail "i.1.snap: trigger is not 'interval' (3)"

# Peaks: 10 x 256 KiB with SNAPALLOC_PEAK=1M: one snapshot at >= 1 MiB, one
# at >= 2 MiB, none at exit.
rm -f "$TR_DIR"/*
sa_run_preload_nostats peak env SNAPALLOC_TRACE=8 SNAPALLOC_PEAK=1M \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$TR_DIR/p.%n.snap" "$TR_PROG" peak "$TR_DIR"
sa_expect_status peak 0
[ -f "$TR_DIR/p.2.snap" ] && [ ! -e "$TR_DIR/p.3.snap" ] || sa_fail "expected exactly p.1.snap and p.2.snap: $(ls "$TR_DIR")"
for n in 1 2; do
    tr_dump "$TR_DIR/p.$n.snap"
    [ "$(tr_header "$TR_DIR/p.$n.snap" trigger)" = 4 ] || sa_fail "p.$n.snap: trigger is not 'peak' (4)"
    cur=$(tr_header "$TR_DIR/p.$n.snap" current)
    [ "$cur" -ge $((n << 20)) ] && [ "$cur" -lt $((n << 20 | 256 << 10)) ] \
        || sa_fail "p.$n.snap: traced current $cur is not the first value >= $n MiB"
done
tr_expect_site "$TR_DIR/p.1.snap" quarter "1 1048576 4"
tr_expect_site "$TR_DIR/p.2.snap" quarter "1 2097152 8"

# A malformed variable: one line, tracing off, the program unharmed.
rm -f "$TR_DIR"/*
sa_run_preload_nostats garbage env SNAPALLOC_TRACE=abc SNAPALLOC_SNAPSHOT="$TR_DIR/g.snap" \
    "$TR_PROG" exact "$TR_DIR"
sa_expect_status garbage 0
tr_expect_err garbage 'snapalloc: SNAPALLOC_TRACE="abc": not a number from 0 to 128; tracing stays off'
[ ! -e "$TR_DIR/g.snap" ] || sa_fail "SNAPALLOC_TRACE=abc wrote a snapshot"

# An unwritable path: one line at exit, exit status unchanged.
sa_run_preload_nostats nodir env SNAPALLOC_TRACE=4 SNAPALLOC_SNAPSHOT="$TR_DIR/missing/x.snap" \
    "$TR_PROG" exact "$TR_DIR"
sa_expect_status nodir 0
tr_expect_err nodir "snapalloc: cannot write snapshot $TR_DIR/missing/x.snap: No such file or directory"
sa_pass
