# cli_run.sh - `snapalloc run` as a process runner: exit statuses (own,
# 128+signal, 127), the environment given to the program (LD_PRELOAD
# prepended, SNAPALLOC_* from the options), the output directory, and
# signal forwarding.  The tracer's output is tested by cli_trace.sh.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_run
: "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"
cd "$T"

sa run -o "$T/o" -- sh -c 'exit 3'
expect_rc 3 "exit 3"
sa run -o "$T/o" -- sh -c 'exit 0'
expect_rc 0 "exit 0"
sa run -o "$T/o" -- sh -c 'kill -TERM $$'
expect_rc 143 "killed by SIGTERM"
sa run -o "$T/o" -- sh -c 'kill -KILL $$'
expect_rc 137 "killed by SIGKILL"
sa run -o "$T/o" -- "$T/no-such-program"
expect_rc 127 "missing program"
grep -q "^snapalloc: $T/no-such-program: cannot execute: No such file or directory\$" "$T/err" ||
    fail "missing program: message"
printf 'not a program\n' >"$T/notexec"; chmod 644 "$T/notexec"
sa run -o "$T/o" -- "$T/notexec"
expect_rc 127 "not executable"

# The environment: LD_PRELOAD prepended (the caller's kept after it) and
# SNAPALLOC_* from the options, with absolute paths.
lib=$(readlink -f "$SNAPALLOC_LIB")
rc=0
env LD_PRELOAD=/nonexistent/keep.so "$SNAPALLOC_CMD" run -o rel/dir -n 7 --signal usr2 \
    --interval 5 --peak 1M --unwind fp --no-exit-snapshot -- \
    sh -c 'env | grep -E "^(LD_PRELOAD|SNAPALLOC_)" | sort' >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 0 ] || fail "env run: exit status $rc"
expect_line "LD_PRELOAD=$lib:/nonexistent/keep.so" "LD_PRELOAD prepended"
expect_line "SNAPALLOC_TRACE=7" "-n"
expect_line "SNAPALLOC_SIGNAL=12" "--signal"   # SIGUSR2 on Linux x86-64
expect_line "SNAPALLOC_INTERVAL=5" "--interval"
expect_line "SNAPALLOC_PEAK=1048576" "--peak"
expect_line "SNAPALLOC_UNWIND=fp" "--unwind"
expect_line "SNAPALLOC_SNAPSHOT_AT_EXIT=0" "--no-exit-snapshot"
expect_line "SNAPALLOC_SNAPSHOT=$T/rel/dir/%e\.%p\.%n\.snap" "snapshot template"
[ -d "$T/rel/dir" ] || fail "-o did not create the directory"
# Defaults; options not given are removed from the environment.
rc=0
env SNAPALLOC_PEAK=1 SNAPALLOC_SIGNAL=USR1 "$SNAPALLOC_CMD" run -- \
    sh -c 'env | grep -E "^(LD_PRELOAD|SNAPALLOC_)" | sort' >"$T/out" 2>"$T/err" || rc=$?
[ $rc -eq 0 ] || fail "default env run: exit status $rc"
expect_line "LD_PRELOAD=$lib" "LD_PRELOAD alone"
expect_line "SNAPALLOC_TRACE=32" "default frames"
expect_line "SNAPALLOC_SNAPSHOT_AT_EXIT=1" "default exit snapshot"
expect_line "SNAPALLOC_SNAPSHOT=$T/snapalloc-out/%e\.%p\.%n\.snap" "default directory"
expect_no_line "SNAPALLOC_(PEAK|SIGNAL|INTERVAL|UNWIND)=" "unset options"
expect_line "SNAPALLOC_REPORT_SOCKET=snapalloc-run\.[0-9]+\.[0-9a-f]+" "the failure socket"
[ "$(grep -Evc '^SNAPALLOC_(CMD|LIB|REPORT_SOCKET)=' "$T/out")" -eq 4 ] || fail "unexpected environment lines"

# Signals sent to the command reach the program.  The program tells us it
# is ready through a file; no timing is assumed.
rm -f "$T/ready"
"$SNAPALLOC_CMD" run -o "$T/o" -- sh -c \
    'trap "exit 42" USR1; : >"$0"; while :; do sleep 0.1; done' "$T/ready" \
    >"$T/out" 2>"$T/err" &
pid=$!
n=0
while [ ! -e "$T/ready" ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || fail "the program never started"; sleep 0.01
done
kill -USR1 $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 42 ] || fail "forwarded SIGUSR1: exit status $rc, expected 42"
rm -f "$T/ready"
"$SNAPALLOC_CMD" run -o "$T/o" -- sh -c ': >"$0"; while :; do sleep 0.1; done' "$T/ready" \
    >"$T/out" 2>"$T/err" &
pid=$!
n=0
while [ ! -e "$T/ready" ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || fail "the program never started"; sleep 0.01
done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || fail "forwarded SIGTERM: exit status $rc, expected 143"

# A process that dropped privileges cannot write into the run's directory:
# the run ends with a summary of what was lost and why (root only).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
        setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$SNAPALLOC_LIB"; then
    chmod 700 "$T"
    sa run -o "$T/drop" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$PROG"
    expect_rc 0 "dropped privileges"
    grep -q '^snapalloc: 1 file could not be written (results lost):$' "$T/err" \
        || fail "dropped privileges: no summary"
    grep -Eq "^  pid [0-9]+: $T/drop/cli_prog\.[0-9]+\.[0-9]+\.snap: Permission denied\$" "$T/err" \
        || fail "dropped privileges: the record"
    [ "$(tail -n 1 "$T/err" | cut -c1-6)" = "  pid " ] || fail "dropped privileges: the summary is not last"
fi
exit 0
