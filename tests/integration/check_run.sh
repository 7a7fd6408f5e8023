# check_run.sh - `snapalloc check -- PROGRAM`: the environment the program
# gets (preload, SNAPALLOC_CHECK, SNAPALLOC_CHECK_DIR, SNAPALLOC_TRACE,
# SNAPALLOC_CHECK_WARMUP), the program's own status when the check passes,
# the leak exit code when it fails, -o keeping the files, the temporary
# directory removed.  The leak set is written by check_mkset from inside
# the program (with the preload removed, so these tests do not depend on
# the in-process scanner; check_e2e.sh covers it).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_run
MKSET=$(sa_helper check_mkset)
S=check_mkset.c
F='[^ ]*check_mkset\.c'

mkdir "$SA_TMP/tmp"
TMPDIR=$SA_TMP/tmp
export TMPDIR MKSET

# The environment (a shell builtin prints it), and the program's status
# passed through.  (dash ends with _exit, which skips the exit check: the
# checked process is check_leaky, which sh execs.)
CLEAN=$SA_BIN/check_leaky
export CLEAN
sa_cmd check -n 7 --warmup 0.5 -- sh -c 'export -p >"$0"; exec "$CLEAN" clean 7' "$SA_TMP/env"
sa_expect_status cmd 7 "program status"
# (dash prints "export NAME='VALUE'".)
sed -i "s/^export //; s/'//g" "$SA_TMP/env"
grep -q '^SNAPALLOC_CHECK=1$' "$SA_TMP/env" || sa_fail "SNAPALLOC_CHECK"
grep -q '^SNAPALLOC_TRACE=7$' "$SA_TMP/env" || sa_fail "SNAPALLOC_TRACE from -n"
grep -q '^SNAPALLOC_CHECK_WARMUP=0.5$' "$SA_TMP/env" || sa_fail "SNAPALLOC_CHECK_WARMUP"
grep -Eq "^LD_PRELOAD=$SNAPALLOC_LIB(:|\$)" "$SA_TMP/env" || sa_fail "LD_PRELOAD: $(grep LD_PRELOAD "$SA_TMP/env")"
grep -q "^SNAPALLOC_CHECK_DIR=$SA_TMP/tmp/snapalloc-check\.......\$" "$SA_TMP/env" || sa_fail "SNAPALLOC_CHECK_DIR"
[ -z "$(ls "$SA_TMP/tmp")" ] || sa_fail "temporary directory not removed: $(ls "$SA_TMP/tmp")"
sa_cmd check -- sh -c 'export -p >"$0"; exec "$CLEAN" clean' "$SA_TMP/env"
sa_expect_status cmd 0 "defaults"
sed -i "s/^export //; s/'//g" "$SA_TMP/env"
grep -q '^SNAPALLOC_TRACE=32$' "$SA_TMP/env" || sa_fail "default SNAPALLOC_TRACE"
grep -q '^SNAPALLOC_CHECK_WARMUP=' "$SA_TMP/env" && sa_fail "SNAPALLOC_CHECK_WARMUP without --warmup"
grep -q '^SNAPALLOC_UNWIND=' "$SA_TMP/env" && sa_fail "SNAPALLOC_UNWIND without --unwind"
sa_cmd check --unwind fp -- sh -c 'export -p >"$0"; exec "$CLEAN" clean' "$SA_TMP/env"
sa_expect_status cmd 0 "--unwind fp"
sed -i "s/^export //; s/'//g" "$SA_TMP/env"
grep -q '^SNAPALLOC_UNWIND=fp$' "$SA_TMP/env" || sa_fail "SNAPALLOC_UNWIND from --unwind"
# An existing LD_PRELOAD is kept after the library.
LD_PRELOAD=libm.so.6 "$SNAPALLOC_CMD" check -- sh -c 'export -p >"$0"' "$SA_TMP/env" 2>/dev/null || :
sed -i "s/^export //; s/'//g" "$SA_TMP/env"
grep -Eq "^LD_PRELOAD=$SNAPALLOC_LIB:libm.so.6\$" "$SA_TMP/env" || sa_fail "LD_PRELOAD kept"

# A leaking program: 23, and the report names the site.
L_small=$(sa_line_of $S small)
# (env runs preloaded but execs: only the helper's hand-made set is there.)
leaky='"$MKSET" "$SNAPALLOC_CHECK_DIR" definite:small=2 >/dev/null; exit 7'
sa_cmd check -- env -u LD_PRELOAD sh -c "$leaky"
sa_expect_status cmd 23 "leak"
sa_expect_err_line cmd "128 bytes in 2 blocks are definitely lost at $F:$L_small alloc_small" "leak site"
sa_expect_err_line cmd "definitely lost: 128 bytes in 2 blocks" "leak summary"
sa_cmd check --exitcode 99 -- env -u LD_PRELOAD sh -c "$leaky"
sa_expect_status cmd 99 "leak --exitcode"
sa_cmd check --fail-on possible -- env -u LD_PRELOAD sh -c "$leaky"
sa_expect_status cmd 7 "leak not failing: the program's status"
[ -z "$(ls "$SA_TMP/tmp")" ] || sa_fail "temporary directory not removed after a leak"

