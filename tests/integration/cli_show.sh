# cli_show.sh - `snapalloc show` on a snapshot with known sites, sizes and
# counts (written by cli_mksnap): names, lines, sizes, counts, ordering,
# grouping, folding, filters, --top and JSON.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_show
MK=$(sa_helper cli_mksnap)

S=cli_mksnap.c
L_small=$(sa_line_of $S small); L_pages=$(sa_line_of $S pages); L_big=$(sa_line_of $S big)
L_dup=$(sa_line_of $S dup); L_x=$(sa_line_of $S xmalloc); L_wrapped=$(sa_line_of $S wrapped)
L_rec=$(sa_line_of $S rec); L_helper=$(sa_line_of $S helper)
F='[^ ]*cli_mksnap\.c'

# Defaults: small=100 (+3 through via_helper) pages=10 big=1 dup=5 wrap=7 rec=2.
"$MK" "$SA_TMP/a.snap" >/dev/null || sa_fail "cli_mksnap failed"

sa_cmd show "$SA_TMP/a.snap"
sa_expect_status cmd 0 "show"
sa_expect_line cmd "  total: size=1072 KiB, count=128, stacks=7" "header total"
sa_expect_line cmd "  traced memory: current=1072 KiB, peak=1073 KiB" "header traced"
sa_expect_line cmd "\[ All 6 by line \]" "title"
sa_site_lines cmd >"$SA_TMP/stats"
cat >"$SA_TMP/expected" <<EOF
$F:$L_big alloc_big: size=1024 KiB, count=1, average=1024 KiB
$F:$L_pages alloc_pages: size=40\.0 KiB, count=10, average=4096 B
$F:$L_small alloc_small: size=6592 B, count=103, average=64 B
$F:$L_x xmalloc: size=1792 B, count=7, average=256 B
$F:$L_dup alloc_dup: size=80 B, count=5, average=16 B
$F:$L_rec alloc_rec: size=64 B, count=2, average=32 B
EOF
[ "$(wc -l <"$SA_TMP/stats")" -eq 6 ] || sa_fail "show: $(wc -l <"$SA_TMP/stats") stat lines, expected 6"
i=0
while IFS= read -r re; do
    i=$((i + 1))
    sed -n "${i}p" "$SA_TMP/stats" | grep -Eqx "$re" || sa_fail "show: line $i is '$(sed -n "${i}p" "$SA_TMP/stats")', expected /$re/"
done <"$SA_TMP/expected"
# malloc and strdup are folded: never a call site.
sa_expect_no_line cmd ' (malloc|strdup|__strdup|__libc_malloc)[:(]' "folding"

# --wrapper folds xmalloc: its allocations move to its caller.
sa_cmd show "$SA_TMP/a.snap" --wrapper xmalloc --top 0
sa_expect_status cmd 0 "--wrapper"
sa_expect_line cmd "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper xmalloc"
sa_expect_no_line cmd " xmalloc:" "--wrapper xmalloc"
sa_cmd show "$SA_TMP/a.snap" --wrapper 'xmal*' --wrapper nothing
sa_expect_line cmd "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper pattern"

# --top N keeps the N largest and sums the rest.
sa_cmd show "$SA_TMP/a.snap" --top 2
sa_expect_status cmd 0 "--top 2"
[ "$(sa_site_lines cmd | wc -l)" -eq 3 ] || sa_fail "--top 2: expected 2 stat lines and 'other'"
sa_expect_line cmd "\[ Top 2 by line \]" "--top 2 title"
sa_expect_line cmd "4 other: size=8528 B, count=117" "--top 2 other"
sa_cmd show "$SA_TMP/a.snap" --top 0
[ "$(sa_site_lines cmd | wc -l)" -eq 6 ] || sa_fail "--top 0: expected all 6 lines"

