#!/usr/bin/env python3
"""run.py - the benchmark harness: workloads x configurations -> RESULTS.md.

Owns building the workloads and bench/measure, running every (workload,
configuration) pair N times, checking each run's result, and writing
bench/RESULTS.md and bench/out/results.json.  Invoked through bench/run.sh;
see bench/README.md for the options.

RESULTS.md has seven sections, each selectable with --sections:
  alloc      the allocator against glibc, jemalloc, mimalloc, tcmalloc
  tracing    tracing overhead: traced (libunwind, fp) and heaptrack / untraced
  snapwrite  time and size of a snapshot of 1M blocks from 10k stacks
  tracemem   the tracer's memory per live traced allocation
  diff       `snapalloc diff` on two 100k-stack snapshots vs heaptrack_print -d
  leak       `snapalloc check` vs plain, LeakSanitizer, valgrind memcheck
  debug      debug mode (SNAPALLOC_DEBUG=1) vs plain, libc_malloc_debug, memcheck

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
import struct
import zlib
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SRC = os.path.join(HERE, "workloads")
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# Placeholders in commands and environments, filled per run:
#   {lib}  the snapalloc library      {bin}  directory of the built workloads
#   {src}  bench/workloads            {tmp}  scratch directory of this run
#   {python} the python3 interpreter  {tag}  unique name of this run
#   {cmd}  the snapalloc command
#
# A configuration is what changes between runs of the same workload:
#   preload  library put in LD_PRELOAD (must exist, else the config is skipped)
#   env      extra environment variables
#   wrapper  command prefix (its first word must be in PATH)
#   needs_lib  uses the snapalloc library (skipped with a warning when missing)
#   needs_cmd  uses the snapalloc command (likewise)
#   ok_exits   exit statuses besides 0 that count as a good run (a leak verdict)
#   expect_stderr  text the run's stderr must contain, else the run is "not
#              measured": the configuration did not do what it is named for
CONFIGS = {
    "glibc": {"desc": "glibc malloc, nothing preloaded"},
    "jemalloc": {"preload": LIBDIR + "/libjemalloc.so.2"},
    "mimalloc": {"preload": LIBDIR + "/libmimalloc.so.2"},
    "tcmalloc": {"preload": LIBDIR + "/libtcmalloc_minimal.so.4"},
    "snapalloc": {"preload": "{lib}", "needs_lib": True},
    # Opt-in transparent huge pages for the arenas (not a default config).
    "snapalloc-thp": {"preload": "{lib}", "needs_lib": True, "env": {"SNAPALLOC_THP": "1"}},
    "snapalloc-traced": {
        "preload": "{lib}",
        "needs_lib": True,
        "env": {"SNAPALLOC_TRACE": "32", "SNAPALLOC_SNAPSHOT_AT_EXIT": "0"},
    },
    # Sampled tracing (issue 24) at the usual 512 KiB, and jemalloc's own
    # sampled heap profiling at the same mean (2^19), for the A/B of
    # RESULTS.md's "Sampled tracing" section (--configs).
    "snapalloc-sampled": {
        "preload": "{lib}",
        "needs_lib": True,
        "env": {"SNAPALLOC_TRACE": "32", "SNAPALLOC_SAMPLE": "512K",
                "SNAPALLOC_SNAPSHOT_AT_EXIT": "0"},
    },
    "jemalloc-prof": {
        "preload": LIBDIR + "/libjemalloc.so.2",
        "env": {"MALLOC_CONF": "prof:true,lg_prof_sample:19"},
        "reject_stderr": "Invalid conf",
    },
    "snapalloc-traced-fp": {
        "preload": "{lib}",
        "needs_lib": True,
        "env": {"SNAPALLOC_TRACE": "32", "SNAPALLOC_SNAPSHOT_AT_EXIT": "0",
                "SNAPALLOC_UNWIND": "fp"},
    },
    # The leak check as CI runs it; 23 is its "leaks found" status (python3
    # and sqlite3 keep memory at exit), which still measures the cost.
    "snapalloc-check": {
        "wrapper": ["{cmd}", "check", "--"],
        "env": {"SNAPALLOC_LIB": "{lib}"},
        "needs_lib": True,
        "needs_cmd": True,
        "ok_exits": [23],
        "expect_stderr": "snapalloc check: ",
        "reject_stderr": "nothing was checked",
    },
    # Standalone: the library checks at exit and runs `snapalloc check
    # --analyze` itself (SNAPALLOC_CMD names the command to run).
    "snapalloc-check-env": {
        "preload": "{lib}",
        "needs_lib": True,
        "needs_cmd": True,
        "env": {"SNAPALLOC_CHECK": "1", "SNAPALLOC_CMD": "{cmd}"},
        "ok_exits": [23],
        "expect_stderr": "snapalloc check: ",
        "reject_stderr": "nothing was checked",
    },
    # Debug mode (issue 25): guard bytes, fills, quarantine, stacks.
    "snapalloc-debug": {"preload": "{lib}", "needs_lib": True, "env": {"SNAPALLOC_DEBUG": "1"}},
    # Guard pages (issue 25, second half) at their default rate, 1 in 5000.
    "snapalloc-guard": {"preload": "{lib}", "needs_lib": True, "env": {"SNAPALLOC_GUARD": "1"}},
    # glibc's own checking malloc, its strictest setting.
    "glibc-mcheck": {"preload": LIBDIR + "/libc_malloc_debug.so.0", "env": {"MALLOC_CHECK_": "3"}},
    "heaptrack": {"wrapper": ["heaptrack", "-o", "{tmp}/heaptrack.{tag}"]},
    "memcheck": {"wrapper": ["valgrind", "--leak-check=full"]},
    # exitcode=0: leaks at exit (CPython, sqlite3 keep some) must not fail the run;
    # this configuration measures the cost of LeakSanitizer's interception.
    "lsan": {"preload": LIBDIR + "/liblsan.so.0", "env": {"LSAN_OPTIONS": "exitcode=0"}},
}
DEFAULT_CONFIGS = ["glibc", "jemalloc", "mimalloc", "tcmalloc", "snapalloc"]
TRACING_CONFIGS = ["snapalloc", "snapalloc-traced", "snapalloc-traced-fp", "heaptrack"]
# snapalloc-traced splits a check's cost into tracing and the scan at exit.
LEAK_MEMCHECK_REPS = 3
LEAK_CONFIGS = ["glibc", "snapalloc", "snapalloc-traced", "snapalloc-check",
                "snapalloc-check-env", "lsan", "memcheck"]
LEAK_WORKLOADS = ["churn-2m", "python-4", "sqlite"]
SECTIONS = ["alloc", "tracing", "snapwrite", "tracemem", "diff", "leak", "debug"]
# Debug mode (issue 25): the allocator workloads plain, under snapalloc,
# SNAPALLOC_DEBUG=1 and glibc's libc_malloc_debug; memcheck on smaller
# variants of the same workloads, with their own plain runs.
DEBUG_CONFIGS = ["glibc", "snapalloc", "snapalloc-debug", "glibc-mcheck"]
DEBUG_WORKLOADS = ["churn", "prodcons", "larson", "realloc", "python", "sqlite"]
DEBUG_SMALL = {"churn": "churn-2m", "prodcons": "prodcons-1m", "larson": "larson-20",
               "realloc": "realloc-10", "python": "python-4", "sqlite": "sqlite-20k"}
DEBUG_SMALL_CONFIGS = ["glibc", "snapalloc-debug", "memcheck"]
DEBUG_MEMCHECK_REPS = 2
DEBUG_TARGET = 3.0
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
    "churn-2m": {
        "build": "churn.c",
        "cmd": ["{bin}/churn", "2"],
        "desc": "churn with 2M replacements instead of 12M (for the slow leak checkers)",
        "extra": True,
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
    "python-4": {
        "cmd": ["{python}", "{src}/alloc_heavy.py", "4"],
        "env": {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"},
        "desc": "python with 4 rounds instead of 16 (for the slow leak checkers)",
        "extra": True,
    },
    "sqlite": {
        "cmd": ["sqlite3", ":memory:", ".read {src}/sqlite.sql"],
        "desc": "sqlite3 in-memory: 200k-row insert in one transaction, 2 indexes, "
                "aggregates, update, delete, self-join",
    },
    # Smaller variants for memcheck in the debug section (20-50x slower).
    "prodcons-1m": {"build": "prodcons.c", "cmd": ["{bin}/prodcons", "1000"], "extra": True,
                    "desc": "prodcons with 1M objects instead of 6M"},
    "larson-20": {"build": "larson.c", "cmd": ["{bin}/larson", "20"], "extra": True,
                  "desc": "larson with 20 generations instead of 120"},
    "realloc-10": {"build": "realloc.c", "cmd": ["{bin}/realloc", "10"], "extra": True,
                   "desc": "realloc with 10 rounds instead of 60"},
    "sqlite-20k": {"cmd": ["sqlite3", ":memory:", ".parameter set @rows 20000", ".read {src}/sqlite.sql"], "extra": True,
                   "desc": "sqlite with 20k rows instead of 200k"},
}
# The suite (issue 22): patterns modelled on mimalloc-bench's programs
# (workloads/suite.c, workloads/bufgrow.c) and real programs driven as
# users drive them (workloads/real/).  `--suite` runs them all; THREADS=N
# in the environment sets the threads of every threaded one, `--quick`
# (BENCH_QUICK=1) divides their op counts by about 10.
SUITE_MODES = {
    "cfrac": "16..64 B bignum-like temporaries, LIFO-ish frees",
    "espresso": "16..2048 B skewed small, a live set of 20k replaced at random",
    "fifo": "8..512 B skewed small, half temporaries, half kept in a window of 200k freed FIFO",
    "lifo": "as fifo, the kept half freed LIFO",
    "random": "as fifo, the kept half freed in random order",
    "glibc-simple": "malloc/free pairs of 4..2048 B",
    "glibc-thread": "THREADS threads of glibc-simple",
    "alloc-test": "THREADS threads, 1000 live blocks of 16..1024 B each replaced at random",
    "ring": "THREADS threads in a ring, each frees the blocks (16..1024 B) the previous allocated",
    "xmalloc": "THREADS/2 producers, THREADS/2 consumers through a shared pool of batches",
    "mstress": "THREADS threads keeping 4000 blocks of 16..4096 B, a tenth passed on each round",
    "rptest": "THREADS threads, 16 B..16 KiB log-uniform, a quarter freed by the next thread",
    "sh6bench": "THREADS threads, batches of 1000 blocks of 1..1000 B freed in reverse, then in order",
    "cache-scratch": "THREADS threads writing 8-byte objects first handed out by the main thread",
    "cache-thrash": "THREADS threads writing 8-byte objects they allocated",
    "malloc-large": "5..25 MiB blocks, 20 live, written in part",
}
for _m, _d in SUITE_MODES.items():
    WORKLOADS["s-" + _m] = {"build": "suite.c", "cmd": ["{bin}/suite", _m], "desc": _d,
                            "extra": True, "suite": True}
WORKLOADS["bufgrow"] = {
    "build": "bufgrow.c", "cmd": ["{bin}/bufgrow"], "extra": True, "suite": True,
    "desc": "doubling vectors up to 64 KiB, exact-length strings up to 4 KiB, 24 arrays "
            "calloc'd at 64 KiB..8 MiB and written in part, posix_memalign/aligned_alloc "
            "16..4096 in a window of 512 (issue 22's large-block row)"}
for _r, _d in [("redis", "redis-server under redis-benchmark on loopback (set, get, lpush, lpop, "
                         "sadd, hset; 8 clients, 200 B values); redis links jemalloc"),
               ("perl", "perl: a hash of 1M strings built, sorted, mapped and joined"),
               ("gcc", "gcc -O2 compiling three C files of bench/workloads"),
               ("git", "git: 300 commits of generated files, then git gc --aggressive")]:
    WORKLOADS["real-" + _r] = {"cmd": ["sh", "{src}/real/%s.sh" % _r], "desc": _d,
                               "extra": True, "suite": True}
WORKLOADS["real-python"] = dict(WORKLOADS["python"], extra=True, suite=True)
WORKLOADS["real-sqlite"] = dict(WORKLOADS["sqlite"], extra=True, suite=True)
SUITE_WORKLOADS = [w for w in WORKLOADS if WORKLOADS[w].get("suite")]
DEFAULT_WORKLOADS = [w for w in WORKLOADS if not WORKLOADS[w].get("extra")]
# Programs of the tracer sections, built like the workloads, with the flags
# tracegen.c needs to keep its call stacks distinct (see its comment).
TOOLS = {"tracegen.c": ["-I" + os.path.join(REPO, "include"), "-fno-optimize-sibling-calls",
                        "-fno-ipa-icf"]}

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
    p.add_argument("--cmd", help="the snapalloc command (default: snapalloc next to the library's "
                                 "build tree, or PREFIX/bin/snapalloc for PREFIX/lib)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help="comma-separated sections of the report, of: " + ", ".join(SECTIONS))
    p.add_argument("--reps", type=int, default=5, help="timed runs per workload and config (5)")
    p.add_argument("--suite", action="store_true",
                   help="the alloc section over the whole suite (%d workloads; see README)"
                        % len(SUITE_WORKLOADS))
    p.add_argument("--quick", action="store_true",
                   help="small op counts (BENCH_QUICK=1 for every workload), for CI")
    p.add_argument("--slow-reps", type=int, default=3,
                   help="runs per case in the tracing, snapwrite, tracemem, diff and leak "
                        "sections (3)")
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
    if a.suite:
        a.workloads = list(SUITE_WORKLOADS)
    a.sections = [x for x in a.sections.split(",") if x]
    for x in a.sections:
        if x not in SECTIONS:
            die("unknown section %r (known: %s)" % (x, ", ".join(SECTIONS)))
    for c in a.configs:
        if c not in CONFIGS:
            die("unknown configuration %r (known: %s)" % (c, ", ".join(CONFIGS)))
    for w in a.workloads:
        if w not in WORKLOADS:
            die("unknown workload %r (known: %s)" % (w, ", ".join(WORKLOADS)))
    if a.reps < 1 or a.slow_reps < 1:
        die("--reps and --slow-reps must be at least 1")
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


def find_cmd(args, lib):
    """The snapalloc command: --cmd, else next to the library (build or install tree)."""
    if args.cmd:
        return os.path.abspath(args.cmd)
    libdir = os.path.dirname(lib)
    for cand in [os.path.join(os.path.dirname(libdir), "snapalloc"),  # BUILDDIR/.libs/..
                 os.path.join(os.path.dirname(libdir), "bin", "snapalloc")]:  # PREFIX/lib/..
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return shutil.which("snapalloc") or os.path.join(os.path.dirname(libdir), "snapalloc")


def build(bindir):
    """Compile measure.c, the C workloads and the tools into bindir when out of date."""
    cc = os.environ.get("CC", "gcc")
    os.makedirs(bindir, exist_ok=True)
    jobs = [(os.path.join(HERE, "measure.c"), "measure", [])]
    jobs += sorted(set((os.path.join(SRC, w["build"]), os.path.splitext(w["build"])[0], ())
                       for w in WORKLOADS.values() if "build" in w))
    jobs += [(os.path.join(SRC, f), os.path.splitext(f)[0], flags) for f, flags in TOOLS.items()]
    common = os.path.join(SRC, "common.h")
    for src, name, flags in jobs:
        out = os.path.join(bindir, name)
        deps = [src, common, __file__]
        if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(d) for d in deps):
            continue
        cmd = [cc, "-O2", "-g", "-Wall", "-Wextra", "-std=gnu11", "-pthread"] + list(flags) + [
            "-o", out, src]
        r = subprocess.run(cmd)
        if r.returncode != 0:
            die("build failed: " + " ".join(cmd))


def usable_configs(names, lib, cmd):
    """The configurations of `names` that can run here; warns about the others."""
    ok = []
    for name in names:
        c = CONFIGS[name]
        if c.get("needs_lib") and not os.path.exists(lib):
            warn("%s skipped: %s does not exist (give --lib PATH or --builddir DIR)" % (name, lib))
            continue
        if c.get("needs_cmd") and not os.path.exists(cmd):
            warn("%s skipped: the snapalloc command %s does not exist (give --cmd PATH)"
                 % (name, cmd))
            continue
        pre = c.get("preload")
        if pre and not c.get("needs_lib") and not os.path.exists(pre):
            warn("%s skipped: %s does not exist" % (name, pre))
            continue
        if c.get("wrapper") and not c.get("needs_cmd") and not shutil.which(c["wrapper"][0]):
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


def measure_cmd(ctx, cmd, env, tag, ok_exits=()):
    """Run cmd (a list) once under measure with `env` added to the clean
    environment, in the scratch directory.  Returns a dict with wall_s,
    maxrss_kib, utime_s, stime_s, exit, signal, stdout, stderr and, when the
    run failed (timeout, signal, a status not 0 nor in ok_exits, a refused
    preload), error.  Files the run left in the scratch directory are
    deleted; subdirectories stay."""
    out = os.path.join(ctx["tmp"], tag + ".out")
    err = os.path.join(ctx["tmp"], tag + ".err")
    mcmd = [ctx["measure"], "-t", str(ctx["timeout"]), "-o", out, "-E", err, "-i", "/dev/null"]
    for k, v in sorted(env.items()):
        mcmd += ["-e", "%s=%s" % (k, v)]
    mcmd += ["--"] + cmd
    r = subprocess.run(mcmd, env=ctx["env"], cwd=ctx["tmp"], stdout=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        die("measure failed for %s" % " ".join(cmd))
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
        res["stdout"] = f.read()
    with open(err, errors="replace") as f:
        res["stderr"] = f.read()
    tail = " | ".join(l for l in res["stderr"].strip().splitlines()[-2:])[:200]
    if m["timeout"] != "0":
        res["error"] = "timed out after %d s" % ctx["timeout"]
    elif res["signal"]:
        res["error"] = "killed by signal %d: %s" % (res["signal"], tail)
    elif res["exit"] != 0 and res["exit"] not in ok_exits:
        res["error"] = "exit status %d: %s" % (res["exit"], tail)
    elif PRELOAD_ERROR in res["stderr"]:
        res["error"] = "preload failed: " + tail
    # Scratch files of a run (outputs, heaptrack data, snapshots) go with it.
    for f in os.listdir(ctx["tmp"]):
        p = os.path.join(ctx["tmp"], f)
        if os.path.isfile(p):
            os.unlink(p)
    return res


def config_env(config, vals):
    """The environment a configuration adds (LD_PRELOAD included)."""
    c = CONFIGS[config]
    env = {k: fill(v, vals) for k, v in c.get("env", {}).items()}
    if c.get("preload"):
        env["LD_PRELOAD"] = fill(c["preload"], vals)
    return env


def run_one(ctx, workload, config, tag):
    """One measured run of a workload; returns measure_cmd's dict without the
    outputs, plus result (the RESULT lines) and ok."""
    w, c = WORKLOADS[workload], CONFIGS[config]
    vals = dict(ctx["vals"], tag=tag)
    cmd = [fill(x, vals) for x in c.get("wrapper", [])] + [fill(x, vals) for x in w["cmd"]]
    env = {k: fill(v, vals) for k, v in w.get("env", {}).items()}
    env.update(config_env(config, vals))
    res = measure_cmd(ctx, cmd, env, tag, c.get("ok_exits", ()))
    stdout, stderr = res.pop("stdout"), res.pop("stderr")
    res["result"] = [l for l in stdout.splitlines() if l.startswith("RESULT")]
    tail = " | ".join(l for l in stderr.strip().splitlines()[-2:])[:200]
    if "error" in res:
        pass
    elif c.get("reject_stderr") and c["reject_stderr"] in stderr:
        res["error"] = "not measured: " + tail
        res["not_measured"] = True
    elif c.get("expect_stderr") and c["expect_stderr"] not in stderr:
        res["error"] = "not measured: no %r on stderr: %s" % (c["expect_stderr"], tail)
        res["not_measured"] = True
    elif not res["result"]:
        res["error"] = "no RESULT line in output: " + tail
    elif ctx["reference"].get(workload) is not None and res["result"] != ctx["reference"][workload]:
        res["error"] = "wrong result %r (glibc: %r)" % (res["result"], ctx["reference"][workload])
    if c.get("expect_stderr"):
        # What the checker concluded: its report's last line.
        res["verdict"] = next((l.strip() for l in reversed(stderr.splitlines())
                               if c["expect_stderr"] in l), None)
    res["ok"] = "error" not in res
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


def paired_ratio(runs, base_runs, key="wall_s"):
    """The median over repetitions of runs' time / base_runs' time in the
    same repetition.  A repetition runs every configuration back to back,
    so each ratio compares runs taken moments apart: the host is shared,
    and its load drifts from one repetition to the next by more than the
    differences measured (a ratio of medians mixes runs from different
    moments).  None without a common good repetition."""
    base = {r["rep"]: r[key] for r in base_runs if r.get("ok") and r[key] > 0}
    xs = [r[key] / base[r["rep"]] for r in runs if r.get("ok") and r["rep"] in base]
    return median(xs)


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
                "median_sys_s": median([r["stime_s"] for r in good]),
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
            row["time_vs_glibc"] = paired_ratio(per[c], per["glibc"]) if g else None
            row["rss_vs_glibc"] = r / g["median_maxrss_kib"] if g else None
            row["time_vs_best_peer"] = paired_ratio(per[c], per[best_t[0]]) if best_t else None
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


def header_markdown(args, info, cmdline, lib, cmd):
    L = []
    L.append("# snapalloc benchmark results")
    L.append("")
    L.append("Generated by `bench/run.py` in one run; see `bench/README.md` for what each section "
             "measures and how. Sections: %s." % ", ".join(args.sections))
    L.append("")
    L.append("Command: `%s`" % cmdline)
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k in ["date", "nproc", "cpu", "kernel", "glibc", "gcc", "loadavg", "git", "duration"]:
        if k in info:
            L.append("| %s | %s |" % (k, info[k]))
    for what, path in [("snapalloc library", lib), ("snapalloc command", cmd)]:
        if os.path.exists(path):
            built = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
            L.append("| %s | `%s` (built %s) |" % (what, path,
                                                   built.strftime("%Y-%m-%d %H:%M UTC")))
        else:
            L.append("| %s | `%s` (missing) |" % (what, path))
    if info["packages"]:
        L.append("| packages | %s |" % ", ".join(info["packages"]))
    L.append("")
    return L


def alloc_markdown(args, configs, summary):
    L = []
    L.append("## Allocators")
    L.append("")
    L.append("Medians of %d interleaved repetitions per workload and configuration (wall time: "
             "CLOCK_MONOTONIC; peak RSS: `ru_maxrss` from wait4). Time ratios are medians of "
             "per-repetition ratios (a repetition runs every configuration back to back, so a "
             "ratio compares runs moments apart on this shared host); RSS ratios are of medians. "
             "*Best peer* is the best of %s that ran correctly (by median), taken separately for "
             "time and for RSS."
             % (args.reps, "/".join(PEERS)))
    L.append("")
    L.append("Targets for %s: time <= %.1fx glibc and peak RSS <= %.1fx glibc on every workload."
             % (", ".join(TARGET_CONFIGS), TARGET_TIME, TARGET_RSS))
    L.append("")
    targets = [c for c in TARGET_CONFIGS if c in configs]
    if targets:
        L.append("| workload | " + " | ".join(targets) + " |")
        L.append("|---|" + "---|" * len(targets))
        for wname, s in summary.items():
            L.append("| %s | %s |" % (wname, " | ".join(s["rows"][c]["target"] or "-"
                                                       for c in targets)))
        L.append("")

    for wname, s in summary.items():
        L.append("### %s" % wname)
        L.append("")
        L.append(WORKLOADS[wname]["desc"] + ".")
        L.append("")
        L.append("| config | time (s) | sys (s) | peak RSS (MiB) | time / glibc | RSS / glibc "
                 "| time / best peer | RSS / best peer | target |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|---|")
        for c in configs:
            row = s["rows"][c]
            if not row["ok"]:
                L.append("| %s | FAIL | | | | | | | %s |" % (
                    c, (row["error"] or "no run").replace("|", "/")))
                continue
            L.append("| %s | %.3f | %.2f | %.1f | %s | %s | %s | %s | %s |" % (
                c, row["median_wall_s"], row.get("median_sys_s", 0.0),
                row["median_maxrss_kib"] / 1024.0,
                fmt_ratio(row.get("time_vs_glibc")), fmt_ratio(row.get("rss_vs_glibc")),
                fmt_ratio(row.get("time_vs_best_peer")), fmt_ratio(row.get("rss_vs_best_peer")),
                row["target"] or ""))
        L.append("")
        L.append("Best peer: time %s, RSS %s." % (s["best_peer_time"] or "-",
                                                 s["best_peer_rss"] or "-"))
        L.append("")
    return L


# ---- Running many cases ------------------------------------------------------

def progress(ctx, msg):
    if not ctx["quiet"]:
        print(msg, file=sys.stderr)


def reference(ctx, wname):
    """The RESULT lines of an untimed warm-up run under glibc, which every
    timed run must reproduce; None (with a warning) if it fails there."""
    if wname not in ctx["reference"]:
        r = run_one(ctx, wname, "glibc", "warmup-" + wname)
        if r["ok"]:
            ctx["reference"][wname] = r["result"]
            progress(ctx, "warm-up %-9s %7.3f s  %s" % (wname, r["wall_s"], r["result"][0]))
        else:
            warn("%s skipped: fails under glibc: %s" % (wname, r["error"]))
            ctx["reference"][wname] = None
    return ctx["reference"][wname]


def run_matrix(ctx, label, workloads, configs, reps, caps=None):
    """Every workload under every configuration, reps times, interleaved: a
    repetition runs each workload under all configurations back to back,
    their order rotating from one repetition to the next.  A pair that
    failed once is not run again.  caps: {config: at most that many runs}
    (a slow peer whose noise does not matter next to its cost).  Returns
    {workload: {config: [runs]}}."""
    workloads = [w for w in workloads if reference(ctx, w) is not None]
    results = {w: {c: [] for c in configs} for w in workloads}
    caps = caps or {}
    for rep in range(reps):
        for wname in workloads:
            k = rep % len(configs)
            for c in configs[k:] + configs[:k]:
                runs = results[wname][c]
                if any(not r["ok"] for r in runs) or rep >= caps.get(c, reps):
                    continue
                r = run_one(ctx, wname, c, "%s-%s-%d" % (wname, c, rep))
                r["rep"] = rep
                runs.append(r)
                progress(ctx, "%-9s [%d/%d] %-9s %-19s %7.3f s %8.1f MiB  %s" % (
                    label, rep + 1, reps, wname, c, r["wall_s"], r["maxrss_kib"] / 1024.0,
                    "ok" if r["ok"] else "FAIL: " + r["error"]))
    return results


def run_cases(ctx, label, cases, reps):
    """Like run_matrix for plain commands: cases is a list of (name, cmd,
    env, check) where check(res) returns an error string or None.  Runs are
    interleaved and rotated the same way.  Returns {name: [runs]}."""
    results = {name: [] for name, _, _, _ in cases}
    for rep in range(reps):
        k = rep % len(cases)
        for name, cmd, env, check in cases[k:] + cases[:k]:
            if any(not r["ok"] for r in results[name]):
                continue
            r = measure_cmd(ctx, cmd, env, "%s-%s-%d" % (label, name, rep))
            if "error" not in r and check:
                e = check(r)
                if e:
                    r["error"] = e
            r["ok"] = "error" not in r
            r["rep"] = rep
            r.pop("stderr")
            results[name].append(r)
            progress(ctx, "%-9s [%d/%d] %-28s %7.3f s %8.1f MiB  %s" % (
                label, rep + 1, reps, name, r["wall_s"], r["maxrss_kib"] / 1024.0,
                "ok" if r["ok"] else "FAIL: " + r["error"]))
    return results


def rows_of(results, configs):
    """Per workload and configuration: median time, RSS, errors (as summarize)."""
    out = {}
    for wname, per in results.items():
        out[wname] = {}
        for c in configs:
            runs = per.get(c, [])
            good = [r for r in runs if r["ok"]]
            bad = [r for r in runs if not r["ok"]]
            out[wname][c] = {
                "runs": len(runs),
                "ok": not bad and bool(good),
                "error": bad[0]["error"] if bad else None,
                "not_measured": any(r.get("not_measured") for r in bad),
                "median_wall_s": median([r["wall_s"] for r in good]),
                "median_maxrss_kib": median([r["maxrss_kib"] for r in good]),
                "exits": sorted(set(r["exit"] for r in good)),
                "verdict": next((r.get("verdict") for r in good if r.get("verdict")), None),
            }
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


def verdict(ok, measured=True):
    if not measured:
        return "not measured"
    return "pass" if ok else "FAIL"


def cell(x):
    return str(x).replace("|", "/").replace("\n", " ")


# ---- Section: tracing overhead ----------------------------------------------

TRACE_TARGET = 3.0   # traced / untraced time on churn (issue 3); goal 1.5
TRACE_GOAL = 1.5


def section_tracing(ctx, args):
    configs = usable_configs(TRACING_CONFIGS, ctx["vals"]["lib"], ctx["vals"]["cmd"])
    if "snapalloc" not in configs:
        return {"skipped": "no snapalloc library"}
    results = run_matrix(ctx, "tracing", args.workloads, configs, args.slow_reps)
    rows = rows_of(results, configs)
    for wname, per in rows.items():
        ok = per["snapalloc"]["ok"]
        for c, row in per.items():
            row["time_vs_untraced"] = paired_ratio(results[wname][c], results[wname]["snapalloc"]) \
                if row["ok"] and ok else None
    churn = rows.get("churn", {}).get("snapalloc-traced", {})
    t = churn.get("time_vs_untraced")
    target = {"what": "snapalloc-traced time / untraced snapalloc on churn",
              "target": "<= %.1fx (goal %.1fx)" % (TRACE_TARGET, TRACE_GOAL),
              "value": "%.2fx" % t if t else "-",
              "verdict": verdict(t is not None and t <= TRACE_TARGET, t is not None)}
    return {"configs": configs, "rows": rows, "runs": results, "targets": [target]}


def section_head(title, issue, d):
    """A section's title and its targets' verdicts; done is True (and the
    lines say so) when the section was skipped."""
    L = ["## " + title, ""]
    if d.get("skipped"):
        return L + ["Skipped: %s." % d["skipped"], ""], True
    for t in d["targets"]:
        L.append("- Target (issue %d): %s %s; measured **%s**: **%s**." % (
            issue, t["what"], t["target"], t["value"], t["verdict"]))
    L.append("")
    return L, False


def markdown_tracing(args, d):
    L = ["## Tracing overhead", ""]
    if d.get("skipped"):
        return L + ["Skipped: %s." % d["skipped"], ""]
    t = d["targets"][0]
    L.append("Target (issue 3): %s %s; measured **%s**: **%s**. heaptrack is the reference "
             "point (it records every event to a file and analyses offline)." % (
                 t["what"], t["target"], t["value"], t["verdict"]))
    L.append("")
    L.append("How: every workload of the allocator tables under untraced `snapalloc` "
             "(`LD_PRELOAD=libsnapalloc.so`), `snapalloc-traced` (`+ SNAPALLOC_TRACE=32 "
             "SNAPALLOC_SNAPSHOT_AT_EXIT=0`, libunwind), `snapalloc-traced-fp` (`+ "
             "SNAPALLOC_UNWIND=fp`) and `heaptrack -o TMP/FILE PROGRAM` (heaptrack 1.4.0, "
             "glibc malloc), %d interleaved repetitions, medians; ratios are to untraced "
             "snapalloc. Peak RSS of heaptrack includes its own process tree (the command "
             "waits for `heaptrack_interpret`)." % args.slow_reps)
    L.append("")
    cols = d["configs"]
    L.append("| workload | " + " | ".join("%s time (s)" % c for c in cols) + " | " +
             " | ".join("%s / untraced" % c for c in cols if c != "snapalloc") + " | " +
             " | ".join("%s RSS (MiB)" % c for c in cols) + " |")
    L.append("|---|" + "--:|" * (3 * len(cols) - 1))
    for wname, per in d["rows"].items():
        times = [("%.3f" % per[c]["median_wall_s"]) if per[c]["ok"] else
                 "FAIL: " + cell(per[c]["error"])[:80] for c in cols]
        ratios = [("%.2fx" % per[c]["time_vs_untraced"]) if per[c].get("time_vs_untraced")
                  else "-" for c in cols if c != "snapalloc"]
        rss = [("%.1f" % (per[c]["median_maxrss_kib"] / 1024.0)) if per[c]["ok"] else "-"
               for c in cols]
        L.append("| %s | %s | %s | %s |" % (wname, " | ".join(times), " | ".join(ratios),
                                            " | ".join(rss)))
    L.append("")
    return L


# ---- Section: snapshot write --------------------------------------------------

SNAPWRITE_STACKS = 10000
SNAPWRITE_ALLOCS = 1000000
SNAPWRITE_TARGET_S = 0.5
SNAPWRITE_TARGET_BYTES = 10 * 1000 * 1000  # "a few MB"


def trailer_nstacks(path):
    """nstacks from a snapshot's 40-byte trailer (doc/snapshot-format.md);
    a version-3 file's trailer is inside its deflated container."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] == b"SNAPALZ\0":
        data = zlib.decompress(data[24:])
    return struct.unpack_from("<I", data, len(data) - 40)[0]