# -o keeps the files, in a new DIR/check.XXXXXX; JSON names the program and
# its status.
sa_cmd check -o "$SA_TMP/keep" --report "$SA_TMP/r.json" -- env -u LD_PRELOAD sh -c "$leaky"
sa_expect_status cmd 23 "-o"
run1=$(ls "$SA_TMP/keep")
case $run1 in check.??????) ;; *) sa_fail "-o: the run's directory is '$run1'" ;; esac
sa_expect_err_line cmd "snapalloc check: leak files kept in $SA_TMP/keep/$run1" "-o: where the files are"
ls "$SA_TMP/keep/$run1" | grep -q '^[0-9]*\.definite\.snap$' || sa_fail "-o: files not kept"
ls "$SA_TMP/keep/$run1" | grep -q '^[0-9]*\.done$' || sa_fail "-o: done not kept"
sa_expect_json "$SA_TMP/r.json" "d['program'], d['exit_status'], d['status'], d['passed'], d['not_checked']" \
    "('env -u LD_PRELOAD sh -c $leaky', 7, 23, False, None)" "json program"
# A second run into the same -o directory does not see the first one's sets.
sa_cmd check -o "$SA_TMP/keep" -- "$CLEAN" clean 3
sa_expect_status cmd 3 "-o reused"
[ "$(ls "$SA_TMP/keep" | wc -l)" = 2 ] || sa_fail "-o reused: not a directory of its own: $(ls "$SA_TMP/keep")"

# Two checks running at once with one -o directory are independent: the
# leaking one writes its set and waits until the clean one has finished its
# analysis, which must not see that set.
(lrc=0; "$SNAPALLOC_CMD" check -o "$SA_TMP/shared" -- env -u LD_PRELOAD sh -c \
    '"$MKSET" "$SNAPALLOC_CHECK_DIR" definite:small=2 >/dev/null; : >"$0.written"
     i=0; while [ ! -e "$0.clean" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' "$SA_TMP/flag" || lrc=$?
 echo $lrc >"$SA_TMP/leaker.rc") 2>"$SA_TMP/leaker.err" &
i=0; while [ ! -e "$SA_TMP/flag.written" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
sa_cmd check -o "$SA_TMP/shared" -- "$CLEAN" clean
sa_expect_status cmd 0 "concurrent -o: the clean check"
: >"$SA_TMP/flag.clean"
wait
[ "$(cat "$SA_TMP/leaker.rc")" = 23 ] || sa_fail "concurrent -o: the leaking check exited $(cat "$SA_TMP/leaker.rc")"

# Nothing could be checked: the gate fails closed with 24 and one line.
# A program that never loads the library (static, or SNAPALLOC_LIB not it):
sa_cmd check -- env -u LD_PRELOAD true
sa_expect_status cmd 24 "not loaded"
sa_expect_err_line cmd "snapalloc check: NOT CHECKED: no process wrote leak check results in .* \(libsnapalloc was not loaded: a static binary, or SNAPALLOC_LIB is not the library\?\) \(exit status 24\)" "not loaded"
sa_expect_no_err_line cmd "passed" "not loaded"
echo "not a library" >"$SA_TMP/notalib"
(SNAPALLOC_LIB=$SA_TMP/notalib; export SNAPALLOC_LIB; sa_cmd check -- "$CLEAN" clean)
sa_expect_status cmd 24 "SNAPALLOC_LIB not the library"
sa_cmd check --report "$SA_TMP/nc.json" -- env -u LD_PRELOAD true
sa_expect_status cmd 24 "not loaded, json"
sa_expect_json "$SA_TMP/nc.json" "d['passed'], d['status'], d['not_checked'][:38]" \
    "(False, 24, 'no process wrote leak check results in')" "not loaded json"
sa_cmd check --report "$SA_TMP/nc.xml" -- env -u LD_PRELOAD true
sa_expect_xml "$SA_TMP/nc.xml" "x.get('errors'), x.find('.//error').get('type')" "('1', 'not-checked')" \
    "not loaded junit"
# Killed by a signal before its check ran: 24, and not "passed".
sa_cmd check -- sh -c 'kill -TERM $$'
sa_expect_status cmd 24 "killed"
sa_expect_err_line cmd "snapalloc check: NOT CHECKED: sh was killed by SIGTERM before the leak check ran \(exit status 24\)" "killed"
# An analysis of a directory no process wrote to.
mkdir "$SA_TMP/empty"
sa_cmd check --analyze "$SA_TMP/empty"
sa_expect_status cmd 24 "--analyze of an empty directory"
# Cannot be executed: 127, one line.
sa_cmd check -- "$SA_TMP/no-such-program"
sa_expect_status cmd 127 "not executable"
sa_expect_one_error cmd "not executable"

sa_pass