# --by function / file / module.
sa_cmd show "$SA_TMP/a.snap" --by function
sa_expect_line cmd "alloc_small \(cli_mksnap\): size=6592 B, count=103, average=64 B" "--by function"
sa_expect_no_line cmd "^main " "--by function"
sa_cmd show "$SA_TMP/a.snap" --by function --cumulative --top 0
sa_expect_line cmd "main \(cli_mksnap\): size=1072 KiB, count=128, average=8579 B" "--cumulative main"
sa_expect_line cmd "via_helper \(cli_mksnap\): size=192 B, count=3, average=64 B" "--cumulative via_helper"
# Recursion: alloc_rec is three frames deep but charged once per stack.
sa_expect_line cmd "alloc_rec \(cli_mksnap\): size=64 B, count=2, average=32 B" "--cumulative recursion"
sa_expect_line cmd "\[ All 12 cumulative by function \]" "--cumulative title"
sa_cmd show "$SA_TMP/a.snap" --by file
sa_expect_line cmd "$F: size=1072 KiB, count=128, average=8579 B" "--by file"
[ "$(sa_site_lines cmd | wc -l)" -eq 1 ] || sa_fail "--by file: expected one group"
sa_cmd show "$SA_TMP/a.snap" --by module
sa_expect_line cmd "cli_mksnap: size=1072 KiB, count=128, average=8579 B" "--by module"
sa_cmd show "$SA_TMP/a.snap" --by module --cumulative
sa_expect_line cmd "libc\.so\.6: size=1072 KiB, count=128, average=8579 B" "--by module --cumulative"

# --by traceback: the two stacks through alloc_small stay apart.
sa_cmd show "$SA_TMP/a.snap" --by traceback --top 0
sa_expect_status cmd 0 "--by traceback"
sa_expect_line cmd "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "traceback main path"
sa_expect_line cmd "$F:$L_small alloc_small: size=192 B, count=3, average=64 B" "traceback helper path"
sa_expect_line cmd "  $F:$L_helper via_helper \(cli_mksnap\)" "traceback frame"
sa_expect_line cmd "  $F:$L_small alloc_small \(cli_mksnap\)" "traceback innermost frame"
sa_cmd show "$SA_TMP/a.snap" --by traceback --json --top 0
sa_expect_json "$SA_TMP/cmd.out" "len(d['stats'])" 7 "traceback JSON groups"
sa_expect_json "$SA_TMP/cmd.out" "[s['count'] for s in d['stats'] if s['site']['function'] == 'alloc_small']" "[100, 3]" "traceback JSON"
sa_expect_json "$SA_TMP/cmd.out" "[(s['frames'][1]['function'], s['frames'][1]['line']) for s in d['stats'] if s['count'] == 3][0]" "('via_helper', $L_helper)" "traceback JSON frames"
sa_expect_json "$SA_TMP/cmd.out" "all(isinstance(f['offset'], int) and f['offset'] > 0 for s in d['stats'] for f in s['frames'])" True "frame offsets"

# An inlined call expands to two frames: the inlined function at the
# allocation's line, then its caller at the call's line.
L_inl=$(sa_line_of $S inl); L_inlcall=$(sa_line_of $S inlcall)
"$MK" "$SA_TMP/inl.snap" inl=4 >/dev/null || sa_fail "cli_mksnap inl failed"
sa_cmd show "$SA_TMP/inl.snap" --by traceback --include inl_alloc
sa_expect_status cmd 0 "inlined"
sa_expect_line cmd "$F:$L_inl inl_alloc: size=192 B, count=4, average=48 B" "inlined site"
sed -n '/inl_alloc: size=/,$p' "$SA_TMP/cmd.out" | sed -n '2,3p' >"$SA_TMP/frames"
grep -Eqx "  $F:$L_inl inl_alloc \(cli_mksnap\)" "$SA_TMP/frames" || sa_fail "inlined: first frame"
sed -n 2p "$SA_TMP/frames" | grep -Eqx "  $F:$L_inlcall alloc_inlined \(cli_mksnap\)" || sa_fail "inlined: caller frame"
sa_cmd show "$SA_TMP/inl.snap" --by function --cumulative --include inl_alloc
sa_expect_line cmd "alloc_inlined \(cli_mksnap\): size=192 B, count=4, average=48 B" "inlined caller charged"

