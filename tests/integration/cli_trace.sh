# cli_trace.sh - `snapalloc run` with the real tracer on cli_prog: the
# snapshots written (the program's and its child's), the report printed
# at the end, exact call sites, sizes and counts, and diff across two
# separate runs.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_trace
: "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"

S=cli_prog.c
L_small=$(line_of $S small); L_pages=$(line_of $S pages); L_big=$(line_of $S big)
L_dup=$(line_of $S dup); L_x=$(line_of $S xmalloc); L_wrapped=$(line_of $S wrapped)
F='[^ ]*cli_prog\.c'

# One run: the API snapshot and the exit snapshot, report on stderr.
sa run -o "$T/d1" -- "$PROG" 1
expect_rc 0 "run"
grep -q "^snapalloc: 2 snapshots in $T/d1:\$" "$T/err" || fail "run: file list header"
[ "$(ls "$T/d1" | grep -c '^cli_prog\.[0-9]*\.[0-9]*\.snap$')" -eq 2 ] || fail "run: expected 2 snapshot files"
grep -Eq "^$F:$L_small alloc_small: size=6400 B, count=100, average=64 B\$" "$T/err" ||
    fail "run: report lacks alloc_small"
[ ! -s "$T/out" ] || fail "run: the command wrote on the program's stdout"
snap=$(ls "$T/d1"/*.snap | head -1)

sa show "$snap" --top 0
expect_rc 0 "show"
expect_line "$F:$L_small alloc_small: size=6400 B, count=100, average=64 B" "alloc_small"
expect_line "$F:$L_pages alloc_pages: size=40\.0 KiB, count=10, average=4096 B" "alloc_pages"
expect_line "$F:$L_big alloc_big: size=1024 KiB, count=1, average=1024 KiB" "alloc_big"
expect_line "$F:$L_dup alloc_dup: size=80 B, count=5, average=16 B" "alloc_dup (strdup folded)"
expect_line "$F:$L_x xmalloc: size=1792 B, count=7, average=256 B" "xmalloc"
sa show "$snap" --top 0 --wrapper xmalloc
expect_line "$F:$L_wrapped alloc_wrapped: size=1792 B, count=7, average=256 B" "--wrapper xmalloc"
sa show "$snap" --by function --include 'alloc_*' --json
expect_json "sorted((s['site']['function'], s['size'], s['count']) for s in d['stats'])" \
    "[('alloc_big', 1048576, 1), ('alloc_dup', 80, 5), ('alloc_pages', 40960, 10), ('alloc_small', 6400, 100)]" \
    "JSON by function"

# Exit statuses with tracing on.
sa run -o "$T/d2" -- "$PROG" 1 exit 3
expect_rc 3 "traced exit 3"
sa run -o "$T/d2" -- "$PROG" 1 kill 15
expect_rc 143 "traced SIGTERM"

# A child writes its own files (its pid in the name).
sa run -o "$T/d3" -- "$PROG" 1 fork
expect_rc 0 "fork run"
npids=$(ls "$T/d3" | sed -n 's/^cli_prog\.\([0-9]*\)\..*\.snap$/\1/p' | sort -u | wc -l)
[ "$npids" -eq 2 ] || fail "fork: snapshots of $npids processes, expected 2"

# Two separate runs (different load addresses): 100 vs 300 small blocks.
sa run -o "$T/r1" --no-exit-snapshot -- "$PROG" 1
sa run -o "$T/r3" --no-exit-snapshot -- "$PROG" 3
old=$(ls "$T/r1"/*.snap); new=$(ls "$T/r3"/*.snap)
sa diff "$old" "$new"
expect_rc 0 "diff of two runs"
first=$(stat_lines | head -1)
echo "$first" | grep -Eqx "$F:$L_small alloc_small: size=18\.8 KiB \(\+12\.5 KiB\), count=300 \(\+200\), average=64 B" ||
    fail "diff: first line is '$first'"
expect_line "$F:$L_big alloc_big: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB" "diff unchanged site"
exit 0
