#!/bin/sh
# leak_standalone.sh - the leak check without SNAPALLOC_CHECK_DIR (as under
# a test runner): the library writes into a private directory, runs the
# analyzer (SNAPALLOC_CMD here) with `check --analyze DIR` and the split
# SNAPALLOC_CHECK_OPTIONS, without LD_PRELOAD and SNAPALLOC_* in its
# environment, removes the directory and exits with the analyzer's status
# when it is not 0.  Without an analyzer: a built-in summary and 23 (24,
# not checked, when it finds no leak); no directory: 24.  Also
# the baseline (snapalloc_mark_baseline, SNAPALLOC_CHECK_WARMUP) and the
# messages for malformed variables.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init leak_standalone
PROG=$(sa_helper leak_prog)

# A fake analyzer: records its arguments, environment and the directory's
# files, and exits with $FAKE_STATUS read from a file (its environment is
# filtered).
FAKE=$SA_TMP/fake-snapalloc
cat >"$FAKE" <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"$SA_TMP/fake.args"
env >"$SA_TMP/fake.env"
ls "\$3" >"$SA_TMP/fake.files"
exit \$(cat "$SA_TMP/fake.status")
EOS
chmod +x "$FAKE"

echo 42 >"$SA_TMP/fake.status"
sa_run_preload_nostats fake42 env SNAPALLOC_CHECK=1 SNAPALLOC_CMD="$FAKE" \
    SNAPALLOC_CHECK_OPTIONS="--exitcode 42  --fail-on definite,possible" "$PROG" direct
sa_expect_status fake42 42
dir=$(sed -n 3p "$SA_TMP/fake.args")
case $dir in /tmp/snapalloc-check.*) ;; *) sa_fail "analyzer's DIR argument is '$dir'" ;; esac
printf '%s\n' check --analyze "$dir" --exitcode 42 --fail-on definite,possible >"$SA_TMP/args.want"
sa_expect_same_file "$SA_TMP/args.want" "$SA_TMP/fake.args" "analyzer arguments"
! grep -q -e '^LD_PRELOAD=' -e '^SNAPALLOC_' "$SA_TMP/fake.env" || sa_fail "the analyzer's environment has LD_PRELOAD or SNAPALLOC_*"
[ "$(grep -c -e '\.done$' -e '\.definite\.snap$' -e '\.exit\.snap$' "$SA_TMP/fake.files")" = 3 ] \
    || sa_fail "the analyzer saw: $(cat "$SA_TMP/fake.files")"
[ ! -e "$dir" ] || sa_fail "the private directory $dir was not removed"

echo 0 >"$SA_TMP/fake.status"
sa_run_preload_nostats fake0 env SNAPALLOC_CHECK=1 SNAPALLOC_CMD="$FAKE" "$PROG" direct
sa_expect_status fake0 0
[ "$(wc -l <"$SA_TMP/fake.args")" = 3 ] || sa_fail "analyzer arguments without options: $(cat "$SA_TMP/fake.args")"

# No analyzer: one line, the built-in summary, 23 for definite leaks.
sa_run_preload_nostats noanalyzer env SNAPALLOC_CHECK=1 SNAPALLOC_CMD="$SA_TMP/missing" "$PROG" list
sa_expect_status noanalyzer 23
grep -q '^snapalloc: cannot run the leak analyzer: No such file or directory; built-in summary follows$' \
    "$(sa_err noanalyzer)" || { sa_show noanalyzer; sa_fail "no message about the missing analyzer"; }
grep -q '^snapalloc: definitely lost: 48 bytes in 1 blocks$' "$(sa_err noanalyzer)" || { sa_show noanalyzer; sa_fail "no definite summary"; }
grep -q '^snapalloc: indirectly lost: 192 bytes in 4 blocks$' "$(sa_err noanalyzer)" || { sa_show noanalyzer; sa_fail "no indirect summary"; }
# Without leaks, the gate fails closed: options and suppressions were not
# applied, so nothing says the program passes.
sa_run_preload_nostats noanalyzer_clean env SNAPALLOC_CHECK=1 SNAPALLOC_CMD="$SA_TMP/missing" "$PROG" clean
sa_expect_status noanalyzer_clean 24
grep -q '^snapalloc: leak check: not checked without the analyzer (exit status 24)$' \
    "$(sa_err noanalyzer_clean)" || { sa_show noanalyzer_clean; sa_fail "no not-checked line"; }

# No directory can be made: one line, 24, whatever the program's status;
# TMPDIR is where the private directory goes.
sa_run_preload_nostats nodir env SNAPALLOC_CHECK=1 TMPDIR="$SA_TMP/no-such-dir" \
    SNAPALLOC_CMD="$SA_TMP/missing" "$PROG" direct