# Filters: call site by default, every frame with --all-frames.
sa_cmd show "$SA_TMP/a.snap" --include 'alloc_s*'
sa_expect_line cmd "$F:$L_small alloc_small: size=6592 B, count=103, average=64 B" "--include function"
[ "$(sa_site_lines cmd | wc -l)" -eq 1 ] || sa_fail "--include alloc_s*: expected one group"
sa_cmd show "$SA_TMP/a.snap" --include via_helper
[ "$(sa_site_lines cmd | wc -l)" -eq 0 ] || sa_fail "--include via_helper matched a caller without --all-frames"
sa_cmd show "$SA_TMP/a.snap" --include via_helper --all-frames
sa_expect_line cmd "$F:$L_small alloc_small: size=192 B, count=3, average=64 B" "--include --all-frames"
[ "$(sa_site_lines cmd | wc -l)" -eq 1 ] || sa_fail "--include via_helper --all-frames: expected one group"
sa_cmd show "$SA_TMP/a.snap" --exclude via_helper --all-frames --include 'alloc_small'
sa_expect_line cmd "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "--exclude --all-frames"
sa_cmd show "$SA_TMP/a.snap" --exclude 'cli_mksnap.c'
[ "$(sa_site_lines cmd | wc -l)" -eq 0 ] || sa_fail "--exclude by file basename kept something"
sa_cmd show "$SA_TMP/a.snap" --include 'alloc_big' --include 'alloc_dup'
[ "$(sa_site_lines cmd | wc -l)" -eq 2 ] || sa_fail "two --include: expected two groups"
sa_cmd show "$SA_TMP/a.snap" --include 'libc.so*'
[ "$(sa_site_lines cmd | wc -l)" -eq 0 ] || sa_fail "--include module matched a caller"
sa_cmd show "$SA_TMP/a.snap" --include 'libc.so*' --all-frames
[ "$(sa_site_lines cmd | wc -l)" -eq 6 ] || sa_fail "--include module --all-frames"

# JSON: exact integers, the header, and parseable strings.
sa_cmd show "$SA_TMP/a.snap" --format json --top 0
sa_expect_status cmd 0 "--format json"
sa_expect_json "$SA_TMP/cmd.out" "d['snapshot']['total_size']" 1098064 "JSON total_size"
sa_expect_json "$SA_TMP/cmd.out" "d['snapshot']['total_count']" 128 "JSON total_count"
sa_expect_json "$SA_TMP/cmd.out" "d['snapshot']['trigger']" api "JSON trigger"
sa_expect_json "$SA_TMP/cmd.out" "sum(s['size'] for s in d['stats'])" 1098064 "JSON sizes add up"
sa_expect_json "$SA_TMP/cmd.out" "(d['stats'][0]['size'], d['stats'][0]['count'], d['stats'][0]['site']['function'], d['stats'][0]['site']['line'], d['stats'][0]['site']['module'])" "(1048576, 1, 'alloc_big', $L_big, 'cli_mksnap')" "JSON first stat"
sa_expect_json "$SA_TMP/cmd.out" "d['stats'][0]['site']['file'].endswith('cli_mksnap.c')" True "JSON file"
sa_expect_json "$SA_TMP/cmd.out" "[s['site']['function'] for s in d['stats']]" "['alloc_big', 'alloc_pages', 'alloc_small', 'xmalloc', 'alloc_dup', 'alloc_rec']" "JSON order"

