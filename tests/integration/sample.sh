#!/bin/sh
# sample.sh - sampled tracing (SNAPALLOC_SAMPLE): on sample_prog, whose live
# memory by call site is known exactly (full tracing gives it), the
# estimates over 20 fixed seeds at 64 KiB are unbiased (the mean within 3%
# of the exact figure for every site) with the spread the theory gives
# (the standard deviation of n blocks of s bytes is sqrt(n s^2 (1-p)/p),
# p = 1 - exp(-s/T), about sqrt(T X) for a site of X bytes: the sample's
# within the 99.9% bounds of a chi-square with 19 degrees of freedom);
# blocks larger than the interval are exact; freed blocks leave nothing,
# also when another thread frees them; a fork child re-seeds (its choices
# differ from its parent's after the fork); the peak trigger works on the
# estimates, and signal and interval snapshots are sampled ones; sampling
# and guard pages together; every bad value gets one warning line and the default mean
# (512K); `run --sample` refuses bad values and `check` refuses sampling
# (exit 2).  At -O0 and -O2.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init sample
command -v python3 >/dev/null 2>&1 || sa_skip "python3 is not installed"

# The sites of sample_prog.c as JSON: {function: [size, count]}, and the
# header's sample_interval, traced_current and total_size.
sites() { # SNAP -> stdout
    sa_cmd show --format json --top 0 "$1"
    sa_expect_status cmd 0 "show $1"
    python3 - "$(sa_out cmd)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["snapshot"]
out = {g["site"]["function"]: [g["size"], g["count"]] for g in d["stats"]}
out["_hdr"] = [s["sample_interval"], s["traced_current"], s["total_size"]]
print(json.dumps(out))
PY
}

for level in O0 O2; do
    prog=$SA_TMP/sample_prog_$level
    sa_build "$prog" "$SA_SRC/sample_prog.c" $level -pthread -fno-omit-frame-pointer
    runs=$SA_TMP/runs_$level
    : >"$runs"
    sa_run_traced full env SNAPALLOC_SNAPSHOT="$SA_SNAPS/full_$level.snap" "$prog"
    sa_expect_status full 0
    sa_expect_stderr full ""
    sites "$SA_SNAPS/full_$level.snap" >"$SA_TMP/full_$level.json"
    for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        snap=$SA_SNAPS/s_${level}_$seed.snap
        sa_run_traced run env SNAPALLOC_SAMPLE=64K SNAPALLOC_SAMPLE_SEED=$seed \
            SNAPALLOC_SNAPSHOT="$snap" "$prog"
        sa_expect_status run 0 "seed $seed"
        sa_expect_stderr run ""
        sites "$snap" >>"$runs"
    done
    python3 - "$SA_TMP/full_$level.json" "$runs" <<'PY' || sa_fail "-$level: the estimates"
