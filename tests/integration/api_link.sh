#!/bin/sh
# api_link.sh - the installed development files: snapalloc.pc gives the
# flags to build a program against include/snapalloc.h and -lsnapalloc,
# and that program's C API calls (snapalloc(3)) give exact figures at -O0
# and -O2; the snapshot it writes is read back by the command with the
# same totals; so is the one it writes sampling at 4 KiB
# (snapalloc_start_sampled) with blocks above the interval, always traced.
# libsnapalloc needs libc alone: it loads libunwind and zlib when tracing
# starts, so an untraced process maps neither.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init api_link
command -v pkg-config >/dev/null 2>&1 || sa_skip "pkg-config is not installed"
libdir=$(dirname "$SNAPALLOC_LIB")
if [ -f "$libdir/pkgconfig/snapalloc.pc" ]; then
    # Installed (make install, as .ci/test does): the file as installed.
    export PKG_CONFIG_PATH="$libdir/pkgconfig"
    flags=$(pkg-config --cflags --libs snapalloc) || sa_fail "pkg-config snapalloc"
else
    # A build tree: the generated file, pointed at the build's library.
    export PKG_CONFIG_PATH="$top_builddir"
    flags=$(pkg-config --define-variable=libdir="$libdir" \
        --define-variable=includedir="$top_srcdir/include" --cflags --libs snapalloc) ||
        sa_fail "pkg-config snapalloc"
fi
case " $flags " in *" -lsnapalloc "*) ;; *) sa_fail "pkg-config --libs has no -lsnapalloc: $flags" ;; esac
if command -v readelf >/dev/null 2>&1; then
    needed=$(LC_ALL=C readelf -d "$SNAPALLOC_LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    [ "$needed" = "libc.so.6 " ] || sa_fail "libsnapalloc needs more than libc: $needed"
fi
[ "$(pkg-config --modversion snapalloc)" = "$(sed -n 's/^AC_INIT(\[snapalloc\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")" ] ||
    sa_fail "pkg-config --modversion is not the package version"
for level in O0 O2; do
    prog=$SA_TMP/api_prog_$level
    # shellcheck disable=SC2086
    sa_build "$prog" "$SA_SRC/api_prog.c" $level $flags -Wl,-rpath,"$libdir"
    # Linked, not preloaded: the program's malloc is libsnapalloc's.
    ldd "$prog" | grep -q "libsnapalloc.so => $libdir/" || sa_fail "-$level: not linked with $libdir's libsnapalloc"
    sa_run_plain prog-$level "$prog" "$SA_TMP/api-$level.snap" "$SA_TMP/api-sampled-$level.snap"
    sa_expect_status prog-$level 0
    sa_expect_stdout prog-$level "current=101100 peak=101100 frames>0=1 snapshot=0 after_free=1100 peak=101100
tracing=0 stats=1
sampled: cleared=0 current=30000 snapshot=0"
    sa_cmd show --format json "$SA_TMP/api-$level.snap"
    sa_expect_status cmd 0 "-$level: show"
    sa_expect_stderr cmd ""
    python3 - "$(sa_out cmd)" <<'PY' || sa_fail "-$level: the snapshot read back"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["snapshot"]
ok = (s["total_size"], s["total_count"], s["traced_current"], s["trigger"], s["frame_limit"]) == (101100, 3, 101100, "api", 8)
g = d["stats"]
ok = ok and len(g) == 1 and (g[0]["size"], g[0]["count"], g[0]["site"]["function"]) == (101100, 3, "make")
ok = ok and g[0]["site"]["file"].endswith("api_prog.c")
if not ok:
    print(json.dumps(d, indent=1)[:2000])
    sys.exit(1)
PY
    sa_cmd show --format json "$SA_TMP/api-sampled-$level.snap"
    sa_expect_status cmd 0 "-$level: show sampled"
    python3 - "$(sa_out cmd)" <<'PY' || sa_fail "-$level: the sampled snapshot read back"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["snapshot"]
g = d["stats"]
ok = (s["sample_interval"], s["estimated"], s["total_size"], s["total_count"]) == (4096, True, 30000, 3)
ok = ok and len(g) == 1 and (g[0]["size"], g[0]["count"], g[0]["site"]["function"]) == (30000, 3, "make")
if not ok:
    print(json.dumps(d, indent=1)[:2000])
    sys.exit(1)
PY
done
sa_pass