# Collapsed stacks for flame graphs: one line per stack, outermost frame
# first, the live bytes last; every stack (no --top), frames by function.
sa_cmd show "$SA_TMP/a.snap" --format collapsed
sa_expect_status cmd 0 "--format collapsed"
[ "$(wc -l <"$SA_TMP/cmd.out")" -eq 7 ] || sa_fail "collapsed: $(wc -l <"$SA_TMP/cmd.out") lines, expected 7 stacks"
sa_expect_no_line cmd ': size=|^snapshot|^\[' "collapsed: no header or text lines"
sa_expect_line cmd "(.*;)?main;alloc_big 1048576" "collapsed big"
sa_expect_line cmd "(.*;)?main;alloc_small 6400" "collapsed small"
sa_expect_line cmd "(.*;)?main;via_helper;alloc_small 192" "collapsed via_helper"
sa_expect_line cmd "(.*;)?main;alloc_wrapped;xmalloc 1792" "collapsed wrapper caller"
sa_expect_line cmd "(.*;)?main;alloc_rec;alloc_rec;alloc_rec 64" "collapsed recursion"
sa_expect_no_line cmd '(^|;)(malloc|strdup|__strdup|__libc_malloc)( |;)' "collapsed folding"
sa_expect_eq "$(awk '{s += $NF} END {print s}' "$SA_TMP/cmd.out")" 1098064 "collapsed: bytes do not add up to the total"
grep -Evq '^[^ ;][^;]*(;[^;]+)* [0-9]+$' "$SA_TMP/cmd.out" && sa_fail "collapsed: a line is not 'frame;frame;... BYTES'"
sa_cmd show "$SA_TMP/a.snap" --format collapsed --by line --include alloc_small
sa_expect_status cmd 0 "collapsed --by line"
sa_expect_line cmd "(.*;)?main \(cli_mksnap\.c:[0-9]+\);alloc_small \(cli_mksnap\.c:$L_small\) 6400" "collapsed --by line"
sa_expect_line cmd "(.*;)?via_helper \(cli_mksnap\.c:$L_helper\);alloc_small \(cli_mksnap\.c:$L_small\) 192" "collapsed --by line helper"
sa_cmd show "$SA_TMP/a.snap" --format collapsed --by module
sa_expect_status cmd 0 "collapsed --by module"
sa_expect_line cmd "(.*;)?libc\.so\.6;cli_mksnap 1098064" "collapsed --by module: one line, runs of a module merged"
[ "$(wc -l <"$SA_TMP/cmd.out")" -eq 1 ] || sa_fail "collapsed --by module: $(wc -l <"$SA_TMP/cmd.out") lines, expected 1"
sa_cmd show "$SA_TMP/a.snap" --format collapsed --top 2
[ "$(wc -l <"$SA_TMP/cmd.out")" -eq 2 ] || sa_fail "collapsed --top 2: expected 2 lines"
sa_expect_line cmd "(.*;)?main;alloc_big 1048576" "collapsed --top 2 largest first"
sa_cmd show "$SA_TMP/a.snap" --format collapsed --cumulative
sa_expect_status cmd 2 "collapsed --cumulative"
sa_expect_one_error cmd "collapsed --cumulative"
sa_cmd show "$SA_TMP/a.snap" --format xml
sa_expect_status cmd 2 "--format xml"
sa_expect_one_error cmd "--format xml"

# Strings needing escapes (quote, backslash, tab, invalid UTF-8) in the
# command line recorded in the snapshot.
odd=$(printf '%s/q"b\\s\tx\377.snap' "$SA_TMP")
"$MK" "$odd" small=1 >/dev/null || sa_fail "cli_mksnap (odd name) failed"
sa_cmd show "$odd" --json
sa_expect_status cmd 0 "JSON escapes"
sa_expect_json "$SA_TMP/cmd.out" "'q\"b\\\\s\\tx\\ufffd.snap small=1' in d['snapshot']['cmdline']" True "JSON escapes"
sa_expect_json "$SA_TMP/cmd.out" "d['snapshot']['path'].endswith('q\"b\\\\s\\tx\\ufffd.snap')" True "JSON escapes in path"
sa_pass
