#!/usr/bin/env python3
"""sample_accuracy.py - sampled heap profiles against the exact figures, snapalloc and jemalloc.

Owns issue 24's accuracy comparison: tests/integration/sample_prog.c keeps a
known amount of live memory per call site (full tracing gives it exactly);
this script runs it N times under snapalloc's sampled tracing
(SNAPALLOC_SAMPLE) and N times under jemalloc's heap profiling
(prof:true,lg_prof_sample), turns each run's profile into bytes per site and
reports, per site and per profiler, the mean of the estimates, the error of
the mean, the spread against the theory (the Horvitz-Thompson estimator
sum of s/p over the sampled blocks, p = 1 - exp(-s/T), has the standard
deviation sqrt(n s^2 (1-p)/p) for n blocks of s bytes) and the distribution
of the per-run errors.  stdlib only; see bench/README.md.

jemalloc's numbers: its 5.3 dump does not hold its estimate directly.  It
keeps, per stack, the sum over the sampled blocks of usize/(1-exp(-usize/T))
(opt.prof_unbias, default on) and writes the (count, bytes) pair that
jeprof's pprof-style unbiasing, bytes/(1-exp(-(bytes/count)/T)), turns back
into that sum (src/prof_data.c, prof_do_unbias); the count is rounded to an
integer on the way.  This script applies jeprof's formula, so its figures
are the ones `jeprof --text --show_bytes` prints.  They are in usable bytes
(jemalloc's size classes: 100000 -> 114688), so they are compared with the
exact count times the size class as well as with the requested bytes.  A
second set of jemalloc runs with prof_unbias:false dumps the sampled blocks'
plain count and bytes, on which jeprof's formula is the exact
Horvitz-Thompson estimate for a site of one block size: the sampler without
the default dump's rounding.

Exit status: 0 the report was written (whatever its verdicts), 1 a run or a
file went wrong, 2 bad arguments (e.g. a --builddir without snapalloc).
"""

import argparse
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import json

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PROG_SRC = os.path.join(REPO, "tests", "integration", "sample_prog.c")
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
SITES = ("site_small", "site_page", "site_big", "site_churn", "site_after")


class Failure(Exception):
    """A run or a file that is not what it should be: one line, exit 1."""


def die(msg, status=2):
    print("sample_accuracy: %s" % msg, file=sys.stderr)
    sys.exit(status)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Accuracy of sampled heap profiles (snapalloc, jemalloc) "
                                             "on tests/integration/sample_prog.c.")
    ap.add_argument("--builddir", default=os.environ.get("SNAPALLOC_BUILDDIR", os.path.join(REPO, "_build")),
                    help="snapalloc build directory (with .libs/libsnapalloc.so and snapalloc; default _build)")
    ap.add_argument("--runs", type=int, default=20, help="sampled runs per profiler (default 20)")
    ap.add_argument("--interval", default="64K", help="mean sampling interval, a power of two (default 64K)")
    ap.add_argument("--jemalloc", default=JEMALLOC, help="jemalloc library (default Debian's %s)" % JEMALLOC)
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="C compiler (default $CC or gcc)")
    ap.add_argument("--out", help="also write the report (markdown) to this file")
    a = ap.parse_args(argv)
    lib = os.path.join(a.builddir, ".libs", "libsnapalloc.so")
    cmd = os.path.join(a.builddir, "snapalloc")
    if not os.path.isfile(lib) or not os.access(cmd, os.X_OK):
        die("--builddir %s: no .libs/libsnapalloc.so and snapalloc there (build snapalloc first)" % a.builddir)
    a.lib, a.cmd = os.path.abspath(lib), os.path.abspath(cmd)
    m = re.fullmatch(r"([0-9]+)([KM]?)", a.interval)
    t = int(m.group(1)) << {"": 0, "K": 10, "M": 20}[m.group(2)] if m else 0
    if t < 2 or t & (t - 1):
        die("--interval %s: not a power of two from 2 bytes (jemalloc takes its log)" % a.interval)
    a.T, a.lg_T = t, t.bit_length() - 1
    if a.runs < 2:
        die("--runs %d: at least 2 runs are needed for a spread" % a.runs)
    return a


