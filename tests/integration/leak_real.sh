#!/bin/sh
# leak_real.sh - the leak check on unmodified Debian programs with genuine
# leaks, against valgrind memcheck on the same command: GNU sort leaks one
# 24-byte block on Debian 12 (the numbers are not hard-coded: whatever
# valgrind finds definitely and indirectly lost, the check must find too).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
sa_init leak_real
command -v valgrind >/dev/null 2>&1 || sa_skip "valgrind is not installed"
command -v sort >/dev/null 2>&1 || sa_skip "no sort"

seq 1 20000 | awk '{ print ($1 * 7919) % 20011 }' >"$SA_TMP/nums"
sa_run_checked sort sort -n "$SA_TMP/nums"
sa_expect_status sort 0
mc_valgrind sort sort -n "$SA_TMP/nums"
for c in definite indirect; do
    eval "want=\$MC_VG_$c"
    got=$(sa_check_class sort "$c")
    [ "$got" = "$want" ] || sa_fail "sort: $c is '$got', valgrind says '$want' (bytes blocks)"
done
echo "$SA_NAME: sort: definite $(sa_check_class sort definite), indirect $(sa_check_class sort indirect): as valgrind"
sa_pass
