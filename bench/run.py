#!/usr/bin/env python3
"""run.py - the benchmark harness: workloads x allocator configurations -> RESULTS.md.

Owns building the workloads and bench/measure, running every (workload,
configuration) pair N times, checking each run's result, and writing
bench/RESULTS.md and bench/out/results.json.  Invoked through bench/run.sh;
see bench/README.md for the options.

The machine is shared and noisy, so the runs are interleaved: each repetition
runs every workload under every configuration back to back, the order of
configurations rotating from one repetition to the next, and the report gives
medians.  A run counts only if it exits 0 and prints the same RESULT lines as
an untimed warm-up run under glibc, so an allocator that corrupts memory shows
up as a failure and never as a fast time.

To add a configuration, add an entry to CONFIGS; to add a workload, to
WORKLOADS.  Nothing else needs to change.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SRC = os.path.join(HERE, "workloads")
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# Placeholders in commands and environments, filled per run:
#   {lib}  the snapalloc library      {bin}  directory of the built workloads
#   {src}  bench/workloads            {tmp}  scratch directory of this run
#   {python} the python3 interpreter  {tag}  unique name of this run
#
# A configuration is what changes between runs of the same workload:
#   preload  library put in LD_PRELOAD (must exist, else the config is skipped)
#   env      extra environment variables
#   wrapper  command prefix (its first word must be in PATH)
#   needs_lib  uses the snapalloc library (skipped with a warning when missing)
CONFIGS = {
    "glibc": {"desc": "glibc malloc, nothing preloaded"},
    "jemalloc": {"preload": LIBDIR + "/libjemalloc.so.2"},
    "mimalloc": {"preload": LIBDIR + "/libmimalloc.so.2"},
    "tcmalloc": {"preload": LIBDIR + "/libtcmalloc_minimal.so.4"},
    "snapalloc": {"preload": "{lib}", "needs_lib": True},
    "snapalloc-traced": {
        "preload": "{lib}",
        "needs_lib": True,
        "env": {"SNAPALLOC_TRACE": "32", "SNAPALLOC_SNAPSHOT_AT_EXIT": "0"},
    },
    "heaptrack": {"wrapper": ["heaptrack", "-o", "{tmp}/heaptrack.{tag}"]},
    "memcheck": {"wrapper": ["valgrind", "--leak-check=full"]},
    # exitcode=0: leaks at exit (CPython, sqlite3 keep some) must not fail the run;
    # this configuration measures the cost of LeakSanitizer's interception.
    "lsan": {"preload": LIBDIR + "/liblsan.so.0", "env": {"LSAN_OPTIONS": "exitcode=0"}},
}
DEFAULT_CONFIGS = ["glibc", "jemalloc", "mimalloc", "tcmalloc", "snapalloc"]
PEERS = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
# Targets apply to these configurations: time <= glibc, peak RSS <= 1.1x glibc.
TARGET_CONFIGS = ["snapalloc"]
TARGET_TIME = 1.0
TARGET_RSS = 1.1

# A workload is a command; C sources listed in `build` are compiled first.
WORKLOADS = {
    "churn": {
        "build": "churn.c",
        "cmd": ["{bin}/churn"],
        "desc": "single thread, ~100k live objects of 16..512 B, 12M random replacements",
    },
    "prodcons": {
        "build": "prodcons.c",
        "cmd": ["{bin}/prodcons"],
        "desc": "one thread allocates 6M objects of 16..1024 B, another frees them "
                "(SPSC ring of 256-object batches)",
    },
    "larson": {
        "build": "larson.c",
        "cmd": ["{bin}/larson"],
        "desc": "4 threads x 5000 slots of 16..1000 B; each thread hands its slots to a new "
                "thread every 50k replacements (120 generations)",
    },
    "realloc": {
        "build": "realloc.c",
        "cmd": ["{bin}/realloc"],
        "desc": "realloc growth 16 B..1.2 MiB and back, calloc arrays (zero checked), "
                "posix_memalign/aligned_alloc with alignments 16..4096",
    },
    "python": {
        "cmd": ["{python}", "{src}/alloc_heavy.py"],
        "env": {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"},
        "desc": "python3 with PYTHONMALLOC=malloc: dicts, lists, strings, json dumps/loads",
    },
    "sqlite": {
        "cmd": ["sqlite3", ":memory:", ".read {src}/sqlite.sql"],
        "desc": "sqlite3 in-memory: 200k-row insert in one transaction, 2 indexes, "
                "aggregates, update, delete, self-join",
    },
}
DEFAULT_WORKLOADS = list(WORKLOADS)

PRELOAD_ERROR = "from LD_PRELOAD cannot be preloaded"


def warn(msg):
    print("run.py: warning: " + msg, file=sys.stderr)


def die(msg):
    print("run.py: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(prog=os.environ.get("BENCH_INVOKED_AS", "bench/run.sh"),
                                description="Run allocation workloads under several allocators.")
    p.add_argument("--lib", help="libsnapalloc.so to preload (default: $SNAPALLOC_LIB, then "
                                 "BUILDDIR/.libs/libsnapalloc.so)")
    p.add_argument("--builddir", help="snapalloc build tree to take .libs/libsnapalloc.so from")
    p.add_argument("--reps", type=int, default=5, help="timed runs per workload and config (5)")
    p.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                   help="comma-separated configurations, of: " + ", ".join(CONFIGS))
    p.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS),
                   help="comma-separated workloads, of: " + ", ".join(WORKLOADS))
    p.add_argument("--timeout", type=int, default=600, help="seconds per run before it is killed")
    p.add_argument("--python", default=None, help="python3 for the python workload "
                                                  "(default /usr/bin/python3)")
    p.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"), help="report to write")
    p.add_argument("--json", default=os.path.join(HERE, "out", "results.json"),
                   help="machine-readable results to write")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    a = p.parse_args(argv)
    a.configs = [c for c in a.configs.split(",") if c]
    a.workloads = [w for w in a.workloads.split(",") if w]
    for c in a.configs:
        if c not in CONFIGS:
            die("unknown configuration %r (known: %s)" % (c, ", ".join(CONFIGS)))
    for w in a.workloads:
        if w not in WORKLOADS:
            die("unknown workload %r (known: %s)" % (w, ", ".join(WORKLOADS)))
    if a.reps < 1:
        die("--reps must be at least 1")
    return a


def find_lib(args):
    """The snapalloc library to preload, or None when there is none."""
    if args.lib:
        return os.path.abspath(args.lib)
    if os.environ.get("SNAPALLOC_LIB"):
        return os.path.abspath(os.environ["SNAPALLOC_LIB"])
    dirs = [args.builddir] if args.builddir else [os.getcwd(), REPO]
    for d in dirs:
        cand = os.path.join(os.path.abspath(d), ".libs", "libsnapalloc.so")
        if os.path.exists(cand):
            return cand
    return os.path.join(os.path.abspath(dirs[0]), ".libs", "libsnapalloc.so")


def build(bindir):
    """Compile measure.c and the C workloads into bindir when out of date."""
    cc = os.environ.get("CC", "gcc")
    os.makedirs(bindir, exist_ok=True)
    jobs = [(os.path.join(HERE, "measure.c"), "measure")]
    jobs += [(os.path.join(SRC, w["build"]), os.path.splitext(w["build"])[0])
             for w in WORKLOADS.values() if "build" in w]
    common = os.path.join(SRC, "common.h")
    for src, name in jobs:
        out = os.path.join(bindir, name)
        deps = [src, common, __file__]
        if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(d) for d in deps):
            continue
        cmd = [cc, "-O2", "-g", "-Wall", "-Wextra", "-std=gnu11", "-pthread", "-o", out, src]
        r = subprocess.run(cmd)
        if r.returncode != 0:
            die("build failed: " + " ".join(cmd))


def usable_configs(args, lib):
    """The selected configurations that can run here; warns about the others."""
    ok = []
    for name in args.configs:
        c = CONFIGS[name]
        if c.get("needs_lib") and not os.path.exists(lib):
            warn("%s skipped: %s does not exist (give --lib PATH or --builddir DIR)" % (name, lib))
            continue
        pre = c.get("preload")
        if pre and not c.get("needs_lib") and not os.path.exists(pre):
            warn("%s skipped: %s does not exist" % (name, pre))
            continue
        if c.get("wrapper") and not shutil.which(c["wrapper"][0]):
            warn("%s skipped: %s is not installed" % (name, c["wrapper"][0]))
            continue
        ok.append(name)
    return ok


def fill(s, vals):
    return s.format(**vals)


def base_env():
    """The parent environment without anything that would change the allocator."""
    env = dict(os.environ)
    for k in list(env):
        if k == "LD_PRELOAD" or k.startswith(("MALLOC_", "SNAPALLOC_", "GLIBC_TUNABLES",
                                               "MIMALLOC_", "JE_", "TCMALLOC_", "HEAPTRACK_")):
            del env[k]
    return env


def run_one(ctx, workload, config, tag):
    """One measured run; returns a dict with wall_s, maxrss_kib, ok, error, result."""
    w, c = WORKLOADS[workload], CONFIGS[config]
    vals = dict(ctx["vals"], tag=tag)
    cmd = [fill(x, vals) for x in c.get("wrapper", [])] + [fill(x, vals) for x in w["cmd"]]
    env = {}
    env.update({k: fill(v, vals) for k, v in w.get("env", {}).items()})
    env.update({k: fill(v, vals) for k, v in c.get("env", {}).items()})
    if c.get("preload"):
        env["LD_PRELOAD"] = fill(c["preload"], vals)
    out = os.path.join(ctx["tmp"], tag + ".out")
    err = os.path.join(ctx["tmp"], tag + ".err")
    mcmd = [ctx["measure"], "-t", str(ctx["timeout"]), "-o", out, "-E", err, "-i", "/dev/null"]
    for k, v in sorted(env.items()):
        mcmd += ["-e", "%s=%s" % (k, v)]
    mcmd += ["--"] + cmd
    r = subprocess.run(mcmd, env=ctx["env"], cwd=ctx["tmp"], stdout=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        die("measure failed for %s/%s" % (workload, config))
    m = dict(kv.split("=", 1) for kv in r.stdout.split())
    res = {
        "wall_s": float(m["wall_s"]),
        "maxrss_kib": int(m["maxrss_kib"]),
        "utime_s": float(m["utime_s"]),
        "stime_s": float(m["stime_s"]),
        "exit": int(m["exit"]),
        "signal": int(m["signal"]),
    }
    with open(out, errors="replace") as f:
        stdout = f.read()
    with open(err, errors="replace") as f:
        stderr = f.read()
    res["result"] = [l for l in stdout.splitlines() if l.startswith("RESULT")]
    tail = " | ".join(l for l in stderr.strip().splitlines()[-2:])[:200]
    if m["timeout"] != "0":
        res["error"] = "timed out after %d s" % ctx["timeout"]
    elif res["signal"]:
        res["error"] = "killed by signal %d: %s" % (res["signal"], tail)
    elif res["exit"] != 0:
        res["error"] = "exit status %d: %s" % (res["exit"], tail)
    elif PRELOAD_ERROR in stderr:
        res["error"] = "preload failed: " + tail
    elif not res["result"]:
        res["error"] = "no RESULT line in output: " + tail
    elif ctx["reference"].get(workload) is not None and res["result"] != ctx["reference"][workload]:
        res["error"] = "wrong result %r (glibc: %r)" % (res["result"], ctx["reference"][workload])
    res["ok"] = "error" not in res
    # Scratch files of a run (outputs, heaptrack data, snapshots) go with it.
    for f in os.listdir(ctx["tmp"]):
        p = os.path.join(ctx["tmp"], f)
        if os.path.isfile(p):
            os.unlink(p)
    return res


def machine_info():
    def cmd(*a):
        try:
            return subprocess.run(a, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    pkgs = cmd("dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "libjemalloc2",
               "libmimalloc2.0", "libtcmalloc-minimal4", "sqlite3", "python3", "valgrind",
               "heaptrack", "liblsan0")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "host": platform.node(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "kernel": platform.release(),
        "glibc": os.confstr("CS_GNU_LIBC_VERSION"),
        "gcc": cmd(os.environ.get("CC", "gcc"), "-dumpfullversion"),
        "loadavg": " ".join("%.2f" % x for x in os.getloadavg()),
        "git": (cmd("git", "-C", REPO, "rev-parse", "--short", "HEAD") or "(no commit)") + (
            " + uncommitted changes in src/ or include/"
            if cmd("git", "-C", REPO, "status", "--porcelain", "--", "src", "include") else ""),
        "packages": pkgs.splitlines(),
    }


def median(xs):
    return statistics.median(xs) if xs else None


def summarize(results, configs):
    """Medians, ratios to glibc and to the best peer, and target verdicts per workload."""
    summary = {}
    for wname, per in results.items():
        rows = {}
        for c in configs:
            runs = per.get(c, [])
            good = [r for r in runs if r["ok"]]
            bad = [r for r in runs if not r["ok"]]
            rows[c] = {
                "runs": len(runs),
                "ok": not bad and bool(good),
                "error": bad[0]["error"] if bad else None,
                "median_wall_s": median([r["wall_s"] for r in good]),
                "median_maxrss_kib": median([r["maxrss_kib"] for r in good]),
                "min_wall_s": min([r["wall_s"] for r in good], default=None),
                "max_wall_s": max([r["wall_s"] for r in good], default=None),
                "median_cpu_s": median([r["utime_s"] + r["stime_s"] for r in good]),
            }
        g = rows.get("glibc")
        g = g if g and g["ok"] else None
        peers = [(c, rows[c]) for c in PEERS if c in rows and rows[c]["ok"]]
        best_t = min(peers, key=lambda p: p[1]["median_wall_s"], default=None)
        best_r = min(peers, key=lambda p: p[1]["median_maxrss_kib"], default=None)
        for c, row in rows.items():
            if not row["ok"]:
                row["target"] = "FAIL (run failed)" if c in TARGET_CONFIGS else None
                continue
            t, r = row["median_wall_s"], row["median_maxrss_kib"]
            row["time_vs_glibc"] = t / g["median_wall_s"] if g else None
            row["rss_vs_glibc"] = r / g["median_maxrss_kib"] if g else None
            row["time_vs_best_peer"] = t / best_t[1]["median_wall_s"] if best_t else None
            row["rss_vs_best_peer"] = r / best_r[1]["median_maxrss_kib"] if best_r else None
            if c not in TARGET_CONFIGS:
                row["target"] = None
            elif not g:
                row["target"] = "n/a (no glibc run)"
            else:
                why = []
                if row["time_vs_glibc"] > TARGET_TIME:
                    why.append("time %.2fx glibc" % row["time_vs_glibc"])
                if row["rss_vs_glibc"] > TARGET_RSS:
                    why.append("RSS %.2fx glibc" % row["rss_vs_glibc"])
                row["target"] = "FAIL (%s)" % ", ".join(why) if why else "pass"
        summary[wname] = {
            "rows": rows,
            "best_peer_time": best_t[0] if best_t else None,
            "best_peer_rss": best_r[0] if best_r else None,
        }
    return summary


def fmt_ratio(x):
    return "%.2f" % x if x is not None else "-"


def write_markdown(path, args, info, configs, summary, cmdline, lib):
    L = []
    L.append("# snapalloc benchmark results")
    L.append("")
    L.append("Generated by `bench/run.py`; see `bench/README.md`. Medians of %d interleaved "
             "repetitions per workload and configuration (wall time: CLOCK_MONOTONIC; peak RSS: "
             "`ru_maxrss` from wait4). Ratios are of medians. *Best peer* is the best of %s "
             "that ran correctly, taken separately for time and for RSS." % (args.reps,
                                                                             "/".join(PEERS)))
    L.append("")
    L.append("Targets for %s: time <= %.1fx glibc and peak RSS <= %.1fx glibc on every workload."
             % (", ".join(TARGET_CONFIGS), TARGET_TIME, TARGET_RSS))
    L.append("")
    L.append("Command: `%s`" % cmdline)
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k in ["date", "nproc", "cpu", "kernel", "glibc", "gcc", "loadavg", "git"]:
        L.append("| %s | %s |" % (k, info[k]))
    if os.path.exists(lib):
        built = datetime.datetime.fromtimestamp(os.path.getmtime(lib), datetime.timezone.utc)
        L.append("| snapalloc library | `%s` (built %s) |" % (lib, built.strftime("%Y-%m-%d %H:%M UTC")))
    else:
        L.append("| snapalloc library | `%s` (missing) |" % lib)
    if info["packages"]:
        L.append("| packages | %s |" % ", ".join(info["packages"]))
    L.append("")

    targets = [c for c in TARGET_CONFIGS if c in configs]
    if targets:
        L.append("## Summary against targets")
        L.append("")
        L.append("| workload | " + " | ".join(targets) + " |")
        L.append("|---|" + "---|" * len(targets))
        for wname, s in summary.items():
            L.append("| %s | %s |" % (wname, " | ".join(s["rows"][c]["target"] or "-"
                                                       for c in targets)))
        L.append("")

    for wname, s in summary.items():
        L.append("## %s" % wname)
        L.append("")
        L.append(WORKLOADS[wname]["desc"] + ".")
        L.append("")
        L.append("| config | time (s) | peak RSS (MiB) | time / glibc | RSS / glibc "
                 "| time / best peer | RSS / best peer | target |")
        L.append("|---|--:|--:|--:|--:|--:|--:|---|")
        for c in configs:
            row = s["rows"][c]
            if not row["ok"]:
                L.append("| %s | FAIL | | | | | | %s |" % (
                    c, (row["error"] or "no run").replace("|", "/")))
                continue
            L.append("| %s | %.3f | %.1f | %s | %s | %s | %s | %s |" % (
                c, row["median_wall_s"], row["median_maxrss_kib"] / 1024.0,
                fmt_ratio(row.get("time_vs_glibc")), fmt_ratio(row.get("rss_vs_glibc")),
                fmt_ratio(row.get("time_vs_best_peer")), fmt_ratio(row.get("rss_vs_best_peer")),
                row["target"] or ""))
        L.append("")
        L.append("Best peer: time %s, RSS %s." % (s["best_peer_time"] or "-",
                                                 s["best_peer_rss"] or "-"))
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main(argv):
    args = parse_args(argv)
    invoked = os.environ.get("BENCH_INVOKED_AS", "bench/run.py")
    cmdline = " ".join([invoked] + argv)
    lib = find_lib(args)
    bindir = os.path.join(HERE, "out", "bin")
    build(bindir)
    configs = usable_configs(args, lib)
    if not configs:
        die("no configuration can run")

    python = args.python or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3")
                             else shutil.which("python3"))
    tmp = tempfile.mkdtemp(prefix="snapalloc-bench.")
    ctx = {
        "measure": os.path.join(bindir, "measure"),
        "timeout": args.timeout,
        "tmp": tmp,
        "env": base_env(),
        "reference": {},
        "vals": {"lib": lib, "bin": bindir, "src": SRC, "tmp": tmp, "python": python},
    }
    info = machine_info()
    try:
        # Warm-up: an untimed glibc run per workload, whose RESULT lines every
        # timed run must reproduce.
        workloads = []
        for wname in args.workloads:
            r = run_one(ctx, wname, "glibc", "warmup-" + wname)
            if not r["ok"]:
                warn("%s skipped: fails under glibc: %s" % (wname, r["error"]))
                continue
            ctx["reference"][wname] = r["result"]
            workloads.append(wname)
            if not args.quiet:
                print("warm-up %-9s %7.3f s  %s" % (wname, r["wall_s"], r["result"][0]),
                      file=sys.stderr)
        results = {w: {c: [] for c in configs} for w in workloads}
        for rep in range(args.reps):
            for wname in workloads:
                k = rep % len(configs)
                for c in configs[k:] + configs[:k]:
                    runs = results[wname][c]
                    if any(not r["ok"] for r in runs):
                        continue  # a broken pair is not rerun
                    r = run_one(ctx, wname, c, "%s-%s-%d" % (wname, c, rep))
                    r["rep"] = rep
                    runs.append(r)
                    if not args.quiet:
                        print("[%d/%d] %-9s %-17s %7.3f s %8.1f MiB  %s" % (
                            rep + 1, args.reps, wname, c, r["wall_s"], r["maxrss_kib"] / 1024.0,
                            "ok" if r["ok"] else "FAIL: " + r["error"]), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    info["loadavg_end"] = " ".join("%.2f" % x for x in os.getloadavg())
    info["loadavg"] += " (start), %s (end)" % info["loadavg_end"]
    summary = summarize(results, configs)
    write_markdown(args.out, args, info, configs, summary, cmdline, lib)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({
            "command": cmdline,
            "reps": args.reps,
            "machine": info,
            "snapalloc_lib": lib,
            "configs": {c: CONFIGS[c] for c in configs},
            "workloads": {w: dict(WORKLOADS[w], reference=ctx["reference"][w]) for w in workloads},
            "targets": {"configs": TARGET_CONFIGS, "time_vs_glibc": TARGET_TIME,
                        "rss_vs_glibc": TARGET_RSS},
            "summary": summary,
            "runs": results,
        }, f, indent=1, sort_keys=True)
    if not args.quiet:
        print("wrote %s and %s" % (args.out, args.json), file=sys.stderr)
    failed = [(w, c) for w, s in summary.items() for c, row in s["rows"].items() if not row["ok"]]
    for w, c in failed:
        warn("%s under %s failed: %s" % (w, c, summary[w]["rows"][c]["error"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
