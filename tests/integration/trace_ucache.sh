#!/bin/sh
# trace_ucache.sh - stacks that share malloc's return address and stack
# pointer but differ further up are counted apart (the unwind cache checks
# the return-address slots of the live stack), and the cached stacks are
# the same as uncached ones (SNAPALLOC_UNWIND=fp gives the same call sites).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init trace_ucache
prog=$(sa_helper trace_ucache)

for unwind in libunwind fp; do
    sa_run_traced "$unwind" env SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_UNWIND=$unwind \
        "$prog" "$SA_SNAPS/$unwind.snap"
    sa_expect_status "$unwind" 0 "$unwind: the program"
    sa_cmd show "$SA_SNAPS/$unwind.snap" --by traceback --top 0 --format json
    sa_expect_status cmd 0 "$unwind: show"
    python3 - "$(sa_out cmd)" "$unwind" <<'PY' || sa_fail "$unwind: the stacks through leaf (above)"
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
        sys.exit("%s: size %d for %d blocks" % (sys.argv[2], st["size"], st["count"]))
if groups != 2:
    sys.exit("%s: %d distinct stacks through leaf, expected 2 (cached and uncached unwinds must agree)" % (sys.argv[2], groups))
if counts != {"via_a": 1000, "via_b": 2000}:
    sys.exit("%s: blocks by caller of leaf: %r, expected via_a 1000, via_b 2000" % (sys.argv[2], counts))
PY
done
# Each thread's unwind cache (272 KiB of address space) is unmapped when
# the thread exits: 390 threads would otherwise add 100 MiB.
sa_run_traced threads env SNAPALLOC_TRACE=16 SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog" --threads
sa_expect_status threads 0 "threads"
sa_pass
