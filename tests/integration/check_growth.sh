# check_growth.sh - the growth budget (--max-growth): live memory at exit
# against the baseline snapshot, pass and fail, the diff listing of the top
# growing sites, no baseline taken, JSON and JUnit.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_growth
S=check_mkset.c
F='[^ ]*check_mkset\.c'

L_small=$(sa_line_of $S small); L_big=$(sa_line_of $S big)
D=$SA_TMP/d
# Baseline 10 x 64 = 640 live; exit 30 x 64 + 1 MiB = 1,050,496: +1,049,856.
sa_mkset "$D" baseline:small=10 exit:small=30 exit:big=1
PID_D=$SA_PID
sa_cmd check --analyze "$D" --max-growth 2M
sa_expect_status cmd 0 "within budget"
sa_expect_err_line cmd "growth \(pid $SA_PID\): \+1,049,856 bytes since the baseline \(640 -> 1,050,496 bytes live\), budget 2,097,152 bytes: ok" "growth ok"
sa_expect_err_line cmd "snapalloc check: passed" "growth ok verdict"

sa_cmd check --analyze "$D" --max-growth 1M
sa_expect_status cmd 23 "over budget"
sa_expect_err_line cmd "growth \(pid $SA_PID\): \+1,049,856 bytes since the baseline \(640 -> 1,050,496 bytes live\), budget 1,048,576 bytes: exceeded" "growth exceeded"
sa_expect_err_line cmd "snapalloc check: FAILED: growth over budget \(exit status 23\)" "growth verdict"
# The listing is `snapalloc diff`'s, largest change first.
sa_expect_err_line cmd "\[ All 2 differences by line \]" "diff title"
sa_expect_err_line cmd "$F:$L_big alloc_big: size=1024 KiB \(\+1024 KiB\), count=1 \(\+1\), average=1024 KiB" "diff big"
sa_expect_err_line cmd "$F:$L_small alloc_small: size=1920 B \(\+1280 B\), count=30 \(\+20\), average=64 B" "diff small"
grep -E 'alloc_(big|small): size=' "$SA_TMP/cmd.err" | head -1 | grep -q alloc_big || sa_fail "diff order"
"$SNAPALLOC_CMD" diff "$D/$SA_PID.baseline.snap" "$D/$SA_PID.exit.snap" >"$SA_TMP/diff.txt"
grep -F -f "$SA_TMP/diff.txt" "$SA_TMP/cmd.err" | wc -l | grep -qx "$(wc -l <"$SA_TMP/diff.txt")" ||
    sa_fail "the growth listing differs from snapalloc diff's"
sa_cmd check --analyze "$D" --max-growth 1M --top 1
sa_expect_err_line cmd "\[ Top 1 differences by line \]" "--top limits the diff"

# Exactly at the budget passes; one byte less fails.
sa_cmd check --analyze "$D" --max-growth 1049856
sa_expect_status cmd 0 "growth == budget"
sa_cmd check --analyze "$D" --max-growth 1049855
sa_expect_status cmd 23 "growth == budget + 1"
# --fail-on without growth: reported, does not fail.
sa_cmd check --analyze "$D" --max-growth 1K --fail-on definite --exitcode 5
sa_expect_status cmd 0 "growth not in --fail-on"
sa_expect_err_line cmd "growth .*: exceeded" "still reported"
sa_cmd check --analyze "$D" --max-growth 1K --fail-on growth --exitcode 5
sa_expect_status cmd 5 "--fail-on growth"

# Shrinking memory never fails.
sa_mkset "$SA_TMP/s" baseline:big=1 exit:small=1
sa_cmd check --analyze "$SA_TMP/s" --max-growth 0
sa_expect_status cmd 0 "shrink"
sa_expect_err_line cmd "growth \(pid $SA_PID\): -1,048,512 bytes since the baseline \(1,048,576 -> 64 bytes live\), budget 0 bytes: ok" "shrink line"

# No baseline: one line, growth not checked, no failure.
sa_mkset "$SA_TMP/nb" exit:big=4
sa_cmd check --analyze "$SA_TMP/nb" --max-growth 0
sa_expect_status cmd 0 "no baseline"
sa_expect_err_line cmd "snapalloc: pid $SA_PID: no baseline taken \(--warmup SECONDS or snapalloc_mark_baseline\(\)\); growth not checked" "no baseline line"
[ "$(grep -c 'baseline' "$SA_TMP/cmd.err")" -eq 1 ] || sa_fail "no baseline: one line"
sa_cmd check --analyze "$SA_TMP/nb" --max-growth 0 --report "$SA_TMP/nb.json"
sa_expect_json "$SA_TMP/nb.json" "d['growth']" "{'max_growth': 0, 'exceeded': False, 'processes': [{'pid': $SA_PID, 'baseline': False}]}" "json no baseline"

# JSON and JUnit.
sa_cmd check --analyze "$D" --max-growth 1M --report "$SA_TMP/g.json"
R=$SA_TMP/g.json
sa_expect_json "$R" "d['passed'], d['failed']" "(False, ['growth'])" "json failed"
sa_expect_json "$R" "[(p['pid'], p['baseline_bytes'], p['exit_bytes'], p['growth_bytes'], p['exceeded']) for p in d['growth']['processes']]" \
    "[($PID_D, 640, 1050496, 1049856, True)]" "json growth"
sa_expect_json "$R" "d['growth']['max_growth'], d['growth']['exceeded']" "(1048576, True)" "json budget"
sa_expect_json "$R" "[(s['site']['function'], s['size_diff'], s['count_diff']) for s in d['growth']['processes'][0]['diff']['stats']]" \
    "[('alloc_big', 1048576, 1), ('alloc_small', 1280, 20)]" "json diff embedded"
sa_cmd check --analyze "$D" --max-growth 1M --report "$SA_TMP/g.xml"
sa_expect_xml "$SA_TMP/g.xml" "x.get('tests'), x.get('failures')" "('2', '1')" "junit growth counts"
sa_expect_xml "$SA_TMP/g.xml" "[(c.get('classname'), c.find('failure').get('type') if c.find('failure') is not None else None) for c in x.iter('testcase')]" \
    "[('snapalloc.growth', 'growth'), ('snapalloc.leak', None)]" "junit growth testcase"

sa_pass
