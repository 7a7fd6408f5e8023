# cli_pprof.sh - `snapalloc show --format pprof`: cli_prog's known sites
# (exact bytes and counts) read back by go tool pprof (-raw, -top by
# inuse_space and inuse_objects, -diff_base of two runs), the mapping's
# build id, and the errors (diff, --by, a terminal, an unwritable -o).
# go (golang-1.19-go) is required in CI (CI=true); elsewhere its absence
# skips the test.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_pprof
PROG=$(sa_helper cli_prog)

GO=$(command -v go 2>/dev/null || echo /usr/lib/go-1.19/bin/go)
if [ ! -x "$GO" ]; then
    [ "${CI:-}" = true ] && sa_fail "go not found: CI installs golang-1.19-go (.ci/deps.sh)"
    sa_skip "go not found (Debian package golang-1.19-go)"
fi
# go tool wants a writable cache and home.
export GOCACHE="$SA_TMP/gocache" HOME="$SA_TMP" GOPATH="$SA_TMP/gopath"
pprof() {
    "$GO" tool pprof "$@" >"$SA_TMP/pprof.out" 2>"$SA_TMP/pprof.err" ||
        { cat "$SA_TMP/pprof.err" >&2; sa_fail "go tool pprof $*"; }
}

S=cli_prog.c
L_small=$(sa_line_of $S small); L_pages=$(sa_line_of $S pages); L_big=$(sa_line_of $S big)
L_dup=$(sa_line_of $S dup); L_x=$(sa_line_of $S xmalloc)

