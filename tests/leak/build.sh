#!/bin/sh
# build.sh - builds the leak corpus for make check: every program at -O0
# and at -O2 (OUTDIR/NAME_O0, OUTDIR/NAME_O2; C or C++ by the source's
# suffix) and the dlopen library (OUTDIR/dl_lib.so).  Called by the rule in
# tests/leak/Makefile.inc with CC, CXX, CFLAGS and CXXFLAGS in the
# environment.
#
# Why not check_PROGRAMS with per-program CFLAGS: automake puts the user's
# CFLAGS (by default "-g -O2") after the per-program flags, so a
# per-program -O0 would silently become -O2.  Here the level comes last.
# A binary is rebuilt only when its source is newer.
#
# usage: build.sh SRCDIR OUTDIR LIB.c SOURCE...   (sources relative to SRCDIR)
set -eu
srcdir=$1 out=$2 lib=$3
shift 3
mkdir -p "$out"
: "${CC:=cc}" "${CXX:=c++}" "${CFLAGS:=}" "${CXXFLAGS:=}"

stale() { # TARGET SOURCE: TARGET is missing or older than SOURCE
    [ ! -e "$1" ] || [ "$2" -nt "$1" ]
}

if stale "$out/dl_lib.so" "$srcdir/$lib"; then
    echo "  CC       $out/dl_lib.so"
    $CC -std=gnu11 -Wall -Wextra $CFLAGS -O2 -fPIC -shared -o "$out/dl_lib.so" "$srcdir/$lib"
fi
for src in "$@"; do
    name=$(basename "$src")
    name=${name%.*}
    for level in O0 O2; do
        bin=$out/${name}_$level
        stale "$bin" "$srcdir/$src" || continue
        case $src in
            *.cc)
                echo "  CXX      $bin"
                $CXX -std=gnu++17 -Wall -Wextra $CXXFLAGS -g -$level -pthread -o "$bin" "$srcdir/$src" ;;
            *)
                echo "  CC       $bin"
                $CC -std=gnu11 -Wall -Wextra $CFLAGS -g -$level -pthread -o "$bin" "$srcdir/$src" -ldl ;;
        esac
    done
done