sa_expect_status nodir 24
[ "$(cat "$(sa_err nodir)")" = "snapalloc: leak check: cannot create a directory in $SA_TMP/no-such-dir: No such file or directory; the program is not checked" ] \
    || { sa_show nodir; sa_fail "no-directory message"; }
mkdir "$SA_TMP/tmpdir"
echo 0 >"$SA_TMP/fake.status"
sa_run_preload_nostats tmpdir env SNAPALLOC_CHECK=1 TMPDIR="$SA_TMP/tmpdir" SNAPALLOC_CMD="$FAKE" "$PROG" direct
sa_expect_status tmpdir 0
case $(sed -n 3p "$SA_TMP/fake.args") in "$SA_TMP/tmpdir/snapalloc-check."*) ;; *) sa_fail "TMPDIR not honoured: $(sed -n 3p "$SA_TMP/fake.args")" ;; esac

# The real analyzer, when the command has it: 23 for a leak, 0 without.
if [ -x "${SNAPALLOC_CMD:-}" ]; then
    sa_run_preload_nostats real_leak env SNAPALLOC_CHECK=1 "$PROG" direct
    sa_expect_status real_leak 23
    sa_run_preload_nostats real_clean env SNAPALLOC_CHECK=1 "$PROG" clean
    sa_expect_status real_clean 0
fi

# A process that execs after its baseline: the new image takes over the
# directory the old one made (same pid), so nothing is left behind in
# TMPDIR.  sh waits until its warmup baseline is there, then execs.
mkdir "$SA_TMP/exec-tmp"
echo 0 >"$SA_TMP/fake.status"
sa_run_preload_nostats execbase env SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_WARMUP=0.01 \
    TMPDIR="$SA_TMP/exec-tmp" SNAPALLOC_CMD="$FAKE" sh -c '
    i=0
    while [ $i -lt 300 ]; do
        for f in "$TMPDIR"/snapalloc-check.$$.*/$$.baseline.snap; do [ -e "$f" ] && exec "$0" clean; done
        sleep 0.1; i=$((i+1))
    done
    echo "no baseline" >&2; exit 9' "$PROG"
sa_expect_status execbase 0
[ -z "$(ls "$SA_TMP/exec-tmp")" ] || sa_fail "exec after a baseline left: $(ls "$SA_TMP/exec-tmp")"
grep -q '\.exit\.snap$' "$SA_TMP/fake.files" || sa_fail "the exec'ed image was not checked: $(cat "$SA_TMP/fake.files")"

# Baselines: snapalloc_mark_baseline() and the warmup timer.
sa_run_checked mark "$PROG" baseline
f=$SA_TMP/mark.d/$SA_CHECK_PID.baseline.snap
sa_snapdump "$f"
sed -n '1s/.* trigger=\([0-9]*\) .*/\1/p' "$f.txt" | grep -qx 6 || sa_fail "baseline.snap: trigger is not 6"
grep -q '^stack size=2468 count=2 ' "$f.txt" || { cat "$f.txt" >&2; sa_fail "baseline.snap lacks the 2 x 1234 bytes"; }
# (A warmup no loaded machine can outlast: the program is far shorter.)
sa_run_checked warmup env SNAPALLOC_CHECK_WARMUP=600 "$PROG" clean
[ ! -e "$SA_TMP/warmup.d/$SA_CHECK_PID.baseline.snap" ] || sa_fail "a warmup baseline in a program shorter than the warmup"
sa_run_checked warmup2 env SNAPALLOC_CHECK_WARMUP=0.05 "$PROG" baseline
[ -e "$SA_TMP/warmup2.d/$SA_CHECK_PID.baseline.snap" ] || sa_fail "no warmup baseline"

# Malformed variables: one line each, safe defaults.
mkdir -p "$SA_TMP/bad.d"
sa_run_preload_nostats bad env SNAPALLOC_CHECK=yes SNAPALLOC_CHECK_DIR="$SA_TMP/bad.d" "$PROG" direct
sa_expect_status bad 0
sa_expect_stderr bad 'snapalloc: SNAPALLOC_CHECK="yes": not 0 or 1; the leak check stays off'
[ -z "$(ls "$SA_TMP/bad.d")" ] || sa_fail "SNAPALLOC_CHECK=yes wrote files"
sa_run_checked badwarm env SNAPALLOC_CHECK_WARMUP=soon "$PROG" clean
sa_expect_stderr badwarm 'snapalloc: SNAPALLOC_CHECK_WARMUP="soon": not a number of seconds from 0.001 to 1000000000; no warmup baseline'
sa_pass