def run(argv, env=None, what=""):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    if p.returncode != 0:
        raise Failure("%s: %s exited %d: %s" % (what, " ".join(argv), p.returncode, p.stderr.strip()[-300:]))
    return p


def build(a, tmp):
    prog = os.path.join(tmp, "sample_prog")
    # -g and frame pointers only so that jemalloc's raw addresses can be
    # mapped to functions here; snapalloc symbolizes by itself.
    run([a.cc, "-O2", "-g", "-fno-omit-frame-pointer", "-pthread", "-o", prog, PROG_SRC], what="build")
    return prog


# --- snapalloc ------------------------------------------------------------

def snapalloc_sites(a, snap):
    """{site: (bytes, count)} and the header's sample_interval of one snapshot."""
    out = run([a.cmd, "show", "--format", "json", "--top", "0", snap], what="snapalloc show").stdout
    d = json.loads(out)
    sites = {}
    for g in d["stats"]:
        f = g["site"].get("function") or "other"
        f = f if f in SITES else "other"
        b, c = sites.get(f, (0, 0))
        sites[f] = (b + g["size"], c + g["count"])
    return sites, d["snapshot"].get("sample_interval", 0)


def snapalloc_run(a, prog, tmp, seed):
    snap = os.path.join(tmp, "sa.%s.snap" % (seed or "full"))
    env = {"LD_PRELOAD": a.lib, "SNAPALLOC_TRACE": "32", "SNAPALLOC_SNAPSHOT": snap}
    if seed:
        env.update(SNAPALLOC_SAMPLE=str(a.T), SNAPALLOC_SAMPLE_SEED=str(seed))
    run([prog], env, "snapalloc run %s" % (seed or "full"))
    sites, interval = snapalloc_sites(a, snap)
    if interval != (a.T if seed else 0):
        raise Failure("snapalloc run %s: the snapshot's sample_interval is %d" % (seed or "full", interval))
    os.unlink(snap)
    return sites


# --- jemalloc -------------------------------------------------------------

def elf_exec_segments(path):
    """[(p_offset, p_vaddr, p_filesz)] of the executable PT_LOAD segments of an ELF64 file."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
            raise Failure("%s: not a little-endian ELF64 file" % path)
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", ph, i * phentsize)
        if p_type == 1 and p_flags & 1:
            segs.append((p_offset, p_vaddr, p_filesz))
    return segs


def function_ranges(prog):
    """[(start, end, name)] of the binary's functions, from nm -S."""
    out = run(["nm", "-S", "--defined-only", prog], what="nm").stdout
    funcs = []
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and w[2] in "tTwW":
            start, size = int(w[0], 16), int(w[1], 16)
            funcs.append((start, start + size, w[3]))
    return funcs


def parse_heap(path):
    """([(frames, curobjs, curbytes)], [(start, end, offset, perms, path)]) of a heap_v2 file."""
    stacks, maps, interval = [], [], None
    frames = None
    in_maps = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if in_maps:
                m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)", line)
                if m:
                    maps.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(4), 16),
                                 m.group(3), m.group(5)))
            elif line.startswith("heap_v2/"):
                interval = int(line.split("/")[1])
            elif line.startswith("@"):
                frames = [int(x, 16) for x in line.split()[1:]]
            elif frames is not None and line.startswith("  t*:"):
                m = re.match(r"\s*t\*: (\d+): (\d+) \[", line)
                if not m:
                    raise Failure("%s: not a heap_v2 count line: %s" % (path, line))
                stacks.append((frames, int(m.group(1)), int(m.group(2))))
                frames = None
            elif line.startswith("MAPPED_LIBRARIES:"):
                in_maps = True
    if interval is None:
        raise Failure("%s: no heap_v2 header" % path)
    return stacks, maps, interval


