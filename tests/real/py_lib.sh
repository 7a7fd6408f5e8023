# py_lib.sh - helpers of the tests that run CPython's own regression tests
# (Debian's libpython3.11-testsuite) with snapalloc: a selection of test
# modules runs four ways, plain, with the library preloaded (allocator
# only), under tracing (`snapalloc run`) and under `snapalloc check`, and
# every test case must end the same way (passed, failed, error, skipped...)
# in each mode as in the plain run: the allocator, the tracer and the leak
# checker must not change what the program does.
#
# Sourced after lib.sh by tests/real/py_*.sh.  The interpreter is Debian's
# /usr/bin/python3, not a `python3` found on PATH (a pyenv shim is a bash
# script, and its python has no test package).  PYTHONMALLOC=malloc puts
# every Python object in malloc memory, so snapalloc sees them all.

PY=/usr/bin/python3

# py_init NAME: sa_init, and skip unless Debian's python3 and its test
# package are installed.
py_init() {
    sa_init "$1"
    # The regression tests run in the caller's locale, as Debian runs them
    # (LC_ALL=C would turn off CPython's locale coercion).
    unset LC_ALL
    [ -x "$PY" ] || sa_skip "$PY is not installed"
    "$PY" -c 'import test.libregrtest, test.test_json' </dev/null >/dev/null 2>&1 \
        || sa_skip "CPython's test package is missing (apt-get install libpython3.11-testsuite)"
    PY_OUTCOMES=$top_srcdir/tests/real/py_outcomes.py
    PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1
    export PYTHONMALLOC PYTHONDONTWRITEBYTECODE
    unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONWARNINGS || :
    # The runs are long; bounded all the same (a hang fails the test).
    SA_TIMEOUT=${SA_TIMEOUT_PY:-400}
    : >"$SA_TMP/match"
    PY_MODULES=
}

# py_select MODULE [PATTERN...]: run test module MODULE, all of it, or only
# the test cases whose id (test.MODULE.Class.test_name) matches one of the
# glob PATTERNs.
py_select() {
    py_mod=$1; shift
    PY_MODULES="$PY_MODULES $py_mod"
    if [ $# -eq 0 ]; then
        printf 'test.%s.*\n' "$py_mod" >>"$SA_TMP/match"
    fi
    for py_pat; do
        printf 'test.%s.%s\n' "$py_mod" "$py_pat" >>"$SA_TMP/match"
    done
}

# py__regrtest MODE: the command line of the regression test runner; its
# JUnit XML goes to $SA_TMP/MODE.xml.  -j1: each module in a worker process,
# as the runner is meant to be used.
py__regrtest() {
    # shellcheck disable=SC2086 # PY_MODULES is a list of names
    set -- "$PY" -m test -j1 --timeout 300 --junit-xml "$SA_TMP/$1.xml" \
        --matchfile "$SA_TMP/match" $PY_MODULES
    printf '%s\n' "$*"
}

# py_run MODE: run the selection in MODE (plain, preload, trace or check),
# with its own TMPDIR (the runner's working directories go there).
py_run() {
    py_mode=$1
    mkdir -p "$SA_TMP/tmp-$py_mode"
    py_cmd=$(py__regrtest "$py_mode")
    case $py_mode in
        plain) set -- ;;
        preload) set -- env LD_PRELOAD="$SNAPALLOC_LIB" ;;
        trace) set -- "$SNAPALLOC_CMD" run -o "$SA_SNAPS" -- ;;
        check) set -- "$SNAPALLOC_CMD" check --report "$SA_TMP/check.json" -- ;;
        *) sa_fail "py_run: unknown mode $py_mode" ;;
    esac
    # shellcheck disable=SC2086 # the command line has no blanks in its words
    py_t0=$(date +%s)
    sa_run_plain "$py_mode" env TMPDIR="$SA_TMP/tmp-$py_mode" "$@" $py_cmd
    py_secs=$(( $(date +%s) - py_t0 ))
    [ -s "$SA_TMP/$py_mode.xml" ] || {
        sa_show "$py_mode"
        tail -n 20 "$SA_TMP/$py_mode.out" >&2
        sa_fail "run '$py_mode' wrote no JUnit XML (status $(sa_status "$py_mode"))"
    }
    "$PY" "$PY_OUTCOMES" "$SA_TMP/$py_mode.xml" >"$SA_TMP/$py_mode.outcomes" \
        || sa_fail "cannot read the JUnit XML of run '$py_mode'"
    echo "$SA_NAME: run '$py_mode' (${py_secs} s): status $(sa_status "$py_mode"):" \
        "$(awk '{ n[$1]++ } END { for (k in n) printf "%s %d, ", k, n[k] }' "$SA_TMP/$py_mode.outcomes")" \
        "$(grep -c . "$SA_TMP/$py_mode.outcomes") cases"
}

# py_expect_passed TEST-ID...: the plain run ran these test cases and they
# passed (the selection really holds them).
py_expect_passed() {
    for py_id; do
        grep -qx "passed test.$py_id" "$SA_TMP/plain.outcomes" \
            || sa_fail "the plain run did not pass test.$py_id: $(grep " test.$py_id\$" "$SA_TMP/plain.outcomes" || echo not run)"
    done
}

