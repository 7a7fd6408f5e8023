# cli_show.sh - `snapalloc show` on a snapshot with known sites, sizes and
# counts (written by cli_mksnap): names, lines, sizes, counts, ordering,
# grouping, folding, filters, --top and JSON.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_show

S=cli_mksnap.c
L_small=$(line_of $S small); L_pages=$(line_of $S pages); L_big=$(line_of $S big)
L_dup=$(line_of $S dup); L_x=$(line_of $S xmalloc); L_wrapped=$(line_of $S wrapped)
L_rec=$(line_of $S rec); L_helper=$(line_of $S helper)
F='[^ ]*cli_mksnap\.c'

# Defaults: small=100 (+3 through via_helper) pages=10 big=1 dup=5 wrap=7 rec=2.
"$MK" "$T/a.snap" >/dev/null || fail "cli_mksnap failed"

sa show "$T/a.snap"
expect_rc 0 "show"
expect_line "  total: size=1072 KiB, count=128, stacks=7" "header total"
expect_line "  traced memory: current=1072 KiB, peak=1073 KiB" "header traced"
expect_line "\[ All 6 by line \]" "title"
stat_lines >"$T/stats"
cat >"$T/expected" <<EOF
$F:$L_big alloc_big: size=1024 KiB, count=1, average=1024 KiB
$F:$L_pages alloc_pages: size=40\.0 KiB, count=10, average=4096 B
$F:$L_small alloc_small: size=6592 B, count=103, average=64 B
$F:$L_x xmalloc: size=1792 B, count=7, average=256 B
$F:$L_dup alloc_dup: size=80 B, count=5, average=16 B
$F:$L_rec alloc_rec: size=64 B, count=2, average=32 B
EOF
[ "$(wc -l <"$T/stats")" -eq 6 ] || fail "show: $(wc -l <"$T/stats") stat lines, expected 6"
i=0
while IFS= read -r re; do
    i=$((i + 1))
    sed -n "${i}p" "$T/stats" | grep -Eqx "$re" || fail "show: line $i is '$(sed -n "${i}p" "$T/stats")', expected /$re/"
done <"$T/expected"
# malloc and strdup are folded: never a call site.
expect_no_line ' (malloc|strdup|__strdup|__libc_malloc)[:(]' "folding"

# --wrapper folds xmalloc: its allocations move to its caller.
sa show "$T/a.snap" --wrapper xmalloc --top 0
expect_rc 0 "--wrapper"
expect_line "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper xmalloc"
expect_no_line " xmalloc:" "--wrapper xmalloc"
sa show "$T/a.snap" --wrapper 'xmal*' --wrapper nothing
expect_line "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper pattern"

# --top N keeps the N largest and sums the rest.
sa show "$T/a.snap" --top 2
expect_rc 0 "--top 2"
[ "$(stat_lines | wc -l)" -eq 3 ] || fail "--top 2: expected 2 stat lines and 'other'"
expect_line "\[ Top 2 by line \]" "--top 2 title"
expect_line "4 other: size=8528 B, count=117" "--top 2 other"
sa show "$T/a.snap" --top 0
[ "$(stat_lines | wc -l)" -eq 6 ] || fail "--top 0: expected all 6 lines"

# --by function / file / module.
sa show "$T/a.snap" --by function
expect_line "alloc_small \(cli_mksnap\): size=6592 B, count=103, average=64 B" "--by function"
expect_no_line "^main " "--by function"
sa show "$T/a.snap" --by function --cumulative --top 0
expect_line "main \(cli_mksnap\): size=1072 KiB, count=128, average=8579 B" "--cumulative main"
expect_line "via_helper \(cli_mksnap\): size=192 B, count=3, average=64 B" "--cumulative via_helper"
# Recursion: alloc_rec is three frames deep but charged once per stack.
expect_line "alloc_rec \(cli_mksnap\): size=64 B, count=2, average=32 B" "--cumulative recursion"
expect_line "\[ All 12 cumulative by function \]" "--cumulative title"
sa show "$T/a.snap" --by file
expect_line "$F: size=1072 KiB, count=128, average=8579 B" "--by file"
[ "$(stat_lines | wc -l)" -eq 1 ] || fail "--by file: expected one group"
sa show "$T/a.snap" --by module
expect_line "cli_mksnap: size=1072 KiB, count=128, average=8579 B" "--by module"
sa show "$T/a.snap" --by module --cumulative
expect_line "libc\.so\.6: size=1072 KiB, count=128, average=8579 B" "--by module --cumulative"