def jeprof_unbias(curobjs, curbytes, T):
    """What jeprof makes of a dumped (count, bytes) pair: pprof's unbiasing with the mean size."""
    if curobjs == 0 or curbytes == 0:
        return 0.0, 0.0
    scale = 1.0 / -math.expm1(-(curbytes / curobjs) / T)
    return curbytes * scale, curobjs * scale


class Symbolizer:
    """Runtime addresses in one run's mappings -> sample_prog's function names."""

    def __init__(self, prog):
        self.prog = os.path.realpath(prog)
        self.segs = elf_exec_segments(prog)
        self.funcs = function_ranges(prog)

    def site_of(self, frames, maps):
        mine = [(s, e, off) for s, e, off, perms, path in maps
                if "x" in perms and path and os.path.realpath(path) == self.prog]
        for i, addr in enumerate(frames):
            # Frames after the first are return addresses: the call is just before.
            pc = addr - 1 if i > 0 else addr
            for s, e, off in mine:
                if s <= pc < e:
                    fileoff = pc - s + off
                    for p_off, p_vaddr, p_sz in self.segs:
                        if p_off <= fileoff < p_off + p_sz:
                            vaddr = fileoff - p_off + p_vaddr
                            for fs, fe, name in self.funcs:
                                if fs <= vaddr < fe and name in SITES:
                                    return name
        return "other"


def jemalloc_conf(a, unbias):
    return "prof:true,lg_prof_sample:%d,prof_final:true%s" % (a.lg_T, "" if unbias else ",prof_unbias:false")


def jemalloc_run(a, prog, tmp, k, sym, unbias):
    """{site: (estimated bytes, estimated count)} and the raw stacks of jemalloc run k."""
    d = os.path.join(tmp, "je%d%s" % (k, "" if unbias else "raw"))
    os.mkdir(d)
    conf = "%s,prof_prefix:%s/jeprof" % (jemalloc_conf(a, unbias), d)
    run([prog], {"LD_PRELOAD": a.jemalloc, "MALLOC_CONF": conf}, "jemalloc run %d" % k)
    files = [f for f in os.listdir(d) if f.endswith(".heap")]
    if len(files) != 1:
        return None, None
    stacks, maps, interval = parse_heap(os.path.join(d, files[0]))
    if interval != a.T:
        raise Failure("jemalloc run %d: the profile says heap_v2/%d, not %d" % (k, interval, a.T))
    sites, raw = {}, []
    for frames, objs, nbytes in stacks:
        site = sym.site_of(frames, maps)
        b, c = jeprof_unbias(objs, nbytes, a.T)
        ob, oc = sites.get(site, (0.0, 0.0))
        sites[site] = (ob + b, oc + c)
        raw.append((site, objs, nbytes))
    shutil.rmtree(d)
    return sites, sorted(raw)


def jemalloc_usize(size):
    """jemalloc 5.3's size class of a request (sz_s2u: 4 classes per doubling, 16-byte quantum)."""
    if size <= 8:
        return 8
    x = (2 * size - 1).bit_length() - 1
    lg_delta = 4 if x < 2 + 4 + 1 else x - 2 - 1
    delta = 1 << lg_delta
    return (size + delta - 1) & ~(delta - 1)


# --- statistics and the report -------------------------------------------

def theory_sd(n, s, T, exact_above):
    if exact_above and s > T:
        return 0.0
    p = -math.expm1(-s / T)
    return math.sqrt(n * s * s * (1 - p) / p)


def summarize(estimates, exact, sd_theory, runs):
    mean = statistics.mean(estimates)
    sd = statistics.stdev(estimates)
    errs = sorted(100.0 * (e / exact - 1) for e in estimates)
    se = sd_theory / math.sqrt(runs)
    return {"mean": mean, "err": 100.0 * (mean / exact - 1), "sd": sd, "sd_pct": 100.0 * sd / exact,
            "theory": sd_theory, "theory_pct": 100.0 * sd_theory / exact,
            "z": (mean - exact) / se if se else (0.0 if mean == exact else float("inf")),
            "min": errs[0], "median": statistics.median(errs), "max": errs[-1]}


