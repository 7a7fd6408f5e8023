# cli_trace.sh - `snapalloc run` with the real tracer on cli_prog: the
# snapshots written (the program's and its child's), the report printed
# at the end, exact call sites, sizes and counts, and diff across two
# separate runs.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_trace
PROG=$(sa_helper cli_prog)

S=cli_prog.c
L_small=$(sa_line_of $S small); L_pages=$(sa_line_of $S pages); L_big=$(sa_line_of $S big)
L_dup=$(sa_line_of $S dup); L_x=$(sa_line_of $S xmalloc); L_wrapped=$(sa_line_of $S wrapped)
F='[^ ]*cli_prog\.c'

# One run: the API snapshot, the exit snapshot and the peak file (the
# program passes 1 MiB), report on stderr.
sa_cmd run -o "$SA_TMP/d1" -- "$PROG" 1
sa_expect_status cmd 0 "run"
grep -q "^snapalloc: 3 snapshots in $SA_TMP/d1:\$" "$SA_TMP/cmd.err" || sa_fail "run: file list header"
[ "$(ls "$SA_TMP/d1" | grep -c '^cli_prog\.[0-9]*\.[0-9]*\.snap$')" -eq 2 ] || sa_fail "run: expected 2 snapshot files"
[ "$(ls "$SA_TMP/d1" | grep -c '^cli_prog\.[0-9]*\.peak\.snap$')" -eq 1 ] || sa_fail "run: expected a peak file"
grep -Eq "^$F:$L_small alloc_small: size=6400 B, count=100, average=64 B\$" "$SA_TMP/cmd.err" ||
    sa_fail "run: report lacks alloc_small"
[ ! -s "$SA_TMP/cmd.out" ] || sa_fail "run: the command wrote on the program's stdout"
snap=$(ls "$SA_TMP/d1"/*.snap | head -1)

sa_cmd show "$snap" --top 0
sa_expect_status cmd 0 "show"
sa_expect_line cmd "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "alloc_small"
sa_expect_line cmd "$F:$L_pages alloc_pages: size=40\.0 KiB, count=10, average=4096 B" "alloc_pages"
sa_expect_line cmd "$F:$L_big alloc_big: size=1024 KiB, count=1, average=1024 KiB" "alloc_big"
sa_expect_line cmd "$F:$L_dup alloc_dup: size=80 B, count=5, average=16 B" "alloc_dup (strdup folded)"
sa_expect_line cmd "$F:$L_x xmalloc: size=1792 B, count=7, average=256 B" "xmalloc"
sa_cmd show "$snap" --top 0 --wrapper xmalloc
sa_expect_line cmd "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper xmalloc"
sa_cmd show "$snap" --by function --include 'alloc_*' --json
sa_expect_json "$SA_TMP/cmd.out" "sorted((s['site']['function'], s['size'], s['count']) for s in d['stats'])" \
    "[('alloc_big', 1048576, 1), ('alloc_dup', 80, 5), ('alloc_pages', 40960, 10), ('alloc_small', 6400, 100)]" \
    "JSON by function"

# Exit statuses with tracing on.
sa_cmd run -o "$SA_TMP/d2" -- "$PROG" 1 exit 3
sa_expect_status cmd 3 "traced exit 3"
sa_cmd run -o "$SA_TMP/d2" -- "$PROG" 1 kill 15
sa_expect_status cmd 143 "traced SIGTERM"

# A child writes its own files (its pid in the name).
sa_cmd run -o "$SA_TMP/d3" -- "$PROG" 1 fork
sa_expect_status cmd 0 "fork run"
npids=$(ls "$SA_TMP/d3" | sed -n 's/^cli_prog\.\([0-9]*\)\..*\.snap$/\1/p' | sort -u | wc -l)
[ "$npids" -eq 2 ] || sa_fail "fork: snapshots of $npids processes, expected 2"

# Two separate runs (different load addresses): 100 vs 300 small blocks.
sa_cmd run -o "$SA_TMP/r1" --no-exit-snapshot -- "$PROG" 1
sa_cmd run -o "$SA_TMP/r3" --no-exit-snapshot -- "$PROG" 3
old=$(ls "$SA_TMP/r1"/*.[0-9].snap); new=$(ls "$SA_TMP/r3"/*.[0-9].snap)
sa_cmd diff "$old" "$new"
sa_expect_status cmd 0 "diff of two runs"
first=$(sa_site_lines cmd | head -1)
echo "$first" | grep -Eqx "$F:$L_small alloc_small: size=18\.8 KiB \(\+12\.5 KiB\), count=300 \(\+200\), average=64 B" ||
    sa_fail "diff: first line is '$first'"
sa_expect_line cmd "$F:$L_big alloc_big: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB" "diff unchanged site"
sa_pass
