# cli_html.sh - the HTML report (`snapalloc report`, show/diff --format
# html, check --report --format html) opened in a real browser: Debian's
# chromium, headless.  html_prog (built at -O0 and -O2) takes three
# snapshots of known live memory; the rendered DOM (--dump-dom: the page's
# script draws the tables) names its call sites with their exact bytes and
# blocks, the page's embedded numbers equal `show --format json`'s, and
# html_cdp.py drives the page through the DevTools protocol: typing into
# the search lights the site and totals its exact bytes, a click on a
# snapshot marker draws that snapshot's flame graph, a click on a frame
# zooms, a screenshot goes next to this test's log, and the page requests
# nothing but itself (its Content-Security-Policy blocks a probe).  Then a
# diff, a leak report, a 100k-stack snapshot, a page with the timeline and
# histogram sections, and the errors.
# chromium and python3-websocket are required in CI (CI=true); elsewhere
# their absence skips the test.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_html

CHROMIUM=$(command -v chromium 2>/dev/null || true)
PY=/usr/bin/python3   # Debian's, with python3-websocket (not a pyenv shim)
if [ -z "$CHROMIUM" ] || ! "$PY" -c 'import websocket' 2>/dev/null; then
    [ "${CI:-}" = true ] && sa_fail "chromium or python3-websocket not found: CI installs them (.ci/deps.sh)"
    sa_skip "chromium or python3-websocket not found (Debian packages chromium, python3-websocket)"
fi
# The screenshots stay with the test's log.
SHOTS=$top_builddir/tests/integration

# dom PAGE OUT: the DOM after the page's script ran.
dom() {
    timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$SA_TMP/chromium-profile" --dump-dom "file://$1" \
        >"$2" 2>"$SA_TMP/chromium.err" || { tail -5 "$SA_TMP/chromium.err" >&2; sa_fail "chromium --dump-dom $1"; }
    grep -q 'data-rendered="yes"' "$2" || sa_fail "$1: the page's script did not finish drawing"
}
# data PAGE: the page's embedded JSON.
data() {
    "$PY" -c 'import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<script type=\"application/json\" id=\"sa-data\">\n(.*?)\n</script>", t, re.S)
print(m.group(1))' "$1"
}
# row DOM FUNC: "LINE SIZE COUNT" of the table row of call site FUNC.
row() {
    sed -n "s/.*<tr data-site=\"$2\" data-file=\"[^\"]*\" data-line=\"\([0-9]*\)\" data-size=\"\([0-9]*\)\" data-count=\"\([0-9]*\)\".*/\1 \2 \3/p" "$1" | head -1
}

S=html_prog.c
L_table=$(sa_line_of $S table); L_cache=$(sa_line_of $S cache)