def section_snapwrite(ctx, args):
    v = ctx["vals"]
    if not os.path.exists(v["lib"]):
        return {"skipped": "no snapalloc library"}
    keep = os.path.join(ctx["tmp"], "snapwrite")
    os.makedirs(keep, exist_ok=True)
    cmd = [v["bin"] + "/tracegen", "snapwrite", keep, str(SNAPWRITE_STACKS),
           str(SNAPWRITE_ALLOCS), str(args.slow_reps)]
    env = config_env("snapalloc-traced", v)
    r = measure_cmd(ctx, cmd, env, "snapwrite")
    calls = []
    for line in r["stdout"].splitlines():
        if line.startswith("snapshot "):
            calls.append({k: float(x) for k, x in (kv.split("=") for kv in line.split()[1:])})
    out = {"command": "LD_PRELOAD=%s SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 %s" % (
        v["lib"], " ".join(cmd)), "run": {k: r[k] for k in ("wall_s", "maxrss_kib", "exit")},
        "calls": calls}
    if "error" in r or len(calls) != args.slow_reps:
        out["error"] = r.get("error") or "expected %d snapshot lines: %s" % (
            args.slow_reps, r["stdout"][-200:])
        out["targets"] = [{"what": "snapshot write (1M blocks, 10k stacks)", "target": "< 0.5 s",
                           "value": "-", "verdict": "FAIL (%s)" % cell(out["error"])[:100]}]
        return out
    out["nstacks"] = trailer_nstacks(os.path.join(keep, "snapwrite.1.snap"))
    shutil.rmtree(keep, ignore_errors=True)
    out["median_s"] = median([c["seconds"] for c in calls])
    out["bytes"] = int(median([c["bytes"] for c in calls]))
    out["targets"] = [
        {"what": "snapshot write time, 1M live blocks from 10k stacks",
         "target": "< %.1f s" % SNAPWRITE_TARGET_S, "value": "%.4f s" % out["median_s"],
         "verdict": verdict(out["median_s"] < SNAPWRITE_TARGET_S)},
        {"what": "snapshot file size, same snapshot",
         "target": "a few MB (<= %d MB)" % (SNAPWRITE_TARGET_BYTES // 1000000),
         "value": "%.2f MB" % (out["bytes"] / 1e6),
         "verdict": verdict(out["bytes"] <= SNAPWRITE_TARGET_BYTES)},
    ]
    return out


def markdown_snapwrite(args, d):
    L, done = section_head("Snapshot write", 3, d)
    if done:
        return L
    L.append("How: `workloads/tracegen.c` (built with `-O2 -g -fno-optimize-sibling-calls "
             "-fno-ipa-icf`) makes %d live blocks of 16..128 B, block j from stack j mod %d; the "
             "stacks are distinct call paths (7 levels of two walker functions spelling the path "
             "number, 100 leaf functions generated by a macro, under 16 shared frames: about 32 "
             "frames each). It then calls `snapalloc_take_snapshot(path)` (declared weak with "
             "`SNAPALLOC_WEAK`) %d times, each timed with `clock_gettime(CLOCK_MONOTONIC)` around "
             "the call; the file size is `stat`'s." % (SNAPWRITE_ALLOCS, SNAPWRITE_STACKS,
                                                        args.slow_reps))
    L.append("")
    L.append("Command: `%s`" % d["command"])
    L.append("")
    if d.get("error"):
        return L + ["Failed: %s" % cell(d["error"]), ""]
    L.append("| call | seconds | bytes |")
    L.append("|--:|--:|--:|")
    for c in d["calls"]:
        L.append("| %d | %.4f | %d |" % (c["rep"], c["seconds"], c["bytes"]))
    L.append("")
    L.append("Median %.4f s, %.2f MB; the file holds %d stacks (the 10 000 plus the program's "
             "own, e.g. the pointer array). The whole traced run took %.2f s, peak RSS %.0f MiB."
             % (d["median_s"], d["bytes"] / 1e6, d["nstacks"], d["run"]["wall_s"],
                d["run"]["maxrss_kib"] / 1024.0))
    L.append("")
    return L


# ---- Section: tracer memory per live allocation ------------------------------

TRACEMEM_N = 1000000
TRACEMEM_SMALL = 1000
TRACEMEM_STACKS = 8
TRACEMEM_TARGET = 16.0


def section_tracemem(ctx, args):
    v = ctx["vals"]
    if not os.path.exists(v["lib"]):
        return {"skipped": "no snapalloc library"}
    tg = v["bin"] + "/tracegen"
    traced = config_env("snapalloc-traced", v)
    plain = config_env("snapalloc", v)

    def parse(r):
        line = next((l for l in r["stdout"].splitlines() if l.startswith("tracemem ")), None)
        if not line:
            return "no tracemem line in output"
        r["mem"] = {k: int(x) for k, x in (kv.split("=") for kv in line.split()[1:])}
        return None

    cases = [
        ("traced-%d" % TRACEMEM_N, [tg, "tracemem", str(TRACEMEM_STACKS), str(TRACEMEM_N)],
         traced, parse),
        ("traced-%d" % TRACEMEM_SMALL, [tg, "tracemem", str(TRACEMEM_STACKS),
                                        str(TRACEMEM_SMALL)], traced, parse),
        ("untraced-%d" % TRACEMEM_N, [tg, "tracemem", str(TRACEMEM_STACKS), str(TRACEMEM_N)],
         plain, parse),
    ]
    res = run_cases(ctx, "tracemem", cases, args.slow_reps)
    out = {"runs": res, "commands": {n: " ".join("%s=%s" % kv for kv in sorted(e.items())) +
                                         " " + " ".join(c) for n, c, e, _ in cases}}
    big, small, unt = (res[n] for n, _, _, _ in cases)
    bad = [r["error"] for rs in (big, small, unt) for r in rs if not r["ok"]]
    if bad:
        out["error"] = bad[0]
        out["targets"] = [{"what": "tracer memory per live traced block", "target": "<= 16 B",
                           "value": "-", "verdict": "FAIL (%s)" % cell(bad[0])[:100]}]
        return out
    # The tracer's accounting is deterministic for a given program; take rep 0.
    b, s = big[0]["mem"], small[0]["mem"]
    db = b["tracer_after"] - b["tracer_before"]
    ds = s["tracer_after"] - s["tracer_before"]
    out["api_big_delta"] = db
    out["api_small_delta"] = ds
    out["api_per_block"] = (db - ds) / float(TRACEMEM_N - TRACEMEM_SMALL)
    out["api_stack_table"] = b["tracer_before"]
    rss_t = median([r["maxrss_kib"] for r in big])
    rss_u = median([r["maxrss_kib"] for r in unt])
    out["rss_traced_kib"], out["rss_untraced_kib"] = rss_t, rss_u
    out["rss_per_block"] = (rss_t - rss_u) * 1024.0 / TRACEMEM_N
    out["time_traced_s"] = median([r["wall_s"] for r in big])
    out["time_untraced_s"] = median([r["wall_s"] for r in unt])
    out["targets"] = [{"what": "tracer memory per live traced block, beyond the interned stacks "
                               "(snapalloc_get_tracemalloc_memory)",
                       "target": "<= %d B" % TRACEMEM_TARGET,
                       "value": "%.2f B" % out["api_per_block"],
                       "verdict": verdict(out["api_per_block"] <= TRACEMEM_TARGET)}]
    return out


def markdown_tracemem(args, d):
    L = ["## Tracer memory per live allocation", ""]
    if d.get("skipped"):
        return L + ["Skipped: %s." % d["skipped"], ""]
    t = d["targets"][0]
    L.append("Target (issue 3): %s %s; measured **%s**: **%s**." % (
        t["what"], t["target"], t["value"], t["verdict"]))
    L.append("")
    L.append("How: `tracegen tracemem %d N` first makes (and frees) one block from each of its %d "
             "stacks, so the stacks are interned, then reads `snapalloc_get_tracemalloc_memory()`"
             " (stack table + per-block trace records), makes N live blocks of 16..512 B (mixed, "
             "deterministic), and reads it again. Per block = (delta at N = %d - delta at N = %d) "
             "/ (%d - %d): what is left of the stack table's growth cancels out. Cross-check "
             "that does not trust the tracer's own accounting: peak RSS of the same program "
             "traced minus untraced, divided by N (this also includes unwinder caches and the "
             "stack table pages touched). Medians of %d runs for RSS." % (
                 TRACEMEM_STACKS, TRACEMEM_STACKS, TRACEMEM_N, TRACEMEM_SMALL, TRACEMEM_N,
                 TRACEMEM_SMALL, args.slow_reps))
    L.append("")
    for n, c in d["commands"].items():
        L.append("- %s: `%s`" % (n, c))
    L.append("")
    if d.get("error"):
        return L + ["Failed: %s" % cell(d["error"]), ""]
    L.append("| measure | value |")
    L.append("|---|--:|")
    L.append("| tracer memory before the blocks (stack table mapped, %d stacks) | %d B |" % (
        TRACEMEM_STACKS, d["api_stack_table"]))
    L.append("| growth for %d live blocks | %d B |" % (TRACEMEM_N, d["api_big_delta"]))
    L.append("| growth for %d live blocks | %d B |" % (TRACEMEM_SMALL, d["api_small_delta"]))
    L.append("| **per live block (tracer accounting)** | **%.2f B** |" % d["api_per_block"])
    L.append("| peak RSS traced / untraced, %d blocks | %.1f / %.1f MiB |" % (
        TRACEMEM_N, d["rss_traced_kib"] / 1024.0, d["rss_untraced_kib"] / 1024.0))
    L.append("| per live block (RSS difference) | %.2f B |" % d["rss_per_block"])
    L.append("| time traced / untraced | %.3f / %.3f s |" % (d["time_traced_s"],
                                                          d["time_untraced_s"]))
    L.append("")
    return L


# ---- Section: diff speed -------------------------------------------------------

DIFF_STACKS = 100000
DIFF_TARGET_S = 2.0


def section_diff(ctx, args):
    v = ctx["vals"]
    if not os.path.exists(v["lib"]) or not os.path.exists(v["cmd"]):
        return {"skipped": "no snapalloc library or command"}
    keep = os.path.join(ctx["tmp"], "diff")
    os.makedirs(keep, exist_ok=True)
    tg = v["bin"] + "/tracegen"
    traced = config_env("snapalloc-traced", v)
    out = {"record": {}}
    snaps = {}
    have_ht = bool(shutil.which("heaptrack") and shutil.which("heaptrack_print"))
    for seed, name in [(1, "A"), (2, "B")]:
        snaps[name] = os.path.join(keep, name + ".snap")
        cmd = [tg, "diffsnap", snaps[name], str(DIFF_STACKS), str(seed)]
        r = measure_cmd(ctx, cmd, traced, "diff-record-" + name)
        out["record"]["snapalloc " + name] = {
            "command": "SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT_AT_EXIT=0 LD_PRELOAD=%s %s" % (
                v["lib"], " ".join(cmd)), "wall_s": r["wall_s"], "error": r.get("error")}
        if "error" in r or not os.path.exists(snaps[name]):
            out["error"] = "recording %s failed: %s" % (name, r.get("error", "no snapshot"))
            break
        out["record"]["snapalloc " + name]["bytes"] = os.path.getsize(snaps[name])
        out["record"]["snapalloc " + name]["nstacks"] = trailer_nstacks(snaps[name])
        if have_ht:
            hcmd = ["heaptrack", "-o", os.path.join(keep, "ht" + name), tg, "diffsnap", "-",
                    str(DIFF_STACKS), str(seed)]
            r = measure_cmd(ctx, hcmd, {}, "diff-heaptrack-" + name)
            f = os.path.join(keep, "ht%s.zst" % name)
            out["record"]["heaptrack " + name] = {"command": " ".join(hcmd), "wall_s": r["wall_s"],
                                                  "error": r.get("error")}
            if "error" in r or not os.path.exists(f):
                have_ht = False
                out["heaptrack_error"] = r.get("error", "no %s" % f)
            else:
                out["record"]["heaptrack " + name]["bytes"] = os.path.getsize(f)
    if "error" in out:
        out["targets"] = [{"what": "snapalloc diff of two 100k-stack snapshots", "target": "< 2 s",
                           "value": "-", "verdict": "FAIL (%s)" % cell(out["error"])[:100]}]
        return out

    def want(text):
        def check(r):
            if text not in r["stdout"]:
                return "no %r in the output: %s" % (text, r["stdout"][-200:])
            return None
        return check

    cases = [
        ("snapalloc diff --top 20", [v["cmd"], "diff", snaps["A"], snaps["B"], "--top", "20"],
         {}, want("[ Top 20 differences by line ]")),
        ("snapalloc diff --top 20 --by traceback",
         [v["cmd"], "diff", snaps["A"], snaps["B"], "--top", "20", "--by", "traceback"], {},
         want("[ Top 20 differences by traceback ]")),
    ]
    if have_ht:
        cases.append(("heaptrack_print -d A -f B",
                      ["heaptrack_print", "-d", os.path.join(keep, "htA.zst"),
                       "-f", os.path.join(keep, "htB.zst")], {}, want("calls to allocation")))
    reps = max(args.slow_reps, 3)
    res = run_cases(ctx, "diff", cases, reps)
    shutil.rmtree(keep, ignore_errors=True)
    out["runs"] = res
    out["commands"] = {n: " ".join(c) for n, c, _, _ in cases}
    out["rows"] = {}
    for n, rs in res.items():
        good = [r for r in rs if r["ok"]]
        out["rows"][n] = {"ok": len(good) == len(rs) and bool(good),
                          "error": next((r["error"] for r in rs if not r["ok"]), None),
                          "median_wall_s": median([r["wall_s"] for r in good]),
                          "median_maxrss_kib": median([r["maxrss_kib"] for r in good])}
    row = out["rows"]["snapalloc diff --top 20"]
    tb = out["rows"]["snapalloc diff --top 20 --by traceback"]
    worst = max([x["median_wall_s"] for x in (row, tb) if x["ok"]], default=None)
    out["targets"] = [{"what": "snapalloc diff of two 100k-stack snapshots, symbolized "
                               "(slower of --by line and --by traceback)",
                       "target": "< %.0f s" % DIFF_TARGET_S,
                       "value": "%.3f s" % worst if worst is not None else "-",
                       "verdict": verdict(row["ok"] and tb["ok"] and worst < DIFF_TARGET_S)
                       if worst is not None else "FAIL (%s)" % cell(row["error"])[:100]}]
    return out


def markdown_diff(args, d):
    L = ["## diff speed", ""]
    if d.get("skipped"):
        return L + ["Skipped: %s." % d["skipped"], ""]
    t = d["targets"][0]
    L.append("Target (issue 4): %s %s; measured **%s**: **%s**." % (
        t["what"], t["target"], t["value"], t["verdict"]))
    L.append("")
    L.append("How: `tracegen diffsnap PATH %d SEED` (see the snapshot-write section for the "
             "stacks; 10 path levels here) allocates 1..4 blocks (count drawn from SEED and the "
             "stack) from each of %d distinct stacks of about 32 frames and snapshots them; "
             "seeds 1 and 2 give A and B, whose counts differ on most stacks. The same program "
             "recorded twice by `heaptrack -o FILE` (blocks left live, so heaptrack sees the "
             "same allocations) gives heaptrack's pair. Timed with `measure`, %d interleaved "
             "runs, medians; both tools symbolize from the `-g` binary. `--by line` (the "
             "default) folds the 100k stacks into 100 leaf call sites; `--by traceback` keeps "
             "100k groups on each side to match." % (DIFF_STACKS, DIFF_STACKS,
                                                      max(args.slow_reps, 3)))
    L.append("")
    if d.get("error"):
        return L + ["Failed: %s" % cell(d["error"]), ""]
    L.append("| recording | time (s) | file | stacks |")
    L.append("|---|--:|--:|--:|")
    for n, r in d["record"].items():
        L.append("| %s: `%s` | %.3f | %s | %s |" % (
            n, r["command"], r["wall_s"],
            "%.1f MB" % (r["bytes"] / 1e6) if r.get("bytes") else cell(r.get("error") or "-"),
            r.get("nstacks", "-")))
    L.append("")
    L.append("| command | time (s) | peak RSS (MiB) |")
    L.append("|---|--:|--:|")
    for n, r in d["rows"].items():
        if r["ok"]:
            L.append("| `%s` | %.3f | %.1f |" % (d["commands"][n], r["median_wall_s"],
                                                r["median_maxrss_kib"] / 1024.0))
        else:
            L.append("| `%s` | FAIL: %s | |" % (d["commands"][n], cell(r["error"])[:150]))
    if d.get("heaptrack_error"):
        L.append("")
        L.append("heaptrack comparison not run: %s" % cell(d["heaptrack_error"]))
    L.append("")
    return L


# ---- Section: leak check cost --------------------------------------------------

LEAK_TARGET = 2.0


def section_leak(ctx, args):
    configs = usable_configs(LEAK_CONFIGS, ctx["vals"]["lib"], ctx["vals"]["cmd"])
    if "glibc" not in configs:
        return {"skipped": "no plain configuration"}
    # The ratios to the plain run are what is judged: the fast configurations
    # get --reps runs (the plain run is short, so its noise weighs), memcheck
    # at most LEAK_MEMCHECK_REPS (20-50x: its noise does not matter).
    reps = max(args.reps, args.slow_reps)
    results = run_matrix(ctx, "leak", LEAK_WORKLOADS, configs, reps,
                         {"memcheck": min(reps, LEAK_MEMCHECK_REPS)})
    rows = rows_of(results, configs)
    for wname, per in rows.items():
        ok = per["glibc"]["ok"]
        for c, row in per.items():
            row["time_vs_plain"] = paired_ratio(results[wname][c], results[wname]["glibc"]) \
                if row["ok"] and ok else None
    targets = []
    for c in ["snapalloc-check", "snapalloc-check-env"]:
        if c not in configs:
            targets.append({"what": "%s time / plain" % c, "target": "<= 2x",
                            "value": "-", "verdict": "not measured (configuration skipped)"})
            continue
        per = [rows[w][c] for w in rows]
        if any(r["not_measured"] for r in per):
            targets.append({"what": "%s time / plain, worst workload" % c, "target": "<= 2x",
                            "value": "-", "verdict": "not yet measured (%s)" % cell(next(
                                r["error"] for r in per if r["not_measured"]))[:120]})
            continue
        vals = [r["time_vs_plain"] for r in per if r["ok"]]
        failed = [r for r in per if not r["ok"]]
        worst = max(vals, default=None)
        targets.append({"what": "%s time / plain, worst workload" % c, "target": "<= 2x",
                        "value": "%.2fx" % worst if worst else "-",
                        "verdict": "FAIL (run failed: %s)" % cell(failed[0]["error"])[:100]
                        if failed else verdict(worst is not None and worst <= LEAK_TARGET)})
    return {"configs": configs, "rows": rows, "runs": results, "targets": targets}


def markdown_leak(args, d):
    L, done = section_head("Leak check cost", 5, d)
    if done:
        return L
    L.append("For scale: valgrind memcheck is commonly 20-46x plain. How: %d interleaved runs "
             "per workload and configuration (memcheck: %d), median times; each ratio is the median of per-repetition ratios to `glibc` (plain run, nothing "
             "preloaded). Configurations: `snapalloc-check` = `snapalloc check -- PROGRAM` "
             "(with `SNAPALLOC_LIB` set to the library under test); `snapalloc-check-env` = "
             "`LD_PRELOAD=libsnapalloc.so SNAPALLOC_CHECK=1 SNAPALLOC_CMD=snapalloc PROGRAM` "
             "(standalone: the library runs the analyzer itself); `lsan` = `LD_PRELOAD=liblsan.so.0 LSAN_OPTIONS=exitcode=0`; `memcheck` "
             "= `valgrind --leak-check=full`. A check's exit status 23 (leaks found) counts as "
             "a good run; the exit column shows the statuses seen. `snapalloc-traced` (tracing "
             "alone, no scan) shows how much of a check's cost is the tracing of every "
             "allocation and how much the scan and report at exit. A check run whose stderr has "
             "no `snapalloc check: ` report line, or says nothing was checked, is *not "
             "measured* rather than fast." % (max(args.reps, args.slow_reps),
                                              min(max(args.reps, args.slow_reps), LEAK_MEMCHECK_REPS)))
    L.append("")
    cols = d["configs"]
    L.append("| workload | config | time (s) | time / plain | peak RSS (MiB) | exit | report |")
    L.append("|---|---|--:|--:|--:|--:|---|")
    for wname, per in d["rows"].items():
        for c in cols:
            r = per[c]
            if not r["ok"]:
                L.append("| %s | %s | %s | | | | %s |" % (
                    wname, c, "not measured" if r["not_measured"] else "FAIL",
                    cell(r["error"] or "no run")[:160]))
                continue
            L.append("| %s | %s | %.3f | %.2fx | %.1f | %s | %s |" % (
                wname, c, r["median_wall_s"], r["time_vs_plain"],
                r["median_maxrss_kib"] / 1024.0, ",".join(map(str, r["exits"])),
                cell(r["verdict"] or "")[:120]))
    L.append("")
    L.append("Workloads: " + "; ".join("`%s`: %s" % (w, WORKLOADS[w]["desc"])
                                       for w in d["rows"]) + ".")
    L.append("")
    return L


# ---- Section: debug mode ----------------------------------------------------

def section_debug(ctx, args):
    configs = usable_configs(DEBUG_CONFIGS, ctx["vals"]["lib"], ctx["vals"]["cmd"])
    if "snapalloc-debug" not in configs or "glibc" not in configs:
        return {"skipped": "no snapalloc library"}
    small_configs = usable_configs(DEBUG_SMALL_CONFIGS, ctx["vals"]["lib"], ctx["vals"]["cmd"])
    workloads = [w for w in args.workloads if w in DEBUG_WORKLOADS] or DEBUG_WORKLOADS
    results = run_matrix(ctx, "debug", workloads, configs, args.reps)
    small = [DEBUG_SMALL[w] for w in workloads]
    small_results = run_matrix(ctx, "debug", small, small_configs, args.slow_reps,
                               {"memcheck": min(args.slow_reps, DEBUG_MEMCHECK_REPS)})
    rows = rows_of(results, configs)
    small_rows = rows_of(small_results, small_configs)
    for res, rws in ((results, rows), (small_results, small_rows)):
        for wname, per in rws.items():
            for c, row in per.items():
                row["time_vs_plain"] = paired_ratio(res[wname][c], res[wname]["glibc"]) \
                    if row["ok"] and per["glibc"]["ok"] else None
                row["rss_vs_plain"] = ratio(row["median_maxrss_kib"],
                                            per["glibc"]["median_maxrss_kib"])
    targets = []
    for wname, per in rows.items():
        t = per["snapalloc-debug"].get("time_vs_plain")
        targets.append({"what": "snapalloc-debug time / plain on %s" % wname,
                        "target": "<= %.1fx" % DEBUG_TARGET,
                        "value": "%.2fx" % t if t else "-",
                        "verdict": verdict(t is not None and t <= DEBUG_TARGET, t is not None)})
    return {"configs": configs, "small_configs": small_configs, "rows": rows,
            "small_rows": small_rows, "runs": results, "small_runs": small_results,
            "targets": targets}


def debug_cell(r, rss=False):
    if not r or not r["ok"]:
        return "FAIL" if r else "-"
    if rss:
        return "%.1f (%.2fx)" % (r["median_maxrss_kib"] / 1024.0, r["rss_vs_plain"])
    return "%.3f (%.2fx)" % (r["median_wall_s"], r["time_vs_plain"])


def debug_rows(rows, time_configs, rss_configs):
    """A table row per workload: the plain run's time, each of time_configs'
    against it, the plain run's peak RSS, each of rss_configs' against it."""
    L = []
    for wname, per in rows.items():
        g = per["glibc"]
        cells = [wname, "%.3f" % g["median_wall_s"] if g["ok"] else "FAIL"]
        cells += [debug_cell(per.get(c)) for c in time_configs]
        cells.append("%.1f" % (g["median_maxrss_kib"] / 1024.0) if g["ok"] else "FAIL")
        cells += [debug_cell(per.get(c), True) for c in rss_configs]
        L.append("| " + " | ".join(cells) + " |")
    return L


def markdown_debug(args, d):
    L, done = section_head("Debug mode cost", 25, d)
    if done:
        return L
    L.append("How: %d interleaved runs per workload and configuration, medians; ratios (in "
             "brackets) are the median of per-repetition ratios to `glibc` (the plain run, "
             "nothing preloaded; peak RSS: ratio of medians). `snapalloc-debug` = "
             "`LD_PRELOAD=libsnapalloc.so SNAPALLOC_DEBUG=1` (4 MiB quarantine, allocation "
             "and free stacks); `glibc-mcheck` = `LD_PRELOAD=libc_malloc_debug.so.0 "
             "MALLOC_CHECK_=3` (glibc's header checks: no stacks, no quarantine). memcheck "
             "(`valgrind --leak-check=full`) runs the smaller variant of each workload (%d "
             "runs), next to that variant's own plain and debug-mode runs (%d runs)."
             % (args.reps, min(args.slow_reps, DEBUG_MEMCHECK_REPS), args.slow_reps))
    L.append("")
    L.append("| workload | plain (s) | snapalloc | debug mode | libc_malloc_debug | "
             "plain RSS (MiB) | debug mode RSS | libc_malloc_debug RSS |")
    L.append("|---|--:|--:|--:|--:|--:|--:|--:|")
    L += debug_rows(d["rows"], ["snapalloc", "snapalloc-debug", "glibc-mcheck"],
                    ["snapalloc-debug", "glibc-mcheck"])
    L.append("")
    L.append("Smaller variants (memcheck):")
    L.append("")
    L.append("| workload | plain (s) | debug mode | memcheck | plain RSS (MiB) | "
             "debug mode RSS | memcheck RSS |")
    L.append("|---|--:|--:|--:|--:|--:|--:|")
    L += debug_rows(d["small_rows"], ["snapalloc-debug", "memcheck"],
                    ["snapalloc-debug", "memcheck"])
    L.append("")
    return L


# ---- Report ------------------------------------------------------------------

def section_alloc(ctx, args):
    configs = usable_configs(args.configs, ctx["vals"]["lib"], ctx["vals"]["cmd"])
    if not configs:
        return {"skipped": "no configuration can run"}
    results = run_matrix(ctx, "alloc", args.workloads, configs, args.reps)
    summary = summarize(results, configs)
    targets = []
    for w, s in summary.items():
        for c in TARGET_CONFIGS:
            if c in s["rows"]:
                row = s["rows"][c]
                targets.append({"what": "%s on %s: time and peak RSS vs glibc" % (c, w),
                                "target": "<= %.1fx, <= %.1fx" % (TARGET_TIME, TARGET_RSS),
                                "value": "%.2fx, %.2fx" % (row["time_vs_glibc"], row["rss_vs_glibc"])
                                if row.get("time_vs_glibc") else "-",
                                "verdict": row["target"] or "-"})
    targets += guard_targets(results)
    return {"configs": configs, "summary": summary, "runs": results, "targets": targets}


GUARD_TARGET = 1.02


def guard_targets(results):
    """Guard pages at the default rate against the plain snapalloc run:
    the median over repetitions of the paired ratio, wall and CPU time."""
    out = []
    for w, per in results.items():
        if "snapalloc-guard" not in per or "snapalloc" not in per:
            continue
        wall = paired_ratio(per["snapalloc-guard"], per["snapalloc"])
        cpu = paired_ratio([dict(r, cpu_s=r.get("utime_s", 0) + r.get("stime_s", 0)) for r in per["snapalloc-guard"]],
                           [dict(r, cpu_s=r.get("utime_s", 0) + r.get("stime_s", 0)) for r in per["snapalloc"]],
                           key="cpu_s")
        ok = wall is not None and min(wall, cpu or wall) <= GUARD_TARGET
        out.append({"what": "snapalloc-guard on %s: time vs snapalloc (wall, CPU)" % w,
                    "target": "<= %.2fx" % GUARD_TARGET,
                    "value": "%.3fx, %.3fx" % (wall, cpu) if wall and cpu else "-",
                    "verdict": verdict(ok, wall is not None)})
    return out


def markdown_alloc(args, d):
    if d.get("skipped"):
        return ["## Allocators", "", "Skipped: %s." % d["skipped"], ""]
    return alloc_markdown(args, d["configs"], d["summary"])


SECTION_FUNCS = {
    "alloc": (section_alloc, markdown_alloc),
    "tracing": (section_tracing, markdown_tracing),
    "snapwrite": (section_snapwrite, markdown_snapwrite),
    "tracemem": (section_tracemem, markdown_tracemem),
    "diff": (section_diff, markdown_diff),
    "leak": (section_leak, markdown_leak),
    "debug": (section_debug, markdown_debug),
}


def summary_markdown(data):
    L = ["## Summary against targets", ""]
    L.append("| section | what | target | measured | verdict |")
    L.append("|---|---|---|---|---|")
    for name, d in data.items():
        for t in d.get("targets", []):
            L.append("| %s | %s | %s | %s | %s |" % (name, t["what"], t["target"], t["value"],
                                                     cell(t["verdict"])))
        if d.get("skipped"):
            L.append("| %s | | | | skipped: %s |" % (name, d["skipped"]))
    L.append("")
    return L


def main(argv):
    args = parse_args(argv)
    invoked = os.environ.get("BENCH_INVOKED_AS", "bench/run.py")
    cmdline = " ".join([invoked] + argv)
    lib = find_lib(args)
    cmd = find_cmd(args, lib)
    bindir = os.path.join(HERE, "out", "bin")
    build(bindir)

    python = args.python or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3")
                             else shutil.which("python3"))
    tmp = tempfile.mkdtemp(prefix="snapalloc-bench.")
    env = base_env()
    if args.quick:
        env["BENCH_QUICK"] = "1"
    ctx = {
        "measure": os.path.join(bindir, "measure"),
        "timeout": args.timeout,
        "tmp": tmp,
        "env": env,
        "quiet": args.quiet,
        "reference": {},
        "vals": {"lib": lib, "cmd": cmd, "bin": bindir, "src": SRC, "tmp": tmp, "python": python},
    }
    info = machine_info()
    t0 = time.monotonic()
    data = {}
    try:
        for name in args.sections:
            progress(ctx, "== section %s" % name)
            data[name] = SECTION_FUNCS[name][0](ctx, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    info["loadavg_end"] = " ".join("%.2f" % x for x in os.getloadavg())
    info["loadavg"] += " (start), %s (end)" % info["loadavg_end"]
    info["duration"] = "%.0f s" % (time.monotonic() - t0)
    L = header_markdown(args, info, cmdline, lib, cmd) + summary_markdown(data)
    for name in args.sections:
        L += SECTION_FUNCS[name][1](args, data[name])
    with open(args.out, "w") as f:
        # The scratch directory is gone; call it TMP in the command lines shown.
        f.write("\n".join(L).replace(tmp, "TMP") + "\n")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({
            "command": cmdline,
            "reps": args.reps,
            "slow_reps": args.slow_reps,
            "machine": info,
            "snapalloc_lib": lib,
            "snapalloc_cmd": cmd,
            "configs": CONFIGS,
            "workloads": {w: dict(WORKLOADS[w], reference=ctx["reference"].get(w))
                          for w in WORKLOADS},
            "targets": {"alloc": {"configs": TARGET_CONFIGS, "time_vs_glibc": TARGET_TIME,
                                  "rss_vs_glibc": TARGET_RSS}},
            "sections": data,
        }, f, indent=1, sort_keys=True)
    progress(ctx, "wrote %s and %s" % (args.out, args.json))
    for name, d in data.items():
        for t in d.get("targets", []):
            if not t["verdict"].startswith("pass"):
                warn("%s: %s: %s (target %s): %s" % (name, t["what"], t["value"], t["target"],
                                                     t["verdict"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
