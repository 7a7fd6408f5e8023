#!/bin/sh
# heuristics.sh - memcheck's interior-pointer heuristics, chosen and
# reported, against memcheck itself:
#   - with the heuristics off on both sides (memcheck's
#     --leak-check-heuristics=none, SNAPALLOC_CHECK_HEURISTICS=none) each
#     heuristic's program loses its block "possibly", with equal numbers
#     (corpus2.sh compares them with the heuristics on, "reachable via
#     heuristic" lines included);
#   - `snapalloc check` prints memcheck's "of which reachable via
#     heuristic" line and the JSON report's reachable_via_heuristic, and
#     --heuristics LIST chooses them as memcheck's option does.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init heuristics

SNAPALLOC_CHECK_HEURISTICS=none
MC_VG_OPTS=--leak-check-heuristics=none
export SNAPALLOC_CHECK_HEURISTICS
mc_case heur_stdstring "0/0 0/0 64/1" "0/0 0/0 64/1"
mc_case heur_length64 "0/0 0/0 72/1" "0/0 0/0 72/1"
mc_case heur_newarray "0/0 0/0 168/1" "0/0 0/0 168/1"
mc_case heur_multi_inherit "0/0 0/0 40/1" "0/0 0/0 40/1"
# Only the named heuristics are on.  length64's block (a first word of 64
# before 64 bytes) is also what newarray recognises: memcheck reaches it
# "via heuristic newarray" then, and so must the check; the C++ object
# stays possibly lost.
SNAPALLOC_CHECK_HEURISTICS=stdstring,newarray
MC_VG_OPTS=--leak-check-heuristics=stdstring,newarray
mc_case heur_length64 "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case heur_newarray "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case heur_multi_inherit "0/0 0/0 40/1" "0/0 0/0 40/1"
unset SNAPALLOC_CHECK_HEURISTICS
MC_VG_OPTS=

# The command.
P=$MC_BIN/heur_length64_O2
sa_run_plain cmd_all "$SNAPALLOC_CMD" check --show definite,indirect,possible,reachable \
    --report "$SA_TMP/all.json" -- "$P"
sa_expect_status cmd_all 0 "check (all heuristics)"
grep -qx '  of which reachable via heuristic length64: 72 bytes in 1 blocks' "$SA_TMP/cmd_all.err" ||
    { sa_show cmd_all; sa_fail "no 'reachable via heuristic length64' line"; }
grep -qx 'possibly lost: 0 bytes in 0 blocks' "$SA_TMP/cmd_all.err" ||
    { sa_show cmd_all; sa_fail "possibly lost with the heuristics on"; }
python3 - "$SA_TMP/all.json" <<'PY' || sa_fail "JSON reachable_via_heuristic"
import json, sys
h = json.load(open(sys.argv[1]))["summary"]["reachable_via_heuristic"]
want = {"stdstring": [0, 0], "length64": [72, 1], "newarray": [0, 0], "multipleinheritance": [0, 0]}
got = {k: [v["bytes"], v["blocks"]] for k, v in h.items()}
if got != want:
    print("got", got, "want", want)
    sys.exit(1)
PY
# Without --show reachable the line stands alone.
sa_run_plain cmd_def "$SNAPALLOC_CMD" check -- "$P"
grep -qx 'reachable via heuristic length64: 72 bytes in 1 blocks' "$SA_TMP/cmd_def.err" ||
    { sa_show cmd_def; sa_fail "no 'reachable via heuristic' line by default"; }
# --heuristics none: possibly lost, which fails with --fail-on possible.
sa_run_plain cmd_none "$SNAPALLOC_CMD" check --heuristics none --fail-on possible -- "$P"
sa_expect_status cmd_none 23 "--heuristics none --fail-on possible"
grep -qx 'possibly lost: 72 bytes in 1 blocks' "$SA_TMP/cmd_none.err" ||
    { sa_show cmd_none; sa_fail "--heuristics none: not possibly lost"; }
grep -q 'via heuristic' "$SA_TMP/cmd_none.err" && { sa_show cmd_none; sa_fail "--heuristics none: a heuristic line"; }
sa_run_plain cmd_one "$SNAPALLOC_CMD" check --heuristics length64 --fail-on possible -- "$P"
sa_expect_status cmd_one 0 "--heuristics length64"
# Garbage is refused with one line, before the program runs.
for bad in bogus "length64,," "" "all,none" "LENGTH64"; do
    sa_run_plain cmd_bad "$SNAPALLOC_CMD" check --heuristics "$bad" -- sh -c 'echo ran'
    sa_expect_status cmd_bad 2 "--heuristics '$bad'"
    [ "$(wc -l <"$SA_TMP/cmd_bad.err")" = 1 ] && grep -q '^snapalloc: --heuristics: ' "$SA_TMP/cmd_bad.err" ||
        { sa_show cmd_bad; sa_fail "--heuristics '$bad': not one line"; }
    [ ! -s "$SA_TMP/cmd_bad.out" ] || sa_fail "--heuristics '$bad': the program ran"
done
sa_run_plain cmd_an "$SNAPALLOC_CMD" check --analyze "$SA_TMP" --heuristics none
sa_expect_status cmd_an 2 "--heuristics with --analyze"

mc_done