for level in O0 O2; do
    PROG=$SA_TMP/html_prog_$level
    sa_build "$PROG" "$SA_SRC/$S" $level -I"$top_srcdir/include"
    D=$SA_TMP/run_$level
    sa_cmd run -o "$D" -- "$PROG"
    sa_expect_status cmd 0 "run html_prog ($level)"
    # Snapshots as the report orders them (time, sequence), and show's JSON
    # of each by line, function, file and module.
    ls "$D"/*.snap >"$SA_TMP/files"
    while read -r f; do
        for by in line function file module; do
            sa_cmd show --format json --by $by --top 100 "$f"
            sa_expect_status cmd 0 "show --json $f"
            cp "$SA_TMP/cmd.out" "$SA_TMP/show_${level}_$(basename "$f").$by.json"
        done
    done <"$SA_TMP/files"

    sa_cmd report "$D" -o "$SA_TMP/r_$level.html"
    sa_expect_status cmd 0 "report DIR ($level)"
    sa_expect_stderr cmd "snapalloc: report of $(wc -l <"$SA_TMP/files") snapshots written to $SA_TMP/r_$level.html (open it in a browser)"
    data "$SA_TMP/r_$level.html" >"$SA_TMP/data_$level.json"

    # The embedded numbers are show --format json's: every table of every
    # snapshot, its header, the flame graph's total; the snapshots in time
    # order; the first shown is the peak snapshot if any, else the last.
    "$PY" - "$SA_TMP/data_$level.json" "$SA_TMP" "$level" >"$SA_TMP/expect_$level" <<'EOF' || sa_fail "embedded numbers differ from show --format json ($level)"
import json, os, sys
d = json.load(open(sys.argv[1])); tmp, level = sys.argv[2], sys.argv[3]
snaps = d["snapshots"]
shows = []
for s in snaps:
    name = os.path.basename(s["snapshot"]["path"])
    by = {b: json.load(open("%s/show_%s_%s.%s.json" % (tmp, level, name, b))) for b in ("line", "function", "file", "module")}
    for b, j in by.items():
        t = s["tables"][b]
        assert j["snapshot"] == s["snapshot"], (name, "header")
        assert j["stats"] == t["stats"], (name, b, "stats")
        assert j["groups"] == t["groups"] and j["group_by"] == b, (name, b)
        assert t["total_size"] == j["snapshot"]["total_size"], (name, b, "total")
    assert s["flame"]["nodes"][0][2] == s["snapshot"]["total_size"], (name, "flame total")
    assert s["flame"]["nodes"][0][3] == s["snapshot"]["total_count"], (name, "flame count")
    shows.append(by)
key = [(s["snapshot"]["time_ns"], s["snapshot"]["sequence"]) for s in snaps]
assert key == sorted(key), "not in time order"
peaks = [i for i, s in enumerate(snaps) if s["snapshot"]["trigger"] == "peak"]
want = max(peaks, key=lambda i: snaps[i]["snapshot"]["traced_current"]) if peaks else len(snaps) - 1
assert d["initial"] == want, ("initial", d["initial"], want)
def site(i, fn):  # bytes and blocks of function fn in snapshot i (by function)
    for st in shows[i]["function"]["stats"]:
        if st["site"]["function"] == fn:
            return "%d %d" % (st["size"], st["count"])
    return "0 0"
# the snapshot holding make_table and fill_cache both (the second API one)
both = [i for i, s in enumerate(snaps) if site(i, "make_table") != "0 0" and site(i, "fill_cache") != "0 0"]
print(d["initial"], snaps[d["initial"]]["snapshot"]["total_size"], site(d["initial"], "fill_cache"))
print(both[0], snaps[both[0]]["snapshot"]["total_size"], site(both[0], "make_table"))
EOF
    read -r init init_total init_cache <<EOF
$(sed -n 1p "$SA_TMP/expect_$level")
EOF
    read -r both both_total both_table <<EOF
$(sed -n 2p "$SA_TMP/expect_$level")
EOF
    sa_expect_eq "$both_table" "65536 16" "make_table's bytes and blocks ($level)"
    sa_expect_eq "$init_cache" "14400 300" "fill_cache's bytes and blocks ($level)"

    # The DOM: the table rows the script drew, exact.
    dom "$SA_TMP/r_$level.html" "$SA_TMP/dom_$level.html"
    sa_expect_eq "$(row "$SA_TMP/dom_$level.html" fill_cache)" "$L_cache 14400 300" "DOM: fill_cache row ($level)"
    grep -q "data-snapshot=\"$init\"" "$SA_TMP/dom_$level.html" || sa_fail "DOM: not opened on snapshot $init ($level)"
    grep -q 'id="flame"[^>]*data-total="'"$init_total"'"' "$SA_TMP/dom_$level.html" ||
        sa_fail "DOM: the flame graph's total is not $init_total ($level)"

    # Driven: search, a marker, a frame; requests; the CSP.
    "$PY" "$top_srcdir/tests/integration/html_cdp.py" "$CHROMIUM" "$SA_TMP/r_$level.html" \
        "$SHOTS/cli_html-$level.png" --search fill_cache --click-marker "$both" \
        --search2 make_table --click-frame fill_cache >"$SA_TMP/cdp_$level.json" 2>"$SA_TMP/cdp.err" ||
        { cat "$SA_TMP/cdp.err" >&2; sa_fail "html_cdp.py ($level)"; }
    "$PY" - "$SA_TMP/cdp_$level.json" "$init" "$both" "$both_total" <<'EOF' || sa_fail "the driven page ($level)"
import json, sys
r = json.load(open(sys.argv[1])); init, both, both_total = map(int, sys.argv[2:5])
def eq(got, want, what):
    assert got == want, "%s: %r, want %r" % (what, got, want)
eq(r["load"]["error"], None, "script error")
eq(r["load"]["snapshot"], init, "opened on")
eq((r["search"]["search_bytes"], r["search"]["search_count"]), (14400, 300), "search fill_cache: bytes, blocks")
assert r["search"]["frames_lit"] >= 1 and r["search"]["frames_dim"] >= 1, "search: frames lit/dimmed"
eq(r["marker"]["snapshot"], both, "marker click: snapshot")
eq(r["marker"]["flame_total"], both_total, "marker click: the flame graph's total")
eq((r["search2"]["search_bytes"], r["search2"]["search_count"]), (65536, 16), "search make_table")
assert "make_table" in r["marker"]["labels"], "make_table drawn before the zoom"
assert "make_table" not in r["frame"]["labels"] and "fill_cache" in r["frame"]["labels"], "zoom on fill_cache"
eq(r["requests"], [r["url"]], "requests")
eq(r["csp"]["fetched"], False, "CSP: fetch")
assert any(v.startswith("connect-src") for v in r["csp"]["violations"]), "CSP: connect-src"
assert any(v.startswith("img-src") for v in r["csp"]["violations"]), "CSP: img-src"
assert all(p["blocked"] == "csp" for p in r["csp"]["probe_requests"]), "CSP: a probe went out"
eq(r["csp"]["responses"], [], "CSP: responses")
EOF
    [ -s "$SHOTS/cli_html-$level.png" ] || sa_fail "no screenshot"
done

# show --format html of one snapshot: the same page of one.
f=$(sed -n 1p "$SA_TMP/files")
sa_cmd show --format html -o "$SA_TMP/show.html" "$f"
sa_expect_status cmd 0 "show --format html"
sa_expect_stderr cmd ""
dom "$SA_TMP/show.html" "$SA_TMP/show.dom"
"$PY" -c 'import json, sys
d = json.load(sys.stdin); s = d["snapshots"][0]
assert len(d["snapshots"]) == 1 and s["tables"]["line"]["stats"] == json.load(open(sys.argv[1]))["stats"]
' "$SA_TMP/show_O2_$(basename "$f").line.json" <<EOF || sa_fail "show --format html: tables differ from show --format json"
$(data "$SA_TMP/show.html")
EOF

# diff --format html: the differential flame graph and the top changes,
# exact; its numbers are diff --format json's.
a=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0]["snapshot"]["path"])' <"$SA_TMP/data_O2.json")
b=$("$PY" -c "import json,sys; print(json.load(sys.stdin)['snapshots'][$both]['snapshot']['path'])" <"$SA_TMP/data_O2.json")
sa_cmd diff "$a" "$b" --format html -o "$SA_TMP/diff.html"
sa_expect_status cmd 0 "diff --format html"
sa_cmd diff "$a" "$b" --format json --top 100
cp "$SA_TMP/cmd.out" "$SA_TMP/diff.json"
dom "$SA_TMP/diff.html" "$SA_TMP/diff.dom"
grep -q "<tr data-site=\"fill_cache\" data-file=\"[^\"]*\" data-line=\"$L_cache\" data-size=\"14400\" data-count=\"300\" data-size-diff=\"14400\" data-count-diff=\"300\"" \
    "$SA_TMP/diff.dom" || sa_fail "diff DOM: fill_cache grew by 14400 B in 300 blocks"
grep -q "<tr data-site=\"make_table\" data-file=\"[^\"]*\" data-line=\"$L_table\" data-size=\"65536\" data-count=\"16\" data-size-diff=\"0\" data-count-diff=\"0\"" \
    "$SA_TMP/diff.dom" || sa_fail "diff DOM: make_table unchanged at 65536 B in 16 blocks"
"$PY" -c 'import json, sys
d = json.load(sys.stdin); j = json.load(open(sys.argv[1]))
assert d["kind"] == "diff" and d["tables"]["line"]["stats"] == j["stats"], "stats"
assert d["old"] == j["old"] and d["new"] == j["new"], "headers"
n = d["flame"]["nodes"][0]
assert (n[2], n[4]) == (j["old"]["total_size"], j["new"]["total_size"]), "flame totals"
' "$SA_TMP/diff.json" <<EOF || sa_fail "diff --format html: numbers differ from diff --format json"
$(data "$SA_TMP/diff.html")
EOF

# check --report FILE --format html (and by the .html suffix): the lost
# blocks by kind and call site, with their stacks.
LEAKY=$(sa_helper check_leaky)
L_leak=$(sa_line_of check_leaky.c leak)
sa_cmd check --report "$SA_TMP/leaks.html" --show definite,reachable -- "$LEAKY" leak
sa_expect_status cmd 23 "check of check_leaky"
dom "$SA_TMP/leaks.html" "$SA_TMP/leaks.dom"
grep -q '<details class="leak" data-kind="definite" data-site="lose" data-bytes="100" data-blocks="1"' "$SA_TMP/leaks.dom" ||
    sa_fail "leak DOM: 100 bytes in 1 block definitely lost at lose"
grep -q "<li>lose  [^<]*check_leaky\.c:$L_leak</li>" "$SA_TMP/leaks.dom" || sa_fail "leak DOM: lose's frame"
grep -q '<li>main  [^<]*check_leaky\.c:[0-9]*</li>' "$SA_TMP/leaks.dom" || sa_fail "leak DOM: the stack's main"
grep -q '<details class="leak" data-kind="reachable" data-site="main" data-bytes="50" data-blocks="1"' "$SA_TMP/leaks.dom" ||
    sa_fail "leak DOM: 50 bytes still reachable"
sa_cmd check --report "$SA_TMP/leaks.out" --format html --show definite -- "$LEAKY" leak
sa_expect_status cmd 23 "check --format html"
grep -q 'data-kind="definite" data-site="lose" data-bytes="100" data-blocks="1"' "$SA_TMP/leaks.out" &&
    sa_fail "check --format html: the DOM's rows are in the file (not drawn by the script)"
grep -q '<meta http-equiv="Content-Security-Policy"' "$SA_TMP/leaks.out" || sa_fail "check --format html: not the page"
sa_cmd check --report "$SA_TMP/leaks.json" --show definite,reachable -- "$LEAKY" leak
"$PY" -c 'import json, sys
d = json.load(sys.stdin)["report"]; j = json.load(open(sys.argv[1]))
assert d["summary"] == j["summary"] and [(l["kind"], l["bytes"], l["blocks"], l["site"]) for l in d["leaks"]] == \
    [(l["kind"], l["bytes"], l["blocks"], l["site"]) for l in j["leaks"]]
' "$SA_TMP/leaks.json" <<EOF || sa_fail "check html: numbers differ from the JSON report"
$(data "$SA_TMP/leaks.html")
EOF

# The timeline and histogram sections, present (a page whose data holds
# them): the RSS line, a marker per snapshot, the exact buckets.
"$PY" - "$SA_TMP/r_O2.html" "$SA_TMP/sections.html" <<'EOF' || sa_fail "cannot make the sections page"
import json, re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"(<script type=\"application/json\" id=\"sa-data\">\n)(.*?)(\n</script>)", t, re.S)
d = json.loads(m.group(2))
for i, s in enumerate(d["snapshots"]):
    t0 = s["time_ms"] - 1000
    s["timeline"] = [[t0 + k * 100, k * 1000, 4096 * (k + 10)] for k in range(11)]
    s["histogram"] = [[6, 300, 14400], [13, 16, 65536]]
d["initial"] = 0
open(sys.argv[2], "w", encoding="utf-8").write(t[:m.start(2)] + json.dumps(d).replace("<", "\\u003c") + t[m.end(2):])
EOF
dom "$SA_TMP/sections.html" "$SA_TMP/sections.dom"
grep -q '<polyline class="rss"' "$SA_TMP/sections.dom" || sa_fail "timeline: no RSS line"
grep -q '<polyline class="traced"' "$SA_TMP/sections.dom" || sa_fail "timeline: no traced line"
[ "$(grep -o '<circle class="marker' "$SA_TMP/sections.dom" | wc -l)" = "$(wc -l <"$SA_TMP/files")" ] ||
    sa_fail "timeline: not one marker per snapshot"
grep -q 'data-bucket="6" data-count="300">300<' "$SA_TMP/sections.dom" || sa_fail "histogram: bucket 6"
grep -q 'data-bucket="13" data-size="65536">65,536 B<' "$SA_TMP/sections.dom" || sa_fail "histogram: bucket 13"
grep -q '32 B – 63 B' "$SA_TMP/sections.dom" || sa_fail "histogram: bucket 6's label"
# ... and absent (the files of today's tracer may have neither): said so.
grep -q 'no size histogram' "$SA_TMP/dom_O2.html" ||
    grep -q 'data-bucket=' "$SA_TMP/dom_O2.html" || sa_fail "histogram section missing"

# A large input: 100k distinct stacks (bench's tracegen) make a page of a
# few MB at most, drawn by the browser, with the flame graph cut to
# --max-nodes frames and the rest summed (the total exact).
sa_build "$SA_TMP/tracegen" "$top_srcdir/bench/workloads/tracegen.c" O2 \
    -I"$top_srcdir/include" -fno-optimize-sibling-calls
sa_run_traced big env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 \
    "$SA_TMP/tracegen" diffsnap "$SA_TMP/big.snap" 100000 1
sa_expect_status big 0 "tracegen"
sa_cmd report "$SA_TMP/big.snap" -o "$SA_TMP/big.html"
sa_expect_status cmd 0 "report of 100k stacks"
bytes=$(wc -c <"$SA_TMP/big.html")
echo "100k stacks: a $bytes-byte page" >&2
[ "$bytes" -lt 4000000 ] || sa_fail "100k stacks: a $bytes-byte page"
"$PY" -c 'import json, sys
d = json.load(sys.stdin); s = d["snapshots"][0]; f = s["flame"]
assert f["stacks"] == 100000 and f["nodes_total"] > 4000, (f["stacks"], f["nodes_total"])
kept = [n for n in f["nodes"][1:] if n[1] >= 0]   # the root aside
assert len(kept) + 1 == 4000, len(kept)
assert f["nodes"][0][2] == s["snapshot"]["total_size"]
# every node sums to its callees (kept and summed rest)
kids = {}
for i, n in enumerate(f["nodes"]):
    if n[0] >= 0: kids.setdefault(n[0], []).append(n)
for i, n in enumerate(f["nodes"]):
    if i in kids: assert sum(k[2] for k in kids[i]) <= n[2]
' <<EOF || sa_fail "100k stacks: the flame graph's nodes"
$(data "$SA_TMP/big.html")
EOF
dom "$SA_TMP/big.html" "$SA_TMP/big.dom"

# Errors: one line, exit 2, no file left.
err() { # WHAT ARGS...: exit 2 with one error line
    sa_what=$1; shift
    sa_cmd "$@"
    sa_expect_status cmd 2 "$sa_what"
    sa_expect_one_error cmd "$sa_what"
}
mkdir "$SA_TMP/empty"
printf 'not a snapshot' >"$SA_TMP/bad.snap"
mkdir "$SA_TMP/baddir" && cp "$SA_TMP/bad.snap" "$SA_TMP/baddir/"
err "report: no argument" report
sa_expect_err_line cmd "snapalloc: report: missing SNAPSHOT or DIR \(see 'snapalloc report --help'\)" "no argument message"
err "report: two arguments" report "$f" "$f"
err "report: missing file" report "$SA_TMP/nonexistent" -o "$SA_TMP/x.html"
err "report: corrupt file" report "$SA_TMP/bad.snap" -o "$SA_TMP/x.html"
err "report: corrupt file in DIR" report "$SA_TMP/baddir" -o "$SA_TMP/x.html"
err "report: empty DIR" report "$SA_TMP/empty" -o "$SA_TMP/x.html"
sa_expect_err_line cmd "snapalloc: $SA_TMP/empty: no snapshot \(\*\.snap\) in this directory" "empty DIR message"
err "--pid: not a number" report --pid abc "$SA_TMP/run_O2" -o "$SA_TMP/x.html"
sa_expect_err_line cmd "snapalloc: --pid: 'abc' is not a process id" "--pid message"
err "--pid: no such process" report --pid 1 "$SA_TMP/run_O2" -o "$SA_TMP/x.html"
err "--pid with a file" report --pid 1 "$f" -o "$SA_TMP/x.html"
err "show --pid" show --pid 1 "$f"
err "--max-nodes 0" report --max-nodes 0 "$f" -o "$SA_TMP/x.html"
sa_expect_err_line cmd "snapalloc: --max-nodes: '0' is not a number of frames \(1 or more\)" "--max-nodes message"
err "--max-nodes x" show --format html --max-nodes x "$f"
err "--max-nodes with text" show --max-nodes 10 "$f"
err "report --format json" report --format json "$f" -o "$SA_TMP/x.html"
err "report --json" report --json "$f"
err "report --cumulative" report --cumulative "$f"
err "report --min-diff" report --min-diff 1 "$f"
err "report: empty -o" report "$f" -o ""
err "report: unwritable -o" report "$f" -o "$SA_TMP/no/such/dir/r.html"
sa_expect_err_line cmd "snapalloc: $SA_TMP/no/such/dir/r\.html: No such file or directory" "unwritable -o message"
err "show --format html --cumulative" show --format html --cumulative "$f"
err "check --format bogus" check --report "$SA_TMP/x.html" --format htm -- "$LEAKY" clean
sa_expect_err_line cmd "snapalloc: --format: 'htm' is not one of json, junit, html" "check --format message"
[ ! -e "$SA_TMP/x.html" ] || sa_fail "a report was left after an error"
ls "$SA_TMP"/x.html.* >/dev/null 2>&1 && sa_fail "a temporary file was left after an error"

sa_pass
