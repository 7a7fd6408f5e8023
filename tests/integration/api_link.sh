#!/bin/sh
# api_link.sh - the installed development files: snapalloc.pc gives the
# flags to build a program against include/snapalloc.h and -lsnapalloc,
# and that program's C API calls (snapalloc(3)) give exact figures; the
# snapshot it writes is read back by the command with the same totals.
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
[ "$(pkg-config --modversion snapalloc)" = "$(sed -n 's/^AC_INIT(\[snapalloc\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")" ] ||
    sa_fail "pkg-config --modversion is not the package version"
# shellcheck disable=SC2086
${CC:-cc} -g -O2 -o "$SA_TMP/api_prog" "$top_srcdir/tests/integration/api_prog.c" $flags \
    -Wl,-rpath,"$libdir" 2>"$SA_TMP/cc.err" || { cat "$SA_TMP/cc.err"; sa_fail "cannot build against snapalloc.pc"; }
# Linked, not preloaded: the program's malloc is libsnapalloc's.
ldd "$SA_TMP/api_prog" | grep -q "libsnapalloc.so => $libdir/" || sa_fail "not linked with $libdir's libsnapalloc"
sa_run_plain prog "$SA_TMP/api_prog" "$SA_TMP/api.snap"
[ "$(sa_status prog)" = 0 ] || { sa_show prog; sa_fail "the program exited $(sa_status prog)"; }
want="current=101100 peak=101100 frames>0=1 snapshot=0 after_free=1100 peak=101100
tracing=0 stats=1"
[ "$(cat "$SA_TMP/prog.out")" = "$want" ] || { sa_show prog; sa_fail "API figures differ from: $want"; }
"$SNAPALLOC_CMD" show --format json "$SA_TMP/api.snap" >"$SA_TMP/show.json" 2>&1 ||
    { cat "$SA_TMP/show.json"; sa_fail "show"; }
python3 - "$SA_TMP/show.json" <<'PY' || sa_fail "the snapshot read back"
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
sa_pass
