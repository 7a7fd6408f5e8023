#!/bin/sh
# stats_env.sh - SNAPALLOC_STATS: "1" prints the allocator statistics on
# stderr at exit; garbage gives exactly one warning line and no statistics,
# and never changes the program's behaviour or exit status.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init stats_env

# ls exits through exit() (dash's `exit` uses _exit, which runs no destructor).
sa_run_preload ls ls /nonexistent-snapalloc-dir
sa_expect_status ls 2 "SNAPALLOC_STATS=1 (ls's status)"
grep -q '^snapalloc: allocator statistics for pid [0-9][0-9]*$' "$(sa_err ls)" || sa_fail "no statistics header"
for line in '# arenas allocated total' '# bytes in allocated blocks' '# malloc calls' '# free calls' '# heaps live'; do
    grep -q "^$line *= [0-9][0-9]*\$" "$(sa_err ls)" || sa_fail "statistics lack '$line = N'"
done

for bad in yes 2 -1 '1 ' '' 'x
y' "$(printf 'a%.0s' $(seq 1 200))"; do
    sa_run_preload_nostats bad env SNAPALLOC_STATS="$bad" sh -c 'echo out; exit 5'
    sa_expect_status bad 5 "SNAPALLOC_STATS='$bad'"
    sa_expect_stdout bad out
    if [ -z "$bad" ]; then
        [ ! -s "$(sa_err bad)" ] || sa_fail "an empty SNAPALLOC_STATS printed something"
        continue
    fi
    [ "$(wc -l <"$(sa_err bad)")" -eq 1 ] || sa_fail "SNAPALLOC_STATS='$bad' printed $(wc -l <"$(sa_err bad)") lines, expected 1"
    grep -q '^snapalloc: SNAPALLOC_STATS=".*": expected 0 or 1; statistics stay off$' "$(sa_err bad)" ||
        sa_fail "unexpected warning for SNAPALLOC_STATS='$bad': $(cat "$(sa_err bad)")"
done
sa_pass
