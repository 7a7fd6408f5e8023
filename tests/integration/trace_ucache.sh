#!/bin/sh
# trace_ucache.sh - stacks that share malloc's return address and stack
# pointer but differ further up are counted apart (the unwind cache checks
# the return-address slots of the live stack), and the cached stacks are
# the same as uncached ones (SNAPALLOC_UNWIND=fp gives the same call sites).
set -eu
lib=${SNAPALLOC_LIB:?} cmd=${SNAPALLOC_CMD:?}
prog="$top_builddir/tests/integration/trace_ucache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: trace_ucache: $*" >&2; exit 1; }

for unwind in libunwind fp; do
    env LD_PRELOAD="$lib" SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_UNWIND=$unwind \
        "$prog" "$tmp/$unwind.snap" || fail "$unwind: the program failed"
    "$cmd" show "$tmp/$unwind.snap" --by traceback --top 0 --format json >"$tmp/$unwind.json" ||
        fail "$unwind: show failed"
    python3 - "$tmp/$unwind.json" "$unwind" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
counts = {}
groups = 0
for st in d["stats"]:
    names = [f["function"] for f in st["frames"]]
    if "leaf" not in names:
        continue
    groups += 1
    caller = names[names.index("leaf") + 1] if names.index("leaf") + 1 < len(names) else "?"
    counts[caller] = counts.get(caller, 0) + st["count"]
    if st["size"] != 48 * st["count"]:
        sys.exit("FAIL: trace_ucache: %s: size %d for %d blocks" % (sys.argv[2], st["size"], st["count"]))
if groups != 2:
    sys.exit("FAIL: trace_ucache: %s: %d distinct stacks through leaf, expected 2 (cached and uncached unwinds must agree)" % (sys.argv[2], groups))
if counts != {"via_a": 1000, "via_b": 2000}:
    sys.exit("FAIL: trace_ucache: %s: blocks by caller of leaf: %r, expected via_a 1000, via_b 2000" % (sys.argv[2], counts))
PY
done
# Each thread's unwind cache (272 KiB of address space) is unmapped when
# the thread exits: 390 threads would otherwise add 100 MiB.
out=$(env LD_PRELOAD="$lib" SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog" --threads) ||
    fail "threads: $out"
echo "trace_ucache: ok"
