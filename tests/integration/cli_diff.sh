# cli_diff.sh - `snapalloc diff` across two SEPARATE runs of the same PIE
# binary (different load addresses): groups must match by symbol, with
# exact size and count differences, tracemalloc's ordering, groups that
# vanished, --min-diff, --top and JSON.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_diff

S=cli_mksnap.c
L_small=$(line_of $S small); L_pages=$(line_of $S pages); L_big=$(line_of $S big)
L_gone=$(line_of $S gone); L_x=$(line_of $S xmalloc)
F='[^ ]*cli_mksnap\.c'

# Run 1: small 10 (+3 via helper), gone 5; run 2: small 30 (+3), pages 12.
"$MK" "$T/old.snap" small=10 gone=5 >"$T/base1" || fail "cli_mksnap 1 failed"
"$MK" "$T/new.snap" small=30 pages=12 >"$T/base2" || fail "cli_mksnap 2 failed"
if [ "$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo 0)" != 0 ]; then
    # Otherwise the test would not show that diff ignores addresses.
    cmp -s "$T/base1" "$T/base2" && fail "the two runs loaded at the same address: $(cat "$T/base1")"
fi

sa diff "$T/old.snap" "$T/new.snap" --top 0
expect_rc 0 "diff"
expect_line "\[ All 7 differences by line \]" "diff title"
stat_lines >"$T/stats"
cat >"$T/expected" <<EOF
$F:$L_pages alloc_pages: size=48\.0 KiB \(\+8192 B\), count=12 \(\+2\), average=4096 B
$F:$L_small alloc_small: size=2112 B \(\+1280 B\), count=33 \(\+20\), average=64 B
$F:$L_gone alloc_gone: size=0 B \(-40 B\), count=0 \(-5\)
$F:$L_big alloc_big: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB
$F:$L_x xmalloc: size=1792 B \(\+0 B\), count=7 \(\+0\), average=256 B
EOF
i=0
while IFS= read -r re; do
    i=$((i + 1))
    sed -n "${i}p" "$T/stats" | grep -Eqx "$re" || fail "diff: line $i is '$(sed -n "${i}p" "$T/stats")', expected /$re/"
done <"$T/expected"
[ "$(wc -l <"$T/stats")" -eq 7 ] || fail "diff: $(wc -l <"$T/stats") stat lines, expected 7"

# --min-diff drops the small changes (and the unchanged groups).
sa diff "$T/old.snap" "$T/new.snap" --min-diff 2K
expect_rc 0 "--min-diff"
[ "$(stat_lines | wc -l)" -eq 1 ] || fail "--min-diff 2K: expected only alloc_pages"
expect_line "$F:$L_pages alloc_pages: size=48\.0 KiB \(\+8192 B\), count=12 \(\+2\), average=4096 B" "--min-diff"
sa diff "$T/old.snap" "$T/new.snap" --min-diff 40
[ "$(stat_lines | wc -l)" -eq 3 ] || fail "--min-diff 40: expected 3 groups (40 B is kept)"

sa diff "$T/old.snap" "$T/new.snap" --top 1
expect_line "6 other: size=1028 KiB \(\+1240 B\), count=48 \(\+15\)" "diff --top 1 other"

# Grouping options apply to diff too.
sa diff "$T/old.snap" "$T/new.snap" --by function --include 'alloc_small'
expect_line "alloc_small \(cli_mksnap\): size=2112 B \(\+1280 B\), count=33 \(\+20\), average=64 B" "diff --by function"
sa diff "$T/old.snap" "$T/new.snap" --by traceback --include alloc_small
expect_line "$F:$L_small alloc_small: size=1920 B \(\+1280 B\), count=30 \(\+20\), average=64 B" "diff --by traceback"
expect_line "$F:$L_small alloc_small: size=192 B \(\+0 B\), count=3 \(\+0\), average=64 B" "diff --by traceback helper"
sa diff "$T/old.snap" "$T/new.snap" --by module
expect_line "cli_mksnap: size=1076 KiB \(\+9432 B\), count=60 \(\+17\), average=17\.9 KiB" "diff --by module"

# Collapsed stacks with the old and the new bytes (difffolded.pl's form).
sa diff "$T/old.snap" "$T/new.snap" --format collapsed
expect_rc 0 "diff --format collapsed"
expect_line "(.*;)?main;alloc_pages 40960 49152" "collapsed diff pages"
expect_line "(.*;)?main;alloc_small 640 1920" "collapsed diff small"
expect_line "(.*;)?main;via_helper;alloc_small 192 192" "collapsed diff helper"
expect_line "(.*;)?main;alloc_gone 40 0" "collapsed diff gone"
[ "$(wc -l <"$T/out")" -eq 8 ] || fail "collapsed diff: $(wc -l <"$T/out") lines, expected 8 stacks"
sa diff "$T/old.snap" "$T/new.snap" --format collapsed --min-diff 1K
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "collapsed diff --min-diff 1K: expected pages and small"

# A snapshot against itself: nothing changed.
sa diff "$T/new.snap" "$T/new.snap" --json --top 0
expect_json "all(s['size_diff'] == 0 and s['count_diff'] == 0 for s in d['stats'])" True "self diff"

# JSON: exact integers, the vanished group with size 0.
sa diff "$T/old.snap" "$T/new.snap" --format json --top 0
expect_rc 0 "diff --json"
expect_json "(d['stats'][0]['site']['function'], d['stats'][0]['size'], d['stats'][0]['size_diff'], d['stats'][0]['count'], d['stats'][0]['count_diff'])" "('alloc_pages', 49152, 8192, 12, 2)" "diff JSON first"
expect_json "[(s['size'], s['size_diff'], s['count'], s['count_diff']) for s in d['stats'] if s['site']['function'] == 'alloc_gone']" "[(0, -40, 0, -5)]" "diff JSON vanished group"
expect_json "(d['old']['total_size'], d['new']['total_size'])" "(1092344, 1101776)" "diff JSON headers"
expect_json "sum(s['size_diff'] for s in d['stats'])" 9432 "diff JSON size_diff sum"
exit 0