# Two runs: 100 and 300 blocks of 64 B at alloc_small; the rest equal.
sa_cmd run -o "$SA_TMP/r1" --no-exit-snapshot -- "$PROG" 1
sa_expect_status cmd 0 "run 1"
sa_cmd run -o "$SA_TMP/r3" --no-exit-snapshot -- "$PROG" 3
sa_expect_status cmd 0 "run 3"
snap1=$(ls "$SA_TMP/r1"/*.[0-9].snap); snap3=$(ls "$SA_TMP/r3"/*.[0-9].snap)

sa_cmd show --format pprof -o "$SA_TMP/p1.pb.gz" "$snap1"
sa_expect_status cmd 0 "show --format pprof -o"
sa_expect_stderr cmd ""
[ ! -s "$SA_TMP/cmd.out" ] || sa_fail "pprof -o: something on stdout"
[ "$(od -An -tx1 -N2 "$SA_TMP/p1.pb.gz" | tr -d ' ')" = 1f8b ] || sa_fail "pprof: not gzip"
ls "$SA_TMP"/p1.pb.gz.tmp.* >/dev/null 2>&1 && sa_fail "pprof -o: temporary file left"
# Without -o, to a pipe or file (not a terminal): the same bytes.
"$SNAPALLOC_CMD" show --format pprof "$snap1" >"$SA_TMP/p1b.pb.gz" || sa_fail "pprof to stdout"
sa_expect_same_file "$SA_TMP/p1.pb.gz" "$SA_TMP/p1b.pb.gz" "pprof on stdout and with -o"

# -o with a text format: the same report as on stdout.
sa_cmd show "$snap1" --top 0 -o "$SA_TMP/show.txt"
sa_expect_status cmd 0 "show -o (text)"
"$SNAPALLOC_CMD" show "$snap1" --top 0 >"$SA_TMP/show.stdout" || sa_fail "show to stdout"
sa_expect_same_file "$SA_TMP/show.txt" "$SA_TMP/show.stdout" "show -o and stdout"

# -raw: "COUNT BYTES" of the samples whose innermost location is FUNC at
# cli_prog.c:LINE (the allocator's frames folded: the site comes first).
pprof -raw "$SA_TMP/p1.pb.gz"
sample_of() { # FUNC LINE
    awk -v fn="$1" -v at="/cli_prog.c:$2" '
        /^Samples:/ { part = "s"; next }
        /^Locations/ { part = "l"; next }
        /^Mappings/ { part = "m"; next }
        part == "s" && /:/ {
            split($0, a, ":"); split(a[1], v, " "); split(a[2], ids, " ")
            n++; val[n] = v[1] " " v[2]; first[n] = ids[1]
        }
        part == "l" && $1 ~ /^[0-9]+:$/ {
            for (i = 2; i < NF; i++)
                if ($i == fn && index($(i + 1), at) && substr($(i + 1), length($(i + 1)) - length(at) + 1) == at)
                    { id = $1; sub(":", "", id); site[id] = 1 }
        }
        END { for (i = 1; i <= n; i++) if (first[i] in site) print val[i] }' "$SA_TMP/pprof.out"
}
sa_expect_eq "$(sample_of alloc_small "$L_small")" "100 6400" "raw: alloc_small"
sa_expect_eq "$(sample_of alloc_pages "$L_pages")" "10 40960" "raw: alloc_pages"
sa_expect_eq "$(sample_of alloc_big "$L_big")" "1 1048576" "raw: alloc_big"
sa_expect_eq "$(sample_of alloc_dup "$L_dup")" "5 80" "raw: alloc_dup (strdup folded)"
sa_expect_eq "$(sample_of xmalloc "$L_x")" "7 1792" "raw: xmalloc"
grep -qx 'inuse_objects/count inuse_space/bytes\[dflt\]' "$SA_TMP/pprof.out" || sa_fail "raw: sample types"
grep -qx 'PeriodType: space bytes' "$SA_TMP/pprof.out" || sa_fail "raw: period type"
grep -qx 'Period: 1' "$SA_TMP/pprof.out" || sa_fail "raw: period"
grep -Eq ' (malloc|strdup|sa_[a-z_]*) ' "$SA_TMP/pprof.out" && sa_fail "raw: allocator frames not folded"
# The program's mapping, with its build id; locations at real addresses.
bid=$(LC_ALL=C readelf -n "$PROG" | sed -n 's/^ *Build ID: *//p')
[ -n "$bid" ] || sa_fail "cli_prog has no build id"
grep -Eq "^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x0 [^ ]*/cli_prog $bid " "$SA_TMP/pprof.out" ||
    sa_fail "raw: mapping 1 is not cli_prog with build id $bid"
grep -Eq "^ +[0-9]+: 0x[1-9a-f][0-9a-f]* M=1 alloc_small " "$SA_TMP/pprof.out" ||
    sa_fail "raw: alloc_small's location has no address in mapping 1"

# -top by each sample type: exact totals and the sites' flat values.
top_flat() { # FUNC: the flat column of FUNC's row
    awk -v fn="$1" '$NF == fn { print $1 }' "$SA_TMP/pprof.out"
}
pprof -top -nodefraction=0 -unit=byte -sample_index=inuse_space "$SA_TMP/p1.pb.gz"
grep -q "^Type: inuse_space\$" "$SA_TMP/pprof.out" || sa_fail "top: inuse_space"
grep -q " of 1097808B total\$" "$SA_TMP/pprof.out" || sa_fail "top: total bytes"
sa_expect_eq "$(top_flat alloc_big)" 1048576B "top inuse_space: alloc_big"
sa_expect_eq "$(top_flat alloc_small)" 6400B "top inuse_space: alloc_small"
sa_expect_eq "$(top_flat xmalloc)" 1792B "top inuse_space: xmalloc"
pprof -top -nodefraction=0 -sample_index=inuse_objects "$SA_TMP/p1.pb.gz"
grep -q " of 123 total\$" "$SA_TMP/pprof.out" || sa_fail "top: total objects"
sa_expect_eq "$(top_flat alloc_small)" 100 "top inuse_objects: alloc_small"
sa_expect_eq "$(top_flat alloc_pages)" 10 "top inuse_objects: alloc_pages"
sa_expect_eq "$(top_flat alloc_dup)" 5 "top inuse_objects: alloc_dup"
# The default sample type is inuse_space.
pprof -top "$SA_TMP/p1.pb.gz"
grep -q "^Type: inuse_space\$" "$SA_TMP/pprof.out" || sa_fail "default sample type"

# -diff_base: run 3 over run 1, the grown site first (+12800 B, +200).
sa_cmd show "$snap3" --format pprof -o "$SA_TMP/p3.pb.gz"
sa_expect_status cmd 0 "show run 3"
pprof -top -nodefraction=0 -unit=byte -diff_base "$SA_TMP/p1.pb.gz" "$SA_TMP/p3.pb.gz"
first=$(sed -n '/ flat%/{n;p;q}' "$SA_TMP/pprof.out")
echo "$first" | grep -Eq '^ *12800B .* alloc_small$' || sa_fail "diff_base: first row is '$first'"
pprof -top -nodefraction=0 -sample_index=inuse_objects -diff_base "$SA_TMP/p1.pb.gz" "$SA_TMP/p3.pb.gz"
first=$(sed -n '/ flat%/{n;p;q}' "$SA_TMP/pprof.out")
echo "$first" | grep -Eq '^ *200 .* alloc_small$' || sa_fail "diff_base objects: first row is '$first'"

# Inlined calls: fold_cxx at -O2 (GCC inlines grow_string into main) gives
# one location of two lines, innermost first, at one address.
FOLD=$(sa_helper fold_cxx_O2)
L_gs=$(sa_line_of fold_cxx.cc grow_string)
L_main_gs=$(grep -n 'grow_string(text' "$SA_SRC/fold_cxx.cc" | head -1 | cut -d: -f1)
sa_cmd run -o "$SA_TMP/fx" -- "$FOLD"
sa_expect_status cmd 0 "run fold_cxx_O2"
sa_cmd show --format pprof -o "$SA_TMP/fx.pb.gz" "$(ls "$SA_TMP/fx"/*.snap | head -1)"
sa_expect_status cmd 0 "show fold_cxx_O2"
pprof -raw "$SA_TMP/fx.pb.gz"
chain=$(awk -v at="/fold_cxx.cc:$L_gs" '
    found { print $1 " " $2; exit }
    $1 ~ /^[0-9]+:$/ && $4 == "grow_string" && substr($5, length($5) - length(at) + 1) == at { found = 1 }
    ' "$SA_TMP/pprof.out")
case "$chain" in
    "main "*"/fold_cxx.cc:$L_main_gs") ;;
    *) sa_fail "inlined grow_string: the line after it in its location is '$chain'" ;;
