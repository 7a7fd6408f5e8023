#!/bin/sh
# stats_env.sh - SNAPALLOC_STATS: "1" prints the allocator statistics on
# stderr at exit; garbage gives exactly one warning line and no statistics,
# and never changes the program's behaviour or exit status.
set -eu
lib=${SNAPALLOC_LIB:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: stats_env: $*" >&2; exit 1; }

# ls exits through exit() (dash's `exit` uses _exit, which runs no destructor).
LD_PRELOAD="$lib" SNAPALLOC_STATS=1 ls /nonexistent-snapalloc-dir >/dev/null 2>"$tmp/err" && st=0 || st=$?
[ "$st" = 2 ] || fail "exit status $st with SNAPALLOC_STATS=1 (expected ls's 2)"
grep -q '^snapalloc: allocator statistics for pid [0-9][0-9]*$' "$tmp/err" || fail "no statistics header"
for line in '# arenas allocated total' '# bytes in allocated blocks' '# malloc calls' '# free calls' '# heaps live'; do
    grep -q "^$line *= [0-9][0-9]*\$" "$tmp/err" || fail "statistics lack '$line = N'"
done

for bad in yes 2 -1 '1 ' '' 'x
y' "$(printf 'a%.0s' $(seq 1 200))"; do
    LD_PRELOAD="$lib" SNAPALLOC_STATS="$bad" sh -c 'echo out; exit 5' >"$tmp/out" 2>"$tmp/err" && st=0 || st=$?
    [ "$st" = 5 ] || fail "exit status $st with SNAPALLOC_STATS='$bad'"
    [ "$(cat "$tmp/out")" = out ] || fail "stdout changed with SNAPALLOC_STATS='$bad'"
    if [ -z "$bad" ]; then
        [ ! -s "$tmp/err" ] || fail "an empty SNAPALLOC_STATS printed something"
        continue
    fi
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "SNAPALLOC_STATS='$bad' printed $(wc -l <"$tmp/err") lines, expected 1"
    grep -q '^snapalloc: SNAPALLOC_STATS=".*": expected 0 or 1; statistics stay off$' "$tmp/err" ||
        fail "unexpected warning for SNAPALLOC_STATS='$bad': $(cat "$tmp/err")"
done
echo "stats_env: ok"
