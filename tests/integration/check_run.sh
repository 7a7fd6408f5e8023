# check_run.sh - `snapalloc check -- PROGRAM`: the environment the program
# gets (preload, SNAPALLOC_CHECK, SNAPALLOC_CHECK_DIR, SNAPALLOC_TRACE,
# SNAPALLOC_CHECK_WARMUP), the program's own status when the check passes,
# the leak exit code when it fails, -o keeping the files, the temporary
# directory removed.  The leak set is written by check_mkset from inside
# the program (with the preload removed, so these tests do not depend on
# the in-process scanner; check_e2e.sh covers it).
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_run

mkdir "$T/tmp"
TMPDIR=$T/tmp
export TMPDIR MKSET

# The environment (a shell builtin prints it), and the program's status
# passed through.  (dash ends with _exit, which skips the exit check: the
# checked process is check_leaky, which sh execs.)
CLEAN=$BIN/check_leaky
export CLEAN
sa check -n 7 --warmup 0.5 -- sh -c 'export -p >"$0"; exec "$CLEAN" clean 7' "$T/env"
expect_rc 7 "program status"
# (dash prints "export NAME='VALUE'".)
sed -i "s/^export //; s/'//g" "$T/env"
grep -q '^SNAPALLOC_CHECK=1$' "$T/env" || fail "SNAPALLOC_CHECK"
grep -q '^SNAPALLOC_TRACE=7$' "$T/env" || fail "SNAPALLOC_TRACE from -n"
grep -q '^SNAPALLOC_CHECK_WARMUP=0.5$' "$T/env" || fail "SNAPALLOC_CHECK_WARMUP"
grep -Eq "^LD_PRELOAD=$SNAPALLOC_LIB(:|\$)" "$T/env" || fail "LD_PRELOAD: $(grep LD_PRELOAD "$T/env")"
grep -q "^SNAPALLOC_CHECK_DIR=$T/tmp/snapalloc-check\.......\$" "$T/env" || fail "SNAPALLOC_CHECK_DIR"
[ -z "$(ls "$T/tmp")" ] || fail "temporary directory not removed: $(ls "$T/tmp")"
sa check -- sh -c 'export -p >"$0"; exec "$CLEAN" clean' "$T/env"
expect_rc 0 "defaults"
sed -i "s/^export //; s/'//g" "$T/env"
grep -q '^SNAPALLOC_TRACE=32$' "$T/env" || fail "default SNAPALLOC_TRACE"
grep -q '^SNAPALLOC_CHECK_WARMUP=' "$T/env" && fail "SNAPALLOC_CHECK_WARMUP without --warmup"
grep -q '^SNAPALLOC_UNWIND=' "$T/env" && fail "SNAPALLOC_UNWIND without --unwind"
sa check --unwind fp -- sh -c 'export -p >"$0"; exec "$CLEAN" clean' "$T/env"
expect_rc 0 "--unwind fp"
sed -i "s/^export //; s/'//g" "$T/env"
grep -q '^SNAPALLOC_UNWIND=fp$' "$T/env" || fail "SNAPALLOC_UNWIND from --unwind"
# An existing LD_PRELOAD is kept after the library.
LD_PRELOAD=libm.so.6 "$SNAPALLOC_CMD" check -- sh -c 'export -p >"$0"' "$T/env" 2>/dev/null || :
sed -i "s/^export //; s/'//g" "$T/env"
grep -Eq "^LD_PRELOAD=$SNAPALLOC_LIB:libm.so.6\$" "$T/env" || fail "LD_PRELOAD kept"

# A leaking program: 23, and the report names the site.
L_small=$(line_of $S small)
# (env runs preloaded but execs: only the helper's hand-made set is there.)
leaky='"$MKSET" "$SNAPALLOC_CHECK_DIR" definite:small=2 >/dev/null; exit 7'
sa check -- env -u LD_PRELOAD sh -c "$leaky"
expect_rc 23 "leak"
expect_err_line "128 bytes in 2 blocks are definitely lost at $F:$L_small alloc_small" "leak site"
expect_err_line "definitely lost: 128 bytes in 2 blocks" "leak summary"
sa check --exitcode 99 -- env -u LD_PRELOAD sh -c "$leaky"
expect_rc 99 "leak --exitcode"
sa check --fail-on possible -- env -u LD_PRELOAD sh -c "$leaky"
expect_rc 7 "leak not failing: the program's status"
[ -z "$(ls "$T/tmp")" ] || fail "temporary directory not removed after a leak"