def fmt_row(name, exact, st):
    return ("| %s | %s | %s | %+.2f%% (%+.1f SE) | %s (%.1f%%) | %s (%.1f%%) | %+.1f%% / %+.1f%% / %+.1f%% |"
            % (name, "{:,}".format(round(exact)), "{:,}".format(round(st["mean"])), st["err"], st["z"],
               "{:,}".format(round(st["sd"])), st["sd_pct"], "{:,}".format(round(st["theory"])),
               st["theory_pct"], st["min"], st["median"], st["max"]))


HEAD = ("| site | exact | mean of %d estimates | error of the mean | sd (%% of exact) | "
        "theory sqrt(n s^2 (1-p)/p) | per-run error min / median / max |\n|---|--:|--:|--:|--:|--:|--:|")


def site_table(a, exact, runs, size_of, exact_above, label):
    """The markdown rows of one profiler's runs, whether every mean is within 3%, and the chance
    that an unbiased estimator misses that by noise alone."""
    lines, ok, p_within = [HEAD % len(runs)], True, 1.0
    for site, (x, n) in exact.items():
        s = size_of(round(x / n))
        st = summarize([r.get(site, (0, 0))[0] for r in runs], n * s, theory_sd(n, s, a.T, exact_above),
                       len(runs))
        lines.append(fmt_row("%s: %d x %d B%s" % (site, n, s, label), n * s, st))
        ok = ok and abs(st["err"]) <= 3.0
        # How often an unbiased estimator with the theory's spread keeps
        # its mean of len(runs) within 3%: P(|Z| <= 3% / SE).
        se_pct = st["theory_pct"] / math.sqrt(len(runs))
        p_within *= math.erf(3.0 / se_pct / math.sqrt(2)) if se_pct else 1.0
    return lines, ok, 1.0 - p_within


def chance(miss):
    return " (an unbiased estimator with the theory's spread misses this %.0f%% of the time)" % (100 * miss)


