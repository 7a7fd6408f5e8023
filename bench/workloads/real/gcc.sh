#!/bin/sh
# gcc.sh - gcc compiling C files at -O2 (cc1's allocations: GC arenas,
# obstacks, hash tables).  BENCH_QUICK=1: one file instead of three.
set -e
src=$(dirname "$0")/..
out=$(mktemp -d)
files="$src/suite.c $src/tracegen.c $src/bufgrow.c"
[ "${BENCH_QUICK:-0}" = 1 ] && files="$src/suite.c"
for f in $files; do
    gcc -O2 -g -std=gnu11 -pthread -c "$f" -o "$out/$(basename "$f" .c).o"
done
n=$(ls "$out" | wc -l)
rm -rf "$out"
echo "RESULT gcc $n objects"