# py_same_outcomes MODE: every test case ended in MODE as in the plain run,
# and the runner's summary line is the same.
py_same_outcomes() {
    if ! cmp -s "$SA_TMP/plain.outcomes" "$SA_TMP/$1.outcomes"; then
        echo "--- test cases whose outcome differs, plain run vs run '$1' ---" >&2
        diff "$SA_TMP/plain.outcomes" "$SA_TMP/$1.outcomes" | grep '^[<>]' >&2 || :
        echo "--- why, in run '$1' ---" >&2
        "$PY" "$PY_OUTCOMES" --why "$SA_TMP/$1.xml" >"$SA_TMP/$1.why" || :
        diff "$SA_TMP/plain.outcomes" "$SA_TMP/$1.outcomes" | sed -n 's/^> //p' | while read -r py_o py_id; do
            awk -v id="$py_id" '$2 == id { p = 1; print; next } /^[a-z]/ { p = 0 } p' "$SA_TMP/$1.why"
        done | head -n 120 >&2
        echo "--- the runner's report of its workers, run '$1' ---" >&2
        grep -E 'crashed|failed|Exit code|[Tt]imeout|Fatal Python|Segmentation|Killed|Traceback' \
            "$SA_TMP/$1.out" | head -n 30 >&2 || :
        py_fails=$(diff "$SA_TMP/plain.outcomes" "$SA_TMP/$1.outcomes" | grep -c '^[<>]' || :)
        sa_defer_fail "run '$1': $py_fails lines of test case outcomes differ from the plain run"
        return 0
    fi
    py_sum_plain=$(grep '^Tests result:' "$SA_TMP/plain.out" | tail -n 1)
    py_sum=$(grep '^Tests result:' "$SA_TMP/$1.out" | tail -n 1)
    [ -n "$py_sum_plain" ] || sa_fail "the plain run printed no 'Tests result:' line"
    [ "$py_sum" = "$py_sum_plain" ] \
        || sa_defer_fail "run '$1' ended with '$py_sum', the plain run with '$py_sum_plain'"
}

# py_check_modes: the four runs of the selection and their comparison; the
# plain run's outcomes are the reference whatever they are, but they must
# include PASSED test ids given as arguments.  A mode that does not behave
# as the plain run is recorded (sa_defer_fail): the other modes still run
# (the log shows every difference), and the test fails at sa_pass.
py_check_modes() {
    py_run plain
    py_expect_passed "$@"

    # Allocator only.  Statistics at exit would go to the stderr of every
    # process, which tests of subprocess compare: the preload is proven by a
    # run of the same interpreter printing them.
    sa_run_preload proof "$PY" -c 'import json; json.dumps(list(range(1000)))'
    sa_expect_status proof 0
    sa_expect_malloc_calls proof 1000
    py_run preload
    py_same_outcomes preload
    py_same_status preload

    py_run trace
    py_same_outcomes trace
    py_same_status trace
    py_expect_snapshots

    py_run check
    py_same_outcomes check
    py_expect_check
}

py_same_status() {
    [ "$(sa_status "$1")" = "$(sa_status plain)" ] \
        || sa_defer_fail "run '$1' exited with status $(sa_status "$1"), the plain run with $(sa_status plain)"
}

# py_expect_snapshots: the traced run wrote snapshots of python processes,
# and `snapalloc show` reads the largest one.
py_expect_snapshots() {
    py_n=$(find "$SA_SNAPS" -name 'python3*.snap' | wc -l)
    [ "$py_n" -ge 2 ] || sa_fail "the traced run wrote $py_n python3 snapshots, expected the runner's and its worker's"
    py_big=$(ls -S "$SA_SNAPS"/python3*.snap | head -n 1)
    sa_cmd show "$py_big"
    sa_expect_status cmd 0 "snapalloc show $py_big"
    grep -q 'size=.*count=' "$(sa_out cmd)" || sa_fail "snapalloc show printed no call site"
    echo "$SA_NAME: run 'trace': $py_n snapshots; the top sites of the largest, $(basename "$py_big"):"
    grep 'size=.*count=' "$(sa_out cmd)" | head -n 3
}

# py_expect_check: under `snapalloc check` the program's status is the plain
# run's, and the check exits with it or with its leak status 23; the leak
# summary is printed for the log (whether it fails is not asserted here).
py_expect_check() {
    py_st=$(sa_status check)
    py_prog=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["exit_status"])' \
        "$SA_TMP/check.json") || sa_fail "no JSON report of the check"
    [ "$py_prog" = "$(sa_status plain)" ] \
        || sa_defer_fail "under check the program exited with $py_prog, the plain run with $(sa_status plain)"
    [ "$py_st" = "$py_prog" ] || [ "$py_st" = 23 ] \
        || { sa_show check; sa_fail "snapalloc check exited with $py_st"; }
    echo "$SA_NAME: run 'check': status $py_st; $(sed -n '/^LEAK SUMMARY:/,$p' "$SA_TMP/check.err" | tr '\n' ';')"
}
