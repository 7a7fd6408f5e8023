#!/bin/sh
# trace_signal.sh - SNAPALLOC_SIGNAL: the handler is installed with
# SA_RESTART (a read() on a pipe that the signal interrupts is restarted,
# the snapshot is written); a signal whose default action ends the program
# (TERM, INT, HUP...) is refused with one line, so `kill -TERM` still ends
# it.  (Sleeps are not restarted by any handler: nanosleep, poll, select
# return EINTR as signal(7) says; see README.)
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_signal
P=$SA_BIN/trace_restart

sa_run_traced restart env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_TMP/sig.snap" "$P" "$SA_TMP/sig.snap"
sa_expect_status restart 0
[ "$(cat "$(sa_out restart)")" = "read 1" ] || sa_fail "read on a pipe: $(cat "$(sa_out restart)")"
[ -s "$SA_TMP/sig.snap" ] || sa_fail "no signal snapshot"
[ ! -s "$(sa_err restart)" ] || { sa_show restart; sa_fail "stderr is not empty"; }

# Refused: one line each, no handler (the program is ended by the signal).
for sig in TERM SIGINT hup 15 QUIT TSTP SEGV KILL; do
    sa_run_traced "refuse_$sig" env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=$sig \
        SNAPALLOC_SNAPSHOT_AT_EXIT=0 sh -c 'exit 0'
    want="snapalloc: SNAPALLOC_SIGNAL=\"$sig\": a handler would take away its default action (ending or stopping the program, or reporting a fault); use USR1, USR2, WINCH, URG, CHLD, CONT or a real-time signal; no signal trigger"
    [ "$(cat "$(sa_err "refuse_$sig")")" = "$want" ] || { sa_show "refuse_$sig"; sa_fail "SNAPALLOC_SIGNAL=$sig: not the one warning line"; }
done
# kill -TERM still ends a program that asked for TERM.
sa_run_traced term env SNAPALLOC_TRACE=8 SNAPALLOC_SIGNAL=TERM \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_TMP/term.snap" sh -c 'kill -TERM $$; exit 3'
sa_expect_status term 143
[ ! -e "$SA_TMP/term.snap" ] || sa_fail "a snapshot on SIGTERM"
sa_pass
