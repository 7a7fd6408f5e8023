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

# The environment (a shell builtin prints it: no other process is checked),
# and the program's status passed through.
sa check -n 7 --warmup 0.5 -- sh -c 'export -p >"$0"; exit 7' "$T/env"
expect_rc 7 "program status"
# (dash prints "export NAME='VALUE'".)
sed -i "s/^export //; s/'//g" "$T/env"
grep -q '^SNAPALLOC_CHECK=1$' "$T/env" || fail "SNAPALLOC_CHECK"
grep -q '^SNAPALLOC_TRACE=7$' "$T/env" || fail "SNAPALLOC_TRACE from -n"
grep -q '^SNAPALLOC_CHECK_WARMUP=0.5$' "$T/env" || fail "SNAPALLOC_CHECK_WARMUP"
grep -Eq "^LD_PRELOAD=$SNAPALLOC_LIB(:|\$)" "$T/env" || fail "LD_PRELOAD: $(grep LD_PRELOAD "$T/env")"
grep -q "^SNAPALLOC_CHECK_DIR=$T/tmp/snapalloc-check\.......\$" "$T/env" || fail "SNAPALLOC_CHECK_DIR"
[ -z "$(ls "$T/tmp")" ] || fail "temporary directory not removed: $(ls "$T/tmp")"
sa check -- sh -c 'export -p >"$0"' "$T/env"
expect_rc 0 "defaults"
sed -i "s/^export //; s/'//g" "$T/env"
grep -q '^SNAPALLOC_TRACE=32$' "$T/env" || fail "default SNAPALLOC_TRACE"
grep -q '^SNAPALLOC_CHECK_WARMUP=' "$T/env" && fail "SNAPALLOC_CHECK_WARMUP without --warmup"
grep -q '^SNAPALLOC_UNWIND=' "$T/env" && fail "SNAPALLOC_UNWIND without --unwind"
sa check --unwind fp -- sh -c 'export -p >"$0"' "$T/env"
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

# -o keeps the files; JSON names the program and its status.
sa check -o "$T/keep" --report "$T/r.json" -- env -u LD_PRELOAD sh -c "$leaky"
expect_rc 23 "-o"
ls "$T/keep" | grep -q '^[0-9]*\.definite\.snap$' || fail "-o: files not kept"
ls "$T/keep" | grep -q '^[0-9]*\.done$' || fail "-o: done not kept"
expect_jq "$T/r.json" "d['program'], d['exit_status'], d['status'], d['passed']" \
    "('env -u LD_PRELOAD sh -c $leaky', 7, 23, False)" "json program"
# A second run into the same -o directory does not see the first one's sets.
first=$(ls "$T/keep" | sed -n 's/\.done$//p')
sa check -o "$T/keep" -- env -u LD_PRELOAD sh -c 'exit 3'
expect_rc 3 "-o reused"
if ls "$T/keep" | grep -q "^$first\."; then fail "-o reused: stale set of pid $first left"; fi

# Killed by a signal: 128+N.
sa check -- sh -c 'kill -TERM $$'
expect_rc 143 "killed"
# Cannot be executed: 127, one line.
sa check -- "$T/no-such-program"
expect_rc 127 "not executable"
expect_one_error "not executable"

echo "PASS: check_run"
