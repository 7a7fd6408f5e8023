# lib.sh - shared helpers of the allocator integration tests: run a program
# with and without libsnapalloc preloaded, compare what the two runs printed,
# and read the statistics the preloaded run prints at exit.
#
# Sourced (". lib.sh") by the tests/integration/*.sh scripts, which run with
# set -eu under a POSIX sh.  Every run of a program is named by a tag; its
# stdout, stderr and exit status go to $SA_TMP/TAG.out, TAG.err and TAG.rc.
#
# Why the statistics: a preload that silently did not take (a wrong path, a
# library that failed to load, a program that is really a wrapper script)
# would make every comparison pass trivially.  With SNAPALLOC_STATS=1 the
# library prints its statistics to stderr at exit, and the tests require a
# realistic "# malloc calls" count there.

# sa_init NAME: start test NAME; checks the environment make check provides.
sa_init() {
    SA_NAME=$1
    : "${top_srcdir:?top_srcdir is not set (run the tests through make check)}"
    : "${top_builddir:?top_builddir is not set (run the tests through make check)}"
    : "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"
    SA_SRC=$top_srcdir/tests/integration
    SA_BIN=$top_builddir/tests/integration
    [ -f "$SNAPALLOC_LIB" ] || sa_fail "SNAPALLOC_LIB=$SNAPALLOC_LIB does not exist (is libsnapalloc built?)"
    SA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-$SA_NAME.XXXXXX")
    trap 'sa_rc=$?; rm -rf "$SA_TMP"; exit $sa_rc' EXIT
    trap 'exit 1' HUP INT TERM
    # A crash we provoke (misuse.sh) or do not expect must not leave a core.
    ulimit -c 0 2>/dev/null || :
    # Runs are bounded so that a deadlock fails the test instead of hanging it.
    SA_TIMEOUT=${SA_TIMEOUT:-300}
    # The caller's own preloads would mix with ours: the plain run is glibc.
    # Nor may the caller's snapalloc settings change what a test runs.
    unset LD_PRELOAD SNAPALLOC_STATS SNAPALLOC_TRACE SNAPALLOC_SNAPSHOT \
        SNAPALLOC_SNAPSHOT_AT_EXIT SNAPALLOC_SIGNAL SNAPALLOC_INTERVAL \
        SNAPALLOC_PEAK SNAPALLOC_UNWIND SNAPALLOC_THP || :
}

sa_fail() {
    echo "FAIL: ${SA_NAME:-?}: $*" >&2
    exit 1
}

sa_skip() {
    echo "SKIP: ${SA_NAME:-?}: $*" >&2
    exit 77
}

sa_pass() {
    echo "PASS: $SA_NAME"
    exit 0
}

# sa_need_program PROG: skip the test when PROG is not installed.
sa_need_program() {
    command -v "$1" >/dev/null 2>&1 || sa_skip "$1 is not installed"
}

# sa_helper NAME: path of a helper program built by make check.
sa_helper() {
    [ -x "$SA_BIN/$1" ] || sa_fail "helper program $SA_BIN/$1 is missing (make check builds it)"
    printf '%s\n' "$SA_BIN/$1"
}

sa_timeout_cmd() {
    if command -v timeout >/dev/null 2>&1; then
        printf 'timeout %s' "$SA_TIMEOUT"
    fi
}

# sa__run TAG CMD...: run CMD, bounded by SA_TIMEOUT, into TAG's files.  In
# the background and waited for: a shell reports a command killed by a
# signal ("Aborted") on its own stderr, and dash does so while the command's
# redirections are still in place, which would put the notice into TAG.err.
sa__run() {
    sa_tag=$1; shift
    sa_rc=0
    $(sa_timeout_cmd) "$@" </dev/null >"$SA_TMP/$sa_tag.out" 2>"$SA_TMP/$sa_tag.err" &
    wait $! || sa_rc=$?
    echo "$sa_rc" >"$SA_TMP/$sa_tag.rc"
}

# sa_run_plain TAG CMD...: run CMD under glibc's malloc.
sa_run_plain() {
    sa__run "$@"
}