def report(a, exact, sa_runs, je, je_note):
    """je: {"unbias": runs, "raw": runs} or None (with je_note saying why)."""
    T = a.T
    lines = ["`sample_prog` (tests/integration/sample_prog.c, -O2), mean sampling interval T = %d bytes, "
             "%d runs each.  Exact: one fully traced snapalloc run (`SNAPALLOC_TRACE=32`).  SE: the "
             "theory's standard error of a mean of %d runs, sd/sqrt(%d), so an error of the mean "
             "of 3%% is 3%% / SE standard errors."
             % (T, a.runs, a.runs, a.runs), ""]
    lines.append("snapalloc (`SNAPALLOC_TRACE=32 SNAPALLOC_SAMPLE=%d SNAPALLOC_SAMPLE_SEED=1..%d`, "
                 "requested bytes; blocks above T are always recorded):" % (T, a.runs))
    lines.append("")
    rows, sa_ok, sa_miss = site_table(a, exact, sa_runs, lambda s: s, True, "")
    lines.extend(rows)
    verdicts = ["snapalloc: the mean within 3%% of the exact figure for every site: %s%s"
                % ("pass" if sa_ok else "FAIL", chance(sa_miss))]
    lines.append("")
    if je is None:
        lines.append("jemalloc: %s" % je_note)
        verdicts.append("jemalloc: not measured (%s)" % je_note)
    else:
        lines.append("jemalloc (`%s`, `MALLOC_CONF=%s`; no seed option: its generator is seeded from "
                     "its thread data's address, so runs differ by ASLR; %s).  The estimates are "
                     "jeprof's reading of the dump (what `jeprof --text --show_bytes` prints), in usable "
                     "bytes, compared with the exact count times jemalloc's size class:"
                     % (a.jemalloc, jemalloc_conf(a, True), je_note["unbias"]))
        lines.append("")
        rows, je_ok, je_miss = site_table(a, exact, je["unbias"], jemalloc_usize, False, " (usable)")
        lines.extend(rows)
        lines.append("")
        lines.append("The same estimates against the requested bytes (what snapalloc estimates):")
        lines.append("")
        for site, (x, n) in exact.items():
            u = jemalloc_usize(round(x / n))
            st = summarize([r.get(site, (0, 0))[0] for r in je["unbias"]], x, theory_sd(n, u, T, False),
                           a.runs)
            if not lines[-1].startswith("|"):
                lines.append(HEAD % a.runs)
            lines.append(fmt_row("%s: %d x %d B (requested)" % (site, n, round(x / n)), x, st))
        lines.append("")
        lines.append("jemalloc with `%s` (%s): the dump holds the sampled blocks' own count and usable "
                     "bytes, and jeprof's s/(1-exp(-s/T)) on them is the exact Horvitz-Thompson "
                     "estimate of a single-size site, without the rounding of the default dump:"
                     % (jemalloc_conf(a, False), je_note["raw"]))
        lines.append("")
        rows, raw_ok, raw_miss = site_table(a, exact, je["raw"], jemalloc_usize, False, " (usable)")
        lines.extend(rows)
        others = [r.get("other", (0, 0))[0] for r in je["unbias"]]
        lines.append("")
        lines.append("Outside sample_prog's sites (libstdc++'s start-up pool, which jemalloc's library "
                     "loads): mean %s bytes." % "{:,}".format(round(statistics.mean(others))))
        verdicts.append("jemalloc (default dump): the mean within 3%% of the exact figure (usable bytes) "
                        "for every site: %s%s" % ("pass" if je_ok else "FAIL", chance(je_miss)))
        verdicts.append("jemalloc (prof_unbias:false): the mean within 3%% of the exact figure (usable "
                        "bytes) for every site: %s%s" % ("pass" if raw_ok else "FAIL", chance(raw_miss)))
    lines.append("")
    lines.extend("Verdict: " + v for v in verdicts)
    return "\n".join(lines) + "\n"


def jemalloc_all(a, prog, tmp):
    """({"unbias": runs, "raw": runs}, notes) or (None, why not)."""
    if not os.path.isfile(a.jemalloc):
        return None, "%s does not exist" % a.jemalloc
    sym = Symbolizer(prog)
    je, notes = {}, {}
    for key, unbias in (("unbias", True), ("raw", False)):
        runs, raws = [], []
        for k in range(1, a.runs + 1):
            sites, raw = jemalloc_run(a, prog, tmp, k, sym, unbias)
            if sites is None:
                return None, "no heap profile at exit under MALLOC_CONF=prof:true (a build without --enable-prof)"
            runs.append(sites)
            raws.append(raw)
        je[key] = runs
        notes[key] = "%d distinct dumps in %d runs" % (len(set(map(repr, raws))), a.runs)
    return je, notes


def main(argv):
    a = parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="sample_accuracy.")
    try:
        prog = build(a, tmp)
        full = snapalloc_run(a, prog, tmp, 0)
        exact = {s: (full[s][0], full[s][1]) for s in SITES if s in full}
        if not exact:
            raise Failure("the fully traced run shows none of sample_prog's sites: %s" % sorted(full))
        sa_runs = [snapalloc_run(a, prog, tmp, k) for k in range(1, a.runs + 1)]
        je, je_note = jemalloc_all(a, prog, tmp)
        text = report(a, exact, sa_runs, je, je_note)
    except (Failure, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
        die(str(e), 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.write(text)
    if a.out:
        try:
            with open(a.out, "w") as f:
                f.write(text)
        except OSError as e:
            die("--out %s: %s" % (a.out, e.strerror), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
