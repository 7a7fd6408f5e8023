# cli_run.sh - `snapalloc run` as a process runner: exit statuses (own,
# 128+signal, 127), the environment given to the program (LD_PRELOAD
# prepended, SNAPALLOC_* from the options), the output directory, and
# signal forwarding.  The tracer's output is tested by cli_trace.sh.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_run
PROG=$(sa_helper cli_prog)
cd "$SA_TMP"

sa_cmd run -o "$SA_TMP/o" -- sh -c 'exit 3'
sa_expect_status cmd 3 "exit 3"
sa_cmd run -o "$SA_TMP/o" -- sh -c 'exit 0'
sa_expect_status cmd 0 "exit 0"
sa_cmd run -o "$SA_TMP/o" -- sh -c 'kill -TERM $$'
sa_expect_status cmd 143 "killed by SIGTERM"
sa_cmd run -o "$SA_TMP/o" -- sh -c 'kill -KILL $$'
sa_expect_status cmd 137 "killed by SIGKILL"
sa_cmd run -o "$SA_TMP/o" -- "$SA_TMP/no-such-program"
sa_expect_status cmd 127 "missing program"
grep -q "^snapalloc: $SA_TMP/no-such-program: cannot execute: No such file or directory\$" "$SA_TMP/cmd.err" ||
    sa_fail "missing program: message"
printf 'not a program\n' >"$SA_TMP/notexec"; chmod 644 "$SA_TMP/notexec"
sa_cmd run -o "$SA_TMP/o" -- "$SA_TMP/notexec"
sa_expect_status cmd 127 "not executable"

# The environment: LD_PRELOAD prepended (the caller's kept after it) and
# SNAPALLOC_* from the options, with absolute paths.
lib=$(readlink -f "$SNAPALLOC_LIB")
sa_run_plain cmd env LD_PRELOAD=/nonexistent/keep.so "$SNAPALLOC_CMD" run -o rel/dir -n 7 --signal usr2 \
    --interval 5 --peak 1M --unwind fp --no-exit-snapshot -- \
    sh -c 'env | grep -E "^(LD_PRELOAD|SNAPALLOC_)" | sort'
sa_expect_status cmd 0 "env run"
sa_expect_line cmd "LD_PRELOAD=$lib:/nonexistent/keep.so" "LD_PRELOAD prepended"
sa_expect_line cmd "SNAPALLOC_TRACE=7" "-n"
sa_expect_line cmd "SNAPALLOC_SIGNAL=12" "--signal"   # SIGUSR2 on Linux x86-64
sa_expect_line cmd "SNAPALLOC_INTERVAL=5" "--interval"
sa_expect_line cmd "SNAPALLOC_PEAK=1048576" "--peak"
sa_expect_line cmd "SNAPALLOC_UNWIND=fp" "--unwind"
sa_expect_line cmd "SNAPALLOC_SNAPSHOT_AT_EXIT=0" "--no-exit-snapshot"
sa_expect_line cmd "SNAPALLOC_SNAPSHOT=$SA_TMP/rel/dir/%e\.%p\.%n\.snap" "snapshot template"
[ -d "$SA_TMP/rel/dir" ] || sa_fail "-o did not create the directory"
# Defaults; options not given are removed from the environment.
sa_run_plain cmd env SNAPALLOC_PEAK=1 SNAPALLOC_SIGNAL=USR1 "$SNAPALLOC_CMD" run -- \
    sh -c 'env | grep -E "^(LD_PRELOAD|SNAPALLOC_)" | sort'
sa_expect_status cmd 0 "default env run"
sa_expect_line cmd "LD_PRELOAD=$lib" "LD_PRELOAD alone"
sa_expect_line cmd "SNAPALLOC_TRACE=32" "default frames"
sa_expect_line cmd "SNAPALLOC_SNAPSHOT_AT_EXIT=1" "default exit snapshot"
sa_expect_line cmd "SNAPALLOC_SNAPSHOT=$SA_TMP/snapalloc-out/%e\.%p\.%n\.snap" "default directory"
sa_expect_no_line cmd "SNAPALLOC_(PEAK|SIGNAL|INTERVAL|UNWIND)=" "unset options"
sa_expect_line cmd "SNAPALLOC_REPORT_SOCKET=snapalloc-run\.[0-9]+\.[0-9a-f]+" "the failure socket"
[ "$(grep -Evc '^SNAPALLOC_(CMD|LIB|REPORT_SOCKET)=' "$SA_TMP/cmd.out")" -eq 4 ] || sa_fail "unexpected environment lines"

# Signals sent to the command reach the program.  The program tells us it
# is ready through a file; no timing is assumed.
rm -f "$SA_TMP/ready"
"$SNAPALLOC_CMD" run -o "$SA_TMP/o" -- sh -c \
    'trap "exit 42" USR1; : >"$0"; while :; do sleep 0.1; done' "$SA_TMP/ready" \
    >"$SA_TMP/cmd.out" 2>"$SA_TMP/cmd.err" &
pid=$!
n=0
while [ ! -e "$SA_TMP/ready" ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || sa_fail "the program never started"; sleep 0.01
done
kill -USR1 $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 42 ] || sa_fail "forwarded SIGUSR1: exit status $rc, expected 42"
rm -f "$SA_TMP/ready"
"$SNAPALLOC_CMD" run -o "$SA_TMP/o" -- sh -c ': >"$0"; while :; do sleep 0.1; done' "$SA_TMP/ready" \
    >"$SA_TMP/cmd.out" 2>"$SA_TMP/cmd.err" &
pid=$!
n=0
while [ ! -e "$SA_TMP/ready" ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || sa_fail "the program never started"; sleep 0.01
done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || sa_fail "forwarded SIGTERM: exit status $rc, expected 143"

# A process that dropped privileges cannot write into the run's directory:
# the run ends with a summary of what was lost and why (root only).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
        setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$SNAPALLOC_LIB"; then
    chmod 700 "$SA_TMP"
    sa_cmd run -o "$SA_TMP/drop" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$PROG"
    sa_expect_status cmd 0 "dropped privileges"
    # The peak file and the exit snapshot.
    grep -q '^snapalloc: 2 files could not be written (results lost):$' "$SA_TMP/cmd.err" \
        || sa_fail "dropped privileges: no summary"
    grep -Eq "^  pid [0-9]+: $SA_TMP/drop/cli_prog\.[0-9]+\.[0-9]+\.snap: Permission denied\$" "$SA_TMP/cmd.err" \
        || sa_fail "dropped privileges: the record"
    grep -Eq "^  pid [0-9]+: $SA_TMP/drop/cli_prog\.[0-9]+\.peak\.snap: Permission denied\$" "$SA_TMP/cmd.err" \
        || sa_fail "dropped privileges: the peak file's record"
    sa_expect_eq "$(tail -n 1 "$SA_TMP/cmd.err" | cut -c1-6)" "  pid " "dropped privileges: the summary is not last"
fi
sa_pass