# --by traceback: the two stacks through alloc_small stay apart.
sa show "$T/a.snap" --by traceback --top 0
expect_rc 0 "--by traceback"
expect_line "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "traceback main path"
expect_line "$F:$L_small alloc_small: size=192 B, count=3, average=64 B" "traceback helper path"
expect_line "  $F:$L_helper via_helper \(cli_mksnap\)" "traceback frame"
expect_line "  $F:$L_small alloc_small \(cli_mksnap\)" "traceback innermost frame"
sa show "$T/a.snap" --by traceback --json --top 0
expect_json "len(d['stats'])" 7 "traceback JSON groups"
expect_json "[s['count'] for s in d['stats'] if s['site']['function'] == 'alloc_small']" "[100, 3]" "traceback JSON"
expect_json "[(s['frames'][1]['function'], s['frames'][1]['line']) for s in d['stats'] if s['count'] == 3][0]" "('via_helper', $L_helper)" "traceback JSON frames"
expect_json "all(isinstance(f['offset'], int) and f['offset'] > 0 for s in d['stats'] for f in s['frames'])" True "frame offsets"

# An inlined call expands to two frames: the inlined function at the
# allocation's line, then its caller at the call's line.
L_inl=$(line_of $S inl); L_inlcall=$(line_of $S inlcall)
"$MK" "$T/inl.snap" inl=4 >/dev/null || fail "cli_mksnap inl failed"
sa show "$T/inl.snap" --by traceback --include inl_alloc
expect_rc 0 "inlined"
expect_line "$F:$L_inl inl_alloc: size=192 B, count=4, average=48 B" "inlined site"
sed -n '/inl_alloc: size=/,$p' "$T/out" | sed -n '2,3p' >"$T/frames"
grep -Eqx "  $F:$L_inl inl_alloc \(cli_mksnap\)" "$T/frames" || fail "inlined: first frame"
sed -n 2p "$T/frames" | grep -Eqx "  $F:$L_inlcall alloc_inlined \(cli_mksnap\)" || fail "inlined: caller frame"
sa show "$T/inl.snap" --by function --cumulative --include inl_alloc
expect_line "alloc_inlined \(cli_mksnap\): size=192 B, count=4, average=48 B" "inlined caller charged"

# Filters: call site by default, every frame with --all-frames.
sa show "$T/a.snap" --include 'alloc_s*'
expect_line "$F:$L_small alloc_small: size=6592 B, count=103, average=64 B" "--include function"
[ "$(stat_lines | wc -l)" -eq 1 ] || fail "--include alloc_s*: expected one group"
sa show "$T/a.snap" --include via_helper
[ "$(stat_lines | wc -l)" -eq 0 ] || fail "--include via_helper matched a caller without --all-frames"
sa show "$T/a.snap" --include via_helper --all-frames
expect_line "$F:$L_small alloc_small: size=192 B, count=3, average=64 B" "--include --all-frames"
[ "$(stat_lines | wc -l)" -eq 1 ] || fail "--include via_helper --all-frames: expected one group"
sa show "$T/a.snap" --exclude via_helper --all-frames --include 'alloc_small'
expect_line "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "--exclude --all-frames"
sa show "$T/a.snap" --exclude 'cli_mksnap.c'
[ "$(stat_lines | wc -l)" -eq 0 ] || fail "--exclude by file basename kept something"
sa show "$T/a.snap" --include 'alloc_big' --include 'alloc_dup'
[ "$(stat_lines | wc -l)" -eq 2 ] || fail "two --include: expected two groups"
sa show "$T/a.snap" --include 'libc.so*'
[ "$(stat_lines | wc -l)" -eq 0 ] || fail "--include module matched a caller"
sa show "$T/a.snap" --include 'libc.so*' --all-frames
[ "$(stat_lines | wc -l)" -eq 6 ] || fail "--include module --all-frames"

