# check_e2e.sh - `snapalloc check -- PROGRAM` with the real in-process leak
# scanner: a known direct leak (exit 23, call site named), a clean program
# (its own status), and SNAPALLOC_CHECK=1 standalone under a parent process
# (a test runner): the leaking child exits 23 with its report on stderr.
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_e2e
P=$BIN/check_leaky
L_leak=$(line_of check_leaky.c leak)
FL='[^ ]*check_leaky\.c'

sa check -- "$P" leak 7
expect_rc 23 "leak"
expect_err_line "100 bytes in 1 blocks are definitely lost at $FL:$L_leak lose" "leak site"
expect_err_line "    #1 $FL:[0-9]+ main \(check_leaky\)" "leak stack"
expect_err_line "definitely lost: 100 bytes in 1 blocks" "leak summary"
sa check --show reachable -- "$P" leak 7
expect_err_line "still reachable: 50 bytes in 1 blocks" "reachable global"

sa check -- "$P" clean 7
expect_rc 7 "clean, status 7"
expect_err_line "definitely lost: 0 bytes in 0 blocks" "clean summary"
sa check -- "$P" clean
expect_rc 0 "clean, status 0"

# A leak suppressed by function passes with the program's status.
printf 'leak:lose\n' >"$T/supp"
sa check --suppressions "$T/supp" -- "$P" leak 5
expect_rc 5 "suppressed leak"
expect_err_line "suppressed: 100 bytes in 1 blocks" "suppressed summary"

# Standalone: a runner script starts the programs with SNAPALLOC_CHECK=1
# and the library preloaded; SNAPALLOC_CMD is the analyzer they run.
cat >"$T/runner.sh" <<EOS
"$P" leak 7 2>"$T/leak.err"; echo "leak \$?"
"$P" clean 7 2>"$T/clean.err"; echo "clean \$?"
EOS
SNAPALLOC_CHECK=1 LD_PRELOAD=$SNAPALLOC_LIB sh "$T/runner.sh" >"$T/runner.out" 2>/dev/null || :
grep -qx "leak 23" "$T/runner.out" || fail "standalone leak: $(cat "$T/runner.out")"
grep -qx "clean 7" "$T/runner.out" || fail "standalone clean: $(cat "$T/runner.out")"
grep -Eq "^100 bytes in 1 blocks are definitely lost at $FL:$L_leak lose\$" "$T/leak.err" ||
    fail "standalone report: $(cat "$T/leak.err")"
grep -q '^snapalloc check: FAILED: definitely lost (exit status 23)$' "$T/leak.err" ||
    fail "standalone verdict"
# SNAPALLOC_CHECK_OPTIONS reach the analyzer.
SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_OPTIONS="--exitcode 42 --report $T/sa.xml" LD_PRELOAD=$SNAPALLOC_LIB \
    "$P" leak 7 2>/dev/null && rc=0 || rc=$?
[ "$rc" = 42 ] || fail "SNAPALLOC_CHECK_OPTIONS --exitcode 42: status $rc"
expect_xq "$T/sa.xml" "x.get('failures'), [c.get('name').endswith(' lose') for c in x.iter('testcase')]" \
    "('1', [True])" "standalone JUnit"

echo "PASS: check_e2e"
