#!/bin/sh
# trace_peak.sh - the high-water mark, on by default: trace_peak.c grows to
# a known peak (three sites, exact bytes and counts) and then ends lower;
# the peak file holds the peak's blocks exactly, and within 1% when no
# single block marks the peak; its size histogram is exact.  The timeline
# of a program that moves in 1 MiB steps holds the steps in order.
# SNAPALLOC_PEAK=off and run --no-peak write no peak file; a template
# without %n gets ".peak".  Built at -O0 and -O2.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_peak
SRC=$top_srcdir/tests/integration/trace_peak.c

# show --format json of SNAP into JSON (a file), by function.
show_json() { # SNAP JSON
    sa_cmd show "$1" --by function --top 0 --format json
    sa_expect_status cmd 0 "show $1"
    cp "$SA_TMP/cmd.out" "$2"
}

SITES="sorted((s['site']['function'], s['size'], s['count']) for s in d['stats'])"
HIST="[(h['lo'], h['hi'], h['count'], h['size']) for h in d['snapshot']['histogram']]"

for level in O0 O2; do
    P=$SA_TMP/trace_peak_$level
    sa_build "$P" "$SRC" $level

    # The peak: 50 x 24000 + 100 x 40000 + 2 MiB; then mid and big freed.
    rm -rf "$SA_TMP/r"
    sa_cmd run -o "$SA_TMP/r" -- "$P" peak
    sa_expect_status cmd 0 "$level: run peak"
    set -- "$SA_TMP/r"/*.peak.snap
    [ $# = 1 ] && [ -f "$1" ] || sa_fail "$level: no single EXE.PID.peak.snap"
    peak=$1
    set -- "$SA_TMP/r"/*.1.snap
    [ $# = 1 ] && [ -f "$1" ] || sa_fail "$level: no single exit snapshot"
    exit_snap=$1
    [ "$(ls "$SA_TMP/r" | wc -l)" = 2 ] || sa_fail "$level: files besides the exit and peak ones: $(ls "$SA_TMP/r")"
    show_json "$peak" "$SA_TMP/peak.json"
    sa_expect_json "$SA_TMP/peak.json" "d['snapshot']['trigger']" peak "$level: peak file trigger"
    sa_expect_json "$SA_TMP/peak.json" "$SITES" \
        "[('grow_big', 2097152, 1), ('grow_mid', 4000000, 100), ('grow_small', 1200000, 50)]" \
        "$level: the peak's blocks"
    sa_expect_json "$SA_TMP/peak.json" "$HIST" \
        "[(16384, 32767, 50, 1200000), (32768, 65535, 100, 4000000), (2097152, 4194303, 1, 2097152)]" \
        "$level: the peak's histogram"
    show_json "$exit_snap" "$SA_TMP/exit.json"
    sa_expect_json "$SA_TMP/exit.json" "$SITES" \
        "[('after_peak', 10000, 10), ('grow_small', 1200000, 50)]" "$level: the exit snapshot"
    sa_expect_json "$SA_TMP/exit.json" "d['snapshot']['traced_peak']" 7297152 "$level: traced peak"
    sa_expect_json "$SA_TMP/exit.json" "$HIST" \
        "[(512, 1023, 10, 10000), (16384, 32767, 50, 1200000)]" "$level: the exit histogram"

    # No block marks the peak: 3600 x 2000 B, then all but 100 freed.  The
    # peak file holds at least 99% of the true peak (the exit's traced_peak).
    rm -rf "$SA_TMP/r"
    sa_cmd run -o "$SA_TMP/r" -- "$P" fine
    sa_expect_status cmd 0 "$level: run fine"
    show_json "$(ls "$SA_TMP/r"/*.peak.snap)" "$SA_TMP/fine.json"
    sa_expect_json "$SA_TMP/fine.json" \
        "[s['site']['function'] for s in d['stats']] == ['grow_fine'] and 3564 <= d['stats'][0]['count'] <= 3600 and d['snapshot']['total_size'] == 2000 * d['stats'][0]['count']" \
        True "$level: the fine peak within 1% ($(sa_json "$SA_TMP/fine.json" "d['stats']"))"
    show_json "$(ls "$SA_TMP/r"/*.1.snap)" "$SA_TMP/fine_exit.json"
    sa_expect_json "$SA_TMP/fine_exit.json" "d['snapshot']['traced_peak']" 7200000 "$level: fine peak"

    # The timeline of 1 MiB steps: 1, 2, 3, 4, 3, 2, 3 MiB (consecutive
    # equal points merged: a snapshot's own point may repeat the last
    # one), in time order, each with a resident size.
    rm -rf "$SA_TMP/r"
    sa_cmd run -o "$SA_TMP/r" -- "$P" steps
    sa_expect_status cmd 0 "$level: run steps"
    show_json "$(ls "$SA_TMP/r"/*.1.snap)" "$SA_TMP/steps.json"
    sa_expect_json "$SA_TMP/steps.json" \
        "[v for i, v in enumerate(p['traced'] / 1048576 for p in d['snapshot']['timeline']) if i == 0 or v != d['snapshot']['timeline'][i - 1]['traced'] / 1048576]" \
        "[1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 3.0]" "$level: timeline steps"
    sa_expect_json "$SA_TMP/steps.json" \
        "all(a['time_ns'] <= b['time_ns'] for a, b in zip(d['snapshot']['timeline'], d['snapshot']['timeline'][1:]))" \
        True "$level: timeline in time order"
    sa_expect_json "$SA_TMP/steps.json" "all(p['rss'] >= 4096 for p in d['snapshot']['timeline'])" \
        True "$level: timeline rss"
    sa_expect_json "$SA_TMP/steps.json" "$HIST" "[(1048576, 2097151, 3, 3145728)]" \
        "$level: steps histogram"
    echo "trace_peak: $level: peak file, timeline, histogram"
done

# Off: SNAPALLOC_PEAK=off (and 0), run --no-peak.
for v in off 0; do
    rm -f "$SA_SNAPS"/*
    sa_run_traced off-$v env SNAPALLOC_PEAK=$v "$P" peak
    sa_expect_status off-$v 0
    sa_expect_stderr off-$v ""
    [ "$(ls "$SA_SNAPS")" = "trace_peak_O2.$(ls "$SA_SNAPS" | cut -d. -f2).1.snap" ] ||
        sa_fail "SNAPALLOC_PEAK=$v: $(ls "$SA_SNAPS")"
done
rm -rf "$SA_TMP/r"
sa_cmd run --no-peak -o "$SA_TMP/r" -- "$P" peak
sa_expect_status cmd 0 "run --no-peak"
! ls "$SA_TMP/r"/*.peak.snap >/dev/null 2>&1 || sa_fail "run --no-peak wrote a peak file"

# A template without %n: the peak file is TEMPLATE.peak; SNAPALLOC_TRACE
# keeps it by default too.
rm -f "$SA_SNAPS"/*
sa_run_traced fixed env SNAPALLOC_SNAPSHOT="$SA_SNAPS/t.snap" "$P" peak
sa_expect_status fixed 0
[ -f "$SA_SNAPS/t.snap.peak" ] || sa_fail "no t.snap.peak: $(ls "$SA_SNAPS")"
sa_snapdump "$SA_SNAPS/t.snap.peak"
sa_expect_eq "$(sa_snap_field "$SA_SNAPS/t.snap.peak" trigger)" 4 "t.snap.peak: trigger"
sa_expect_eq "$(sa_snap_field "$SA_SNAPS/t.snap.peak" size)" 7297152 "t.snap.peak: size"
sa_pass