# JSON: exact integers, the header, and parseable strings.
sa show "$T/a.snap" --format json --top 0
expect_rc 0 "--format json"
expect_json "d['snapshot']['total_size']" 1098064 "JSON total_size"
expect_json "d['snapshot']['total_count']" 128 "JSON total_count"
expect_json "d['snapshot']['trigger']" api "JSON trigger"
expect_json "sum(s['size'] for s in d['stats'])" 1098064 "JSON sizes add up"
expect_json "(d['stats'][0]['size'], d['stats'][0]['count'], d['stats'][0]['site']['function'], d['stats'][0]['site']['line'], d['stats'][0]['site']['module'])" "(1048576, 1, 'alloc_big', $L_big, 'cli_mksnap')" "JSON first stat"
expect_json "d['stats'][0]['site']['file'].endswith('cli_mksnap.c')" True "JSON file"
expect_json "[s['site']['function'] for s in d['stats']]" "['alloc_big', 'alloc_pages', 'alloc_small', 'xmalloc', 'alloc_dup', 'alloc_rec']" "JSON order"

# Collapsed stacks for flame graphs: one line per stack, outermost frame
# first, the live bytes last; every stack (no --top), frames by function.
sa show "$T/a.snap" --format collapsed
expect_rc 0 "--format collapsed"
[ "$(wc -l <"$T/out")" -eq 7 ] || fail "collapsed: $(wc -l <"$T/out") lines, expected 7 stacks"
expect_no_line ': size=|^snapshot|^\[' "collapsed: no header or text lines"
expect_line "(.*;)?main;alloc_big 1048576" "collapsed big"
expect_line "(.*;)?main;alloc_small 6400" "collapsed small"
expect_line "(.*;)?main;via_helper;alloc_small 192" "collapsed via_helper"
expect_line "(.*;)?main;alloc_wrapped;xmalloc 1792" "collapsed wrapper caller"
expect_line "(.*;)?main;alloc_rec;alloc_rec;alloc_rec 64" "collapsed recursion"
expect_no_line '(^|;)(malloc|strdup|__strdup|__libc_malloc)( |;)' "collapsed folding"
[ "$(awk '{s += $NF} END {print s}' "$T/out")" = 1098064 ] || fail "collapsed: bytes do not add up to the total"
grep -Evq '^[^ ;][^;]*(;[^;]+)* [0-9]+$' "$T/out" && fail "collapsed: a line is not 'frame;frame;... BYTES'"
sa show "$T/a.snap" --format collapsed --by line --include alloc_small
expect_rc 0 "collapsed --by line"
expect_line "(.*;)?main \(cli_mksnap\.c:[0-9]+\);alloc_small \(cli_mksnap\.c:$L_small\) 6400" "collapsed --by line"
expect_line "(.*;)?via_helper \(cli_mksnap\.c:$L_helper\);alloc_small \(cli_mksnap\.c:$L_small\) 192" "collapsed --by line helper"
sa show "$T/a.snap" --format collapsed --by module
expect_rc 0 "collapsed --by module"
expect_line "(.*;)?libc\.so\.6;cli_mksnap 1098064" "collapsed --by module: one line, runs of a module merged"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "collapsed --by module: $(wc -l <"$T/out") lines, expected 1"
sa show "$T/a.snap" --format collapsed --top 2
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "collapsed --top 2: expected 2 lines"
expect_line "(.*;)?main;alloc_big 1048576" "collapsed --top 2 largest first"
sa show "$T/a.snap" --format collapsed --cumulative
expect_rc 2 "collapsed --cumulative"
expect_one_error "collapsed --cumulative"
sa show "$T/a.snap" --format xml
expect_rc 2 "--format xml"
expect_one_error "--format xml"

# Strings needing escapes (quote, backslash, tab, invalid UTF-8) in the
# command line recorded in the snapshot.
odd=$(printf '%s/q"b\\s\tx\377.snap' "$T")
"$MK" "$odd" small=1 >/dev/null || fail "cli_mksnap (odd name) failed"
sa show "$odd" --json
expect_rc 0 "JSON escapes"
expect_json "'q\"b\\\\s\\tx\\ufffd.snap small=1' in d['snapshot']['cmdline']" True "JSON escapes"
expect_json "d['snapshot']['path'].endswith('q\"b\\\\s\\tx\\ufffd.snap')" True "JSON escapes in path"
exit 0