# -o keeps the files, in a new DIR/check.XXXXXX; JSON names the program and
# its status.
sa check -o "$T/keep" --report "$T/r.json" -- env -u LD_PRELOAD sh -c "$leaky"
expect_rc 23 "-o"
run1=$(ls "$T/keep")
case $run1 in check.??????) ;; *) fail "-o: the run's directory is '$run1'" ;; esac
expect_err_line "snapalloc check: leak files kept in $T/keep/$run1" "-o: where the files are"
ls "$T/keep/$run1" | grep -q '^[0-9]*\.definite\.snap$' || fail "-o: files not kept"
ls "$T/keep/$run1" | grep -q '^[0-9]*\.done$' || fail "-o: done not kept"
expect_jq "$T/r.json" "d['program'], d['exit_status'], d['status'], d['passed'], d['not_checked']" \
    "('env -u LD_PRELOAD sh -c $leaky', 7, 23, False, None)" "json program"
# A second run into the same -o directory does not see the first one's sets.
sa check -o "$T/keep" -- "$CLEAN" clean 3
expect_rc 3 "-o reused"
[ "$(ls "$T/keep" | wc -l)" = 2 ] || fail "-o reused: not a directory of its own: $(ls "$T/keep")"

# Two checks running at once with one -o directory are independent: the
# leaking one writes its set and waits until the clean one has finished its
# analysis, which must not see that set.
(lrc=0; "$SNAPALLOC_CMD" check -o "$T/shared" -- env -u LD_PRELOAD sh -c \
    '"$MKSET" "$SNAPALLOC_CHECK_DIR" definite:small=2 >/dev/null; : >"$0.written"
     i=0; while [ ! -e "$0.clean" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' "$T/flag" || lrc=$?
 echo $lrc >"$T/leaker.rc") 2>"$T/leaker.err" &
i=0; while [ ! -e "$T/flag.written" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
sa check -o "$T/shared" -- "$CLEAN" clean
expect_rc 0 "concurrent -o: the clean check"
: >"$T/flag.clean"
wait
[ "$(cat "$T/leaker.rc")" = 23 ] || fail "concurrent -o: the leaking check exited $(cat "$T/leaker.rc")"

# Nothing could be checked: the gate fails closed with 24 and one line.
# A program that never loads the library (static, or SNAPALLOC_LIB not it):
sa check -- env -u LD_PRELOAD true
expect_rc 24 "not loaded"
expect_err_line "snapalloc check: NOT CHECKED: no process wrote leak check results in .* \(libsnapalloc was not loaded: a static binary, or SNAPALLOC_LIB is not the library\?\) \(exit status 24\)" "not loaded"
expect_no_err_line "passed" "not loaded"
echo "not a library" >"$T/notalib"
(SNAPALLOC_LIB=$T/notalib; export SNAPALLOC_LIB; sa check -- "$CLEAN" clean)
expect_rc 24 "SNAPALLOC_LIB not the library"
sa check --report "$T/nc.json" -- env -u LD_PRELOAD true
expect_rc 24 "not loaded, json"
expect_jq "$T/nc.json" "d['passed'], d['status'], d['not_checked'][:38]" \
    "(False, 24, 'no process wrote leak check results in')" "not loaded json"
sa check --report "$T/nc.xml" -- env -u LD_PRELOAD true
expect_xq "$T/nc.xml" "x.get('errors'), x.find('.//error').get('type')" "('1', 'not-checked')" \
    "not loaded junit"
# Killed by a signal before its check ran: 24, and not "passed".
sa check -- sh -c 'kill -TERM $$'
expect_rc 24 "killed"
expect_err_line "snapalloc check: NOT CHECKED: sh was killed by SIGTERM before the leak check ran \(exit status 24\)" "killed"
# An analysis of a directory no process wrote to.
mkdir "$T/empty"
sa check --analyze "$T/empty"
expect_rc 24 "--analyze of an empty directory"
# Cannot be executed: 127, one line.
sa check -- "$T/no-such-program"
expect_rc 127 "not executable"
expect_one_error "not executable"

echo "PASS: check_run"