# sa_run_preload TAG CMD...: run CMD with libsnapalloc preloaded and its
# statistics printed at exit.  env sets the variables after timeout, so
# timeout itself runs under glibc.
sa_run_preload() {
    sa_t=$1; shift
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" SNAPALLOC_STATS=1 "$@"
}

# sa_run_preload_nostats TAG CMD...: as sa_run_preload, without statistics
# (for runs whose stderr is checked line by line).
sa_run_preload_nostats() {
    sa_t=$1; shift
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" "$@"
}

sa_status() { cat "$SA_TMP/$1.rc"; }
sa_out() { printf '%s\n' "$SA_TMP/$1.out"; }
sa_err() { printf '%s\n' "$SA_TMP/$1.err"; }

# sa_show TAG: the end of a run's stderr, for a failure message.
sa_show() {
    echo "--- stderr of run '$1' (last 20 lines) ---" >&2
    tail -n 20 "$SA_TMP/$1.err" >&2
    echo "--- end ---" >&2
}

# sa_expect_status TAG STATUS: the run ended with exit status STATUS
# (124 is timeout's: the program hung).
sa_expect_status() {
    sa_got=$(sa_status "$1")
    if [ "$sa_got" != "$2" ]; then
        sa_show "$1"
        if [ "$sa_got" = 124 ]; then
            sa_fail "run '$1' timed out after ${SA_TIMEOUT}s (deadlock?)"
        fi
        sa_fail "run '$1' exited with status $sa_got, expected $2"
    fi
}

# sa_same_stdout TAG1 TAG2: both runs printed exactly the same stdout.
sa_same_stdout() {
    if ! cmp -s "$SA_TMP/$1.out" "$SA_TMP/$2.out"; then
        echo "--- diff of stdout, run '$1' vs run '$2' (first 40 lines) ---" >&2
        diff "$SA_TMP/$1.out" "$SA_TMP/$2.out" | head -n 40 >&2 || :
        sa_fail "stdout of run '$2' differs from run '$1'"
    fi
}

# sa_expect_stdout TAG TEXT: the run printed exactly TEXT (plus a newline).
sa_expect_stdout() {
    printf '%s\n' "$2" >"$SA_TMP/expected.out"
    if ! cmp -s "$SA_TMP/expected.out" "$SA_TMP/$1.out"; then
        echo "--- stdout of run '$1' (first 20 lines) ---" >&2
        head -n 20 "$SA_TMP/$1.out" >&2
        sa_fail "run '$1' did not print exactly '$2'"
    fi
}

# sa_stat TAG WHAT: the number N of the statistics line "# WHAT  = N" in the
# run's stderr; empty if there is not exactly one such line.
sa_stat() {
    sa_lines=$(sed -n "s/^# $2  *= \\([0-9][0-9]*\\)\$/\\1/p" "$SA_TMP/$1.err")
    case $sa_lines in
        *[!0-9]*) ;;    # several lines: ambiguous
        *) printf '%s\n' "$sa_lines" ;;
    esac
}

# sa_expect_malloc_calls TAG MIN: the preloaded run's statistics report more
# than MIN malloc calls, and some free calls: the library did the work.
sa_expect_malloc_calls() {
    sa_n=$(sa_stat "$1" "malloc calls")
    if [ -z "$sa_n" ]; then
        sa_show "$1"
        sa_fail "run '$1' printed no single '# malloc calls = N' line: was $SNAPALLOC_LIB really preloaded?"
    fi
    if [ "$sa_n" -le "$2" ]; then
        sa_fail "run '$1' made $sa_n malloc calls through snapalloc, expected more than $2"
    fi
    sa_f=$(sa_stat "$1" "free calls")
    if [ -z "$sa_f" ]; then
        sa_show "$1"
        sa_fail "run '$1' printed no single '# free calls = N' line"
    fi
    if [ "$sa_f" -le 0 ]; then
        sa_fail "run '$1' made no free calls through snapalloc"
    fi
    echo "$SA_NAME: run '$1': $sa_n malloc calls, $sa_f free calls"
}
