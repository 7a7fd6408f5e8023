# check_e2e.sh - `snapalloc check -- PROGRAM` with the real in-process leak
# scanner: a known direct leak (exit 23, call site named), a clean program
# (its own status), and SNAPALLOC_CHECK=1 standalone under a parent process
# (a test runner): the leaking child exits 23 with its report on stderr.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_e2e
P=$SA_BIN/check_leaky
L_leak=$(sa_line_of check_leaky.c leak)
FL='[^ ]*check_leaky\.c'

sa_cmd check -- "$P" leak 7
sa_expect_status cmd 23 "leak"
sa_expect_err_line cmd "100 bytes in 1 blocks are definitely lost at $FL:$L_leak lose" "leak site"
sa_expect_err_line cmd "    #1 $FL:[0-9]+ main \(check_leaky\)" "leak stack"
sa_expect_err_line cmd "definitely lost: 100 bytes in 1 blocks" "leak summary"
sa_cmd check --show reachable -- "$P" leak 7
sa_expect_err_line cmd "still reachable: 50 bytes in 1 blocks" "reachable global"

sa_cmd check -- "$P" clean 7
sa_expect_status cmd 7 "clean, status 7"
sa_expect_err_line cmd "definitely lost: 0 bytes in 0 blocks" "clean summary"
sa_cmd check -- "$P" clean
sa_expect_status cmd 0 "clean, status 0"

# A leak suppressed by function passes with the program's status.
printf 'leak:lose\n' >"$SA_TMP/supp"
sa_cmd check --suppressions "$SA_TMP/supp" -- "$P" leak 5
sa_expect_status cmd 5 "suppressed leak"
sa_expect_err_line cmd "suppressed: 100 bytes in 1 blocks" "suppressed summary"

# Standalone: a runner script starts the programs with SNAPALLOC_CHECK=1
# and the library preloaded; SNAPALLOC_CMD is the analyzer they run.
cat >"$SA_TMP/runner.sh" <<EOS
"$P" leak 7 2>"$SA_TMP/leak.err"; echo "leak \$?"
"$P" clean 7 2>"$SA_TMP/clean.err"; echo "clean \$?"
EOS
SNAPALLOC_CHECK=1 LD_PRELOAD=$SNAPALLOC_LIB sh "$SA_TMP/runner.sh" >"$SA_TMP/runner.out" 2>/dev/null || :
grep -qx "leak 23" "$SA_TMP/runner.out" || sa_fail "standalone leak: $(cat "$SA_TMP/runner.out")"
grep -qx "clean 7" "$SA_TMP/runner.out" || sa_fail "standalone clean: $(cat "$SA_TMP/runner.out")"
grep -Eq "^100 bytes in 1 blocks are definitely lost at $FL:$L_leak lose\$" "$SA_TMP/leak.err" ||
    sa_fail "standalone report: $(cat "$SA_TMP/leak.err")"
grep -q '^snapalloc check: FAILED: definitely lost (exit status 23)$' "$SA_TMP/leak.err" ||
    sa_fail "standalone verdict"
# SNAPALLOC_CHECK_OPTIONS reach the analyzer.
SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_OPTIONS="--exitcode 42 --report $SA_TMP/sa.xml" LD_PRELOAD=$SNAPALLOC_LIB \
    "$P" leak 7 2>/dev/null && rc=0 || rc=$?
[ "$rc" = 42 ] || sa_fail "SNAPALLOC_CHECK_OPTIONS --exitcode 42: status $rc"
sa_expect_xml "$SA_TMP/sa.xml" "x.get('failures'), [c.get('name').endswith(' lose') for c in x.iter('testcase')]" \
    "('1', [True])" "standalone JUnit"

sa_pass
