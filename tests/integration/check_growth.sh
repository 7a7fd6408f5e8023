# check_growth.sh - the growth budget (--max-growth): live memory at exit
# against the baseline snapshot, pass and fail, the diff listing of the top
# growing sites, no baseline taken, JSON and JUnit.
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_growth

L_small=$(line_of $S small); L_big=$(line_of $S big)
D=$T/d
# Baseline 10 x 64 = 640 live; exit 30 x 64 + 1 MiB = 1,050,496: +1,049,856.
mkset "$D" baseline:small=10 exit:small=30 exit:big=1
PID_D=$PID
sa check --analyze "$D" --max-growth 2M
expect_rc 0 "within budget"
expect_err_line "growth \(pid $PID\): \+1,049,856 bytes since the baseline \(640 -> 1,050,496 bytes live\), budget 2,097,152 bytes: ok" "growth ok"
expect_err_line "snapalloc check: passed" "growth ok verdict"

sa check --analyze "$D" --max-growth 1M
expect_rc 23 "over budget"
expect_err_line "growth \(pid $PID\): \+1,049,856 bytes since the baseline \(640 -> 1,050,496 bytes live\), budget 1,048,576 bytes: exceeded" "growth exceeded"
expect_err_line "snapalloc check: FAILED: growth over budget \(exit status 23\)" "growth verdict"
# The listing is `snapalloc diff`'s, largest change first.
expect_err_line "\[ All 2 differences by line \]" "diff title"
expect_err_line "$F:$L_big alloc_big: size=1024 KiB \(\+1024 KiB\), count=1 \(\+1\), average=1024 KiB" "diff big"
expect_err_line "$F:$L_small alloc_small: size=1920 B \(\+1280 B\), count=30 \(\+20\), average=64 B" "diff small"
grep -E 'alloc_(big|small): size=' "$T/err" | head -1 | grep -q alloc_big || fail "diff order"
"$SNAPALLOC_CMD" diff "$D/$PID.baseline.snap" "$D/$PID.exit.snap" >"$T/diff.txt"
grep -F -f "$T/diff.txt" "$T/err" | wc -l | grep -qx "$(wc -l <"$T/diff.txt")" ||
    fail "the growth listing differs from snapalloc diff's"
sa check --analyze "$D" --max-growth 1M --top 1
expect_err_line "\[ Top 1 differences by line \]" "--top limits the diff"

# Exactly at the budget passes; one byte less fails.
sa check --analyze "$D" --max-growth 1049856
expect_rc 0 "growth == budget"
sa check --analyze "$D" --max-growth 1049855
expect_rc 23 "growth == budget + 1"
# --fail-on without growth: reported, does not fail.
sa check --analyze "$D" --max-growth 1K --fail-on definite --exitcode 5
expect_rc 0 "growth not in --fail-on"
expect_err_line "growth .*: exceeded" "still reported"
sa check --analyze "$D" --max-growth 1K --fail-on growth --exitcode 5
expect_rc 5 "--fail-on growth"

# Shrinking memory never fails.
mkset "$T/s" baseline:big=1 exit:small=1
sa check --analyze "$T/s" --max-growth 0
expect_rc 0 "shrink"
expect_err_line "growth \(pid $PID\): -1,048,512 bytes since the baseline \(1,048,576 -> 64 bytes live\), budget 0 bytes: ok" "shrink line"

# No baseline: one line, growth not checked, no failure.
mkset "$T/nb" exit:big=4
sa check --analyze "$T/nb" --max-growth 0
expect_rc 0 "no baseline"
expect_err_line "snapalloc: pid $PID: no baseline taken \(--warmup SECONDS or snapalloc_mark_baseline\(\)\); growth not checked" "no baseline line"
[ "$(grep -c 'baseline' "$T/err")" -eq 1 ] || fail "no baseline: one line"
sa check --analyze "$T/nb" --max-growth 0 --report "$T/nb.json"
expect_jq "$T/nb.json" "d['growth']" "{'max_growth': 0, 'exceeded': False, 'processes': [{'pid': $PID, 'baseline': False}]}" "json no baseline"

# JSON and JUnit.
sa check --analyze "$D" --max-growth 1M --report "$T/g.json"
R=$T/g.json
expect_jq "$R" "d['passed'], d['failed']" "(False, ['growth'])" "json failed"
expect_jq "$R" "[(p['pid'], p['baseline_bytes'], p['exit_bytes'], p['growth_bytes'], p['exceeded']) for p in d['growth']['processes']]" \
    "[($PID_D, 640, 1050496, 1049856, True)]" "json growth"
expect_jq "$R" "d['growth']['max_growth'], d['growth']['exceeded']" "(1048576, True)" "json budget"
expect_jq "$R" "[(s['site']['function'], s['size_diff'], s['count_diff']) for s in d['growth']['processes'][0]['diff']['stats']]" \
    "[('alloc_big', 1048576, 1), ('alloc_small', 1280, 20)]" "json diff embedded"
sa check --analyze "$D" --max-growth 1M --report "$T/g.xml"
expect_xq "$T/g.xml" "x.get('tests'), x.get('failures')" "('2', '1')" "junit growth counts"
expect_xq "$T/g.xml" "[(c.get('classname'), c.find('failure').get('type') if c.find('failure') is not None else None) for c in x.iter('testcase')]" \
    "[('snapalloc.growth', 'growth'), ('snapalloc.leak', None)]" "junit growth testcase"

echo "PASS: check_growth"
