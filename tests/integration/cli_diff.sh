# cli_diff.sh - `snapalloc diff` across two SEPARATE runs of the same PIE
# binary (different load addresses): groups must match by symbol, with
# exact size and count differences, tracemalloc's ordering, groups that
# vanished, --min-diff, --top and JSON.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_diff
MK=$(sa_helper cli_mksnap)

S=cli_mksnap.c
L_small=$(sa_line_of $S small); L_pages=$(sa_line_of $S pages); L_big=$(sa_line_of $S big)
L_gone=$(sa_line_of $S gone); L_x=$(sa_line_of $S xmalloc)
F='[^ ]*cli_mksnap\.c'

# Run 1: small 10 (+3 via helper), gone 5; run 2: small 30 (+3), pages 12.
"$MK" "$SA_TMP/old.snap" small=10 gone=5 >"$SA_TMP/base1" || sa_fail "cli_mksnap 1 failed"
"$MK" "$SA_TMP/new.snap" small=30 pages=12 >"$SA_TMP/base2" || sa_fail "cli_mksnap 2 failed"
if [ "$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo 0)" != 0 ]; then
    # Otherwise the test would not show that diff ignores addresses.
    cmp -s "$SA_TMP/base1" "$SA_TMP/base2" && sa_fail "the two runs loaded at the same address: $(cat "$SA_TMP/base1")"
fi

sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --top 0
sa_expect_status cmd 0 "diff"
sa_expect_line cmd "\[ All 7 differences by line \]" "diff title"
sa_site_lines cmd >"$SA_TMP/stats"
cat >"$SA_TMP/expected" <<EOF
$F:$L_pages alloc_pages: size=48\.0 KiB \(\+8192 B\), count=12 \(\+2\), average=4096 B
$F:$L_small alloc_small: size=2112 B \(\+1280 B\), count=33 \(\+20\), average=64 B
$F:$L_gone alloc_gone: size=0 B \(-40 B\), count=0 \(-5\)
$F:$L_big alloc_big: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB
$F:$L_x xmalloc: size=1792 B \(\+0 B\), count=7 \(\+0\), average=256 B
EOF
i=0
while IFS= read -r re; do
    i=$((i + 1))
    sed -n "${i}p" "$SA_TMP/stats" | grep -Eqx "$re" || sa_fail "diff: line $i is '$(sed -n "${i}p" "$SA_TMP/stats")', expected /$re/"
done <"$SA_TMP/expected"
[ "$(wc -l <"$SA_TMP/stats")" -eq 7 ] || sa_fail "diff: $(wc -l <"$SA_TMP/stats") stat lines, expected 7"

# --min-diff drops the small changes (and the unchanged groups).
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --min-diff 2K
sa_expect_status cmd 0 "--min-diff"
[ "$(sa_site_lines cmd | wc -l)" -eq 1 ] || sa_fail "--min-diff 2K: expected only alloc_pages"
sa_expect_line cmd "$F:$L_pages alloc_pages: size=48\.0 KiB \(\+8192 B\), count=12 \(\+2\), average=4096 B" "--min-diff"
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --min-diff 40
[ "$(sa_site_lines cmd | wc -l)" -eq 3 ] || sa_fail "--min-diff 40: expected 3 groups (40 B is kept)"

sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --top 1
sa_expect_line cmd "6 other: size=1028 KiB \(\+1240 B\), count=48 \(\+15\)" "diff --top 1 other"

# Grouping options apply to diff too.
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --by function --include 'alloc_small'
sa_expect_line cmd "alloc_small \(cli_mksnap\): size=2112 B \(\+1280 B\), count=33 \(\+20\), average=64 B" "diff --by function"
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --by traceback --include alloc_small
sa_expect_line cmd "$F:$L_small alloc_small: size=1920 B \(\+1280 B\), count=30 \(\+20\), average=64 B" "diff --by traceback"
sa_expect_line cmd "$F:$L_small alloc_small: size=192 B \(\+0 B\), count=3 \(\+0\), average=64 B" "diff --by traceback helper"
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --by module
sa_expect_line cmd "cli_mksnap: size=1076 KiB \(\+9432 B\), count=60 \(\+17\), average=17\.9 KiB" "diff --by module"

# Collapsed stacks with the old and the new bytes (difffolded.pl's form).
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --format collapsed
sa_expect_status cmd 0 "diff --format collapsed"
sa_expect_line cmd "(.*;)?main;alloc_pages 40960 49152" "collapsed diff pages"
sa_expect_line cmd "(.*;)?main;alloc_small 640 1920" "collapsed diff small"
sa_expect_line cmd "(.*;)?main;via_helper;alloc_small 192 192" "collapsed diff helper"
sa_expect_line cmd "(.*;)?main;alloc_gone 40 0" "collapsed diff gone"
[ "$(wc -l <"$SA_TMP/cmd.out")" -eq 8 ] || sa_fail "collapsed diff: $(wc -l <"$SA_TMP/cmd.out") lines, expected 8 stacks"
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --format collapsed --min-diff 1K
[ "$(wc -l <"$SA_TMP/cmd.out")" -eq 2 ] || sa_fail "collapsed diff --min-diff 1K: expected pages and small"

# A snapshot against itself: nothing changed.
sa_cmd diff "$SA_TMP/new.snap" "$SA_TMP/new.snap" --json --top 0
sa_expect_json "$SA_TMP/cmd.out" "all(s['size_diff'] == 0 and s['count_diff'] == 0 for s in d['stats'])" True "self diff"

# JSON: exact integers, the vanished group with size 0.
sa_cmd diff "$SA_TMP/old.snap" "$SA_TMP/new.snap" --format json --top 0
sa_expect_status cmd 0 "diff --json"
sa_expect_json "$SA_TMP/cmd.out" "(d['stats'][0]['site']['function'], d['stats'][0]['size'], d['stats'][0]['size_diff'], d['stats'][0]['count'], d['stats'][0]['count_diff'])" "('alloc_pages', 49152, 8192, 12, 2)" "diff JSON first"
sa_expect_json "$SA_TMP/cmd.out" "[(s['size'], s['size_diff'], s['count'], s['count_diff']) for s in d['stats'] if s['site']['function'] == 'alloc_gone']" "[(0, -40, 0, -5)]" "diff JSON vanished group"
sa_expect_json "$SA_TMP/cmd.out" "(d['old']['total_size'], d['new']['total_size'])" "(1092344, 1101776)" "diff JSON headers"
sa_expect_json "$SA_TMP/cmd.out" "sum(s['size_diff'] for s in d['stats'])" 9432 "diff JSON size_diff sum"
sa_pass