import json, math, sys
full = json.load(open(sys.argv[1]))
runs = [json.loads(l) for l in open(sys.argv[2])]
T = 65536
MIB = 1 << 20
exact = {"site_small": (10 * MIB, 10 * MIB // 64, 64), "site_page": (10 * MIB, 10 * MIB // 4096, 4096),
         "site_big": (2000000, 20, 100000)}
bad = []
for f, (x, n, s) in exact.items():
    if full.get(f) != [x, n]:
        bad.append("full tracing: %s is %s, not %s" % (f, full.get(f), [x, n]))
if full["_hdr"] != [0, full["_hdr"][2], sum(x for x, n, s in exact.values())]:
    bad.append("full tracing: header %s" % full["_hdr"])
if "site_churn" in full:
    bad.append("full tracing: freed blocks of site_churn live")
for r in runs:
    if r["_hdr"][0] != T or r["_hdr"][1] != r["_hdr"][2]:
        bad.append("a sampled run's header (interval, current, total) is %s" % r["_hdr"])
    if "site_churn" in r:
        bad.append("freed blocks of site_churn live in a sampled run: %s" % r["site_churn"])
    if r.get("site_big") != [2000000, 20]:
        bad.append("site_big (blocks above the interval) is not exact: %s" % r.get("site_big"))
for f, (x, n, s) in exact.items():
    p = -math.expm1(-s / T)
    sd = math.sqrt(n * s * s * (1 - p) / p) if s <= T else 0.0
    sizes = [r.get(f, [0, 0])[0] for r in runs]
    counts = [r.get(f, [0, 0])[1] for r in runs]
    mean = sum(sizes) / len(sizes)
    cmean = sum(counts) / len(counts)
    var = sum((v - mean) ** 2 for v in sizes) / (len(sizes) - 1)
    print("%s: exact %d, mean %.0f (%+.2f%%), sd %.0f, theory %.0f (sqrt(T X) %.0f); count mean %.0f of %d"
          % (f, x, mean, 100 * (mean / x - 1), math.sqrt(var), sd, math.sqrt(T * x), cmean, n))
    if abs(mean - x) > 0.03 * x:
        bad.append("%s: mean estimate %.0f not within 3%% of %d" % (f, mean, x))
    if abs(cmean - n) > 0.03 * n:
        bad.append("%s: mean count %.0f not within 3%% of %d" % (f, cmean, n))
    if sd == 0:
        if var != 0:
            bad.append("%s: exact site varies" % f)
    elif not (5.41 / 19 <= var / (sd * sd) <= 43.82 / 19):   # chi2(19) 0.1% and 99.9%
        bad.append("%s: spread %.0f, theory %.0f" % (f, math.sqrt(var), sd))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
done
prog=$SA_TMP/sample_prog_O2

# sample_prog remote at 64 KiB, seed 3, with the environment given:
# another thread frees site_small's sampled blocks, so nothing of it is
# left; site_big's blocks (over the interval) are exact; the counters (the
# header's current) agree with the recount.
remote_run() { # TAG WHAT [ENV...]
    t=$1 what=$2; shift 2
    sa_run_traced "$t" env SNAPALLOC_SAMPLE=64K SNAPALLOC_SAMPLE_SEED=3 "$@" \
        SNAPALLOC_SNAPSHOT="$SA_SNAPS/$t.snap" "$prog" remote
    sa_expect_status "$t" 0
    sa_expect_stderr "$t" ""
    sites "$SA_SNAPS/$t.snap" >"$SA_TMP/$t.json"
    python3 - "$SA_TMP/$t.json" <<'PY' || sa_fail "$what"
import json, sys
r = json.load(open(sys.argv[1]))
ok = "site_small" not in r and "site_page" in r and r["site_big"] == [2000000, 20]
ok = ok and r["_hdr"][0] == 65536 and r["_hdr"][1] == r["_hdr"][2]
print(r)
sys.exit(0 if ok else 1)
PY
}
remote_run remote "remote frees"
# Sampling and guard pages together: both count on malloc's byte budget
# (src/trace/budget.h), and a sampled block may be a guarded one.
remote_run both "sampling with guard pages" SNAPALLOC_GUARD=20 SNAPALLOC_GUARD_PER_SEC=0

# Fork: the child re-seeds, so parent and child sample site_after
# differently (without it both would repeat the same draws exactly); both
# snapshots are sampled and carry the inherited sites.  site_after's four
# block sizes make equal estimates from independent draws a one in
# millions chance (sample_prog.c).
rm -f "$SA_SNAPS"/fork.*
sa_run_traced fork env SNAPALLOC_SAMPLE=64K SNAPALLOC_SAMPLE_SEED=5 \
    SNAPALLOC_SNAPSHOT="$SA_SNAPS/fork.%p.snap" "$prog" fork
sa_expect_status fork 0
sa_expect_stderr fork ""
n=0
for f in "$SA_SNAPS"/fork.*.snap; do
    sites "$f" >"$SA_TMP/fork$n.json"
    n=$((n + 1))
done
sa_expect_eq "$n" 2 "snapshots of parent and child"
fork_differs=0
python3 - "$SA_TMP/fork0.json" "$SA_TMP/fork1.json" <<'PY' || fork_differs=$?
import json, math, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
print(a, b)
x = 10 << 20
sd = math.sqrt(65536 * x)
ok = all(r["_hdr"][0] == 65536 and abs(r["site_after"][0] - x) < 5 * sd and r["site_big"] == [2000000, 20]
         for r in (a, b))
ok = ok and a["site_small"] == b["site_small"]
if not ok:
    sys.exit(2)
sys.exit(1 if a["site_after"] == b["site_after"] else 0)
PY
[ "$fork_differs" = 2 ] && sa_fail "fork: the snapshots of parent and child are wrong"
[ "$fork_differs" = 0 ] || sa_fail "fork: the child sampled exactly as its parent"

# The peak trigger on the estimates: the traced current passes 5 MiB steps.
sa_run_traced peak env SNAPALLOC_SAMPLE=64K SNAPALLOC_SAMPLE_SEED=1 SNAPALLOC_PEAK=5M \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_SNAPS/peak.%n.snap" "$prog"
sa_expect_status peak 0
n=$(ls "$SA_SNAPS" | grep -c '^peak\.' || :)
[ "$n" -ge 3 ] || sa_fail "$n peak snapshots under sampling, expected at least 3 (22 MiB in 5 MiB steps)"

sites "$SA_SNAPS/peak.1.snap" >"$SA_TMP/peak.json"
grep -q '"_hdr": \[65536, ' "$SA_TMP/peak.json" || sa_fail "the peak snapshot is not sampled: $(cat "$SA_TMP/peak.json")"

# The signal and interval triggers under sampling: their snapshots are
# sampled ones (the interval in the header), written by the same path.
TPROG=$(sa_helper trace_prog)
rm -f "$SA_SNAPS"/*
sa_run_traced sig env SNAPALLOC_TRACE=8 SNAPALLOC_SAMPLE=64K SNAPALLOC_SIGNAL=USR1 \
    SNAPALLOC_SNAPSHOT="$SA_SNAPS/s.%n.snap" "$TPROG" signals "$SA_SNAPS" 5 0
sa_expect_status sig 0
sa_expect_stderr sig ""
for k in 1 5; do
    sa_snapdump "$SA_SNAPS/s.$k.snap"
    sa_expect_eq "$(sa_snap_field "$SA_SNAPS/s.$k.snap" trigger)" 2 "s.$k.snap: trigger is not 'signal' (2)"
    sa_expect_eq "$(sites "$SA_SNAPS/s.$k.snap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["_hdr"][0])')" \
        65536 "s.$k.snap: sample_interval"
done
rm -f "$SA_SNAPS"/*
sa_run_traced ival env SNAPALLOC_TRACE=8 SNAPALLOC_SAMPLE=64K SNAPALLOC_INTERVAL=0.05 \
    SNAPALLOC_SNAPSHOT_AT_EXIT=0 SNAPALLOC_SNAPSHOT="$SA_SNAPS/i.%n.snap" "$TPROG" interval "$SA_SNAPS"
sa_expect_status ival 0
sa_snapdump "$SA_SNAPS/i.1.snap"
sa_expect_eq "$(sa_snap_field "$SA_SNAPS/i.1.snap" trigger)" 3 "i.1.snap: trigger is not 'interval' (3)"
sa_expect_eq "$(sites "$SA_SNAPS/i.1.snap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["_hdr"][0])')" \
    65536 "i.1.snap: sample_interval"

# Bad values: one warning line each, sampling at the default 512 KiB.
for v in "" 0 -1 12Q 1.5K 2G 1073741825 ' 64K'; do
    sa_run_traced bad env SNAPALLOC_SAMPLE="$v" SNAPALLOC_SNAPSHOT="$SA_SNAPS/bad.snap" "$prog" remote
    sa_expect_status bad 0 "SNAPALLOC_SAMPLE='$v'"
    sa_expect_stderr bad "snapalloc: SNAPALLOC_SAMPLE=\"$v\": not a byte count from 1 to 1G (suffixes K, M, G); sampling every 512K"
    sites "$SA_SNAPS/bad.snap" >"$SA_TMP/bad.json"
    grep -q '"_hdr": \[524288, ' "$SA_TMP/bad.json" || sa_fail "SNAPALLOC_SAMPLE='$v': not sampling at 512K: $(cat "$SA_TMP/bad.json")"
    rm -f "$SA_SNAPS/bad.snap"
done
sa_run_traced seed env SNAPALLOC_SAMPLE=1G SNAPALLOC_SAMPLE_SEED=x SNAPALLOC_SNAPSHOT_AT_EXIT=0 "$prog"
sa_expect_status seed 0
sa_expect_stderr seed 'snapalloc: SNAPALLOC_SAMPLE_SEED="x": not a number from 1 to 2147483647; seeded from the clock'

# The command: run --sample, bad values, and check refusing sampling.
sa_cmd run -o "$SA_TMP/runout" --sample 64K -- "$prog"
sa_expect_status cmd 0 "run --sample 64K"
sa_expect_err_line cmd '  estimated from samples every 64\.0 KiB \(~: an estimate\)' "run --sample's report"
sa_expect_err_line cmd '.*sample_prog\.c:[0-9]* site_big: size=~1953 KiB, count=~20, average=~97\.7 KiB' "run --sample's report"
for v in 0 2G abc ""; do
    sa_cmd run -o "$SA_TMP/runout" --sample "$v" -- "$prog"
    sa_expect_status cmd 2 "run --sample '$v'"
    sa_expect_stderr cmd "snapalloc: --sample: '$v' is not a sampling interval from 1 byte to 1G (K, M, G suffixes allowed)"
done
sa_cmd check --sample 64K -- "$prog"
sa_expect_status cmd 2 "check --sample"
sa_expect_stderr cmd "snapalloc: --sample: a leak check traces every allocation (a sampled scan cannot be exact); use snapalloc run --sample"
sa__run cmd env SNAPALLOC_SAMPLE=64K "$SNAPALLOC_CMD" check -- "$prog"
sa_expect_status cmd 2 "check under SNAPALLOC_SAMPLE"
sa_expect_stderr cmd "snapalloc: check: SNAPALLOC_SAMPLE is set: a leak check traces every allocation (a sampled scan cannot be exact); unset it"
# The library under SNAPALLOC_CHECK: the check wins, with one warning.
mkdir -p "$SA_TMP/chk"
sa_run_preload_nostats chk env SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_DIR="$SA_TMP/chk" SNAPALLOC_SAMPLE=64K "$prog" remote
sa_expect_status chk 0
sa_expect_stderr chk 'snapalloc: SNAPALLOC_SAMPLE="64K": the leak check traces every allocation; not sampling'
sa_pass