esac

# Errors: one line, exit 2, no file left.
sa_cmd diff "$snap1" "$snap3" --format pprof
sa_expect_status cmd 2 "diff --format pprof"
sa_expect_one_error cmd "diff --format pprof"
sa_expect_err_line cmd 'snapalloc: diff: --format pprof is not supported .*' "diff --format pprof message"
sa_cmd show "$snap1" --format pprof --by function -o "$SA_TMP/x.pb.gz"
sa_expect_status cmd 2 "--format pprof --by"
sa_expect_one_error cmd "--format pprof --by"
sa_cmd show "$snap1" --format pprof -o "$SA_TMP/no/such/dir/p.pb.gz"
sa_expect_status cmd 2 "unwritable -o"
sa_expect_one_error cmd "unwritable -o"
sa_expect_err_line cmd "snapalloc: $SA_TMP/no/such/dir/p\.pb\.gz: No such file or directory" "unwritable -o message"
if command -v script >/dev/null 2>&1; then
    # A terminal on stdout: refused (binary).
    script -qec "\"$SNAPALLOC_CMD\" show --format pprof \"$snap1\"; echo rc=\$?" /dev/null \
        >"$SA_TMP/tty.out" 2>&1 </dev/null || true
    grep -q 'is binary: give -o FILE or redirect stdout' "$SA_TMP/tty.out" || sa_fail "terminal: no refusal"
    grep -q 'rc=2' "$SA_TMP/tty.out" || sa_fail "terminal: exit status"
fi

# A large input: 100k distinct stacks (bench's generator, tracegen) make a
# profile of a few hundred KB that go tool pprof loads whole, with the
# snapshot's exact stacks, bytes and blocks.
sa_build "$SA_TMP/tracegen" "$top_srcdir/bench/workloads/tracegen.c" O2 \
    -I"$top_srcdir/include" -fno-optimize-sibling-calls
sa_run_traced big env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 \
    "$SA_TMP/tracegen" diffsnap "$SA_TMP/big.snap" 100000 1
sa_expect_status big 0 "tracegen"
sa_cmd show --json --by traceback --top 0 "$SA_TMP/big.snap"
sa_expect_status cmd 0 "show --json of the 100k-stack snapshot"
want=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["stats"]), sum(s["count"] for s in d["stats"]), sum(s["size"] for s in d["stats"]))' "$SA_TMP/cmd.out")
sa_expect_eq "${want%% *}" 100000 "distinct stacks in the generated snapshot"
sa_cmd show --format pprof -o "$SA_TMP/big.pb.gz" "$SA_TMP/big.snap"
sa_expect_status cmd 0 "show --format pprof of 100k stacks"
bytes=$(wc -c <"$SA_TMP/big.pb.gz")
[ "$bytes" -lt 4000000 ] || sa_fail "100k stacks: a $bytes-byte profile"
pprof -raw "$SA_TMP/big.pb.gz"
got=$(awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
           s && /^ *[0-9]+ +[0-9]+:/ { n++; c += $1; b += $2 + 0 }
           END { printf "%d %d %d\n", n, c, b }' "$SA_TMP/pprof.out")
echo "pprof: $got; show: $want" >&2
sa_expect_eq "$got" "$want" "100k stacks: samples, objects and bytes as go tool pprof reads them"

sa_pass
