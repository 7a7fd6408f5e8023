# lib.sh - the one helper library of snapalloc's shell tests (tests/*/*.sh):
# start a test in its own temporary directory, run programs plain, with
# libsnapalloc preloaded, traced, under the leak check or through the
# snapalloc command, and assert on what they printed, wrote and returned.
#
# Sourced (". lib.sh") by every test script, which runs with set -eu under
# a POSIX sh (dash: cli_sanitizers.sh runs the cli_*/check_* tests with sh).
# Family files build on it and add only their domain's helpers:
# tests/leak/memcheck_lib.sh (valgrind memcheck, the leak corpus) and
# tests/real/py_lib.sh (CPython's regression tests).
#
# Runs.  Every run of a program is named by a TAG; its stdout, stderr and
# exit status go to $SA_TMP/TAG.out, TAG.err and TAG.rc.  Runs are bounded
# by SA_TIMEOUT seconds (a deadlock fails instead of hanging) and read
# /dev/null.
#   sa_run_plain TAG CMD...        under glibc's malloc
#   sa_run_preload TAG CMD...      libsnapalloc preloaded, statistics printed
#                                  at exit (sa_expect_malloc_calls proves the
#                                  preload took)
#   sa_run_preload_nostats TAG CMD...  the same without statistics
#   sa_run_traced TAG CMD...       preloaded with SNAPALLOC_TRACE=16 and the
#                                  snapshots in $SA_SNAPS (CMD may start with
#                                  env VAR=... to override either)
#   sa_run_checked TAG CMD...      preloaded with SNAPALLOC_CHECK=1, the check's
#                                  files in $SA_TMP/TAG.d; exactly one
#                                  complete set must be written
#   sa_cmd ARGS...                 the snapalloc command, as run "cmd"
# Runs write nothing outside $SA_TMP: the build tree stays clean (distcheck).
#
# Outcome.
#   sa_init NAME     start test NAME: $SA_TMP (removed at exit), $SA_SRC and
#                    $SA_BIN (this directory in the source and build trees),
#                    $SA_SNAPS; the caller's LD_PRELOAD and SNAPALLOC_*
#                    settings removed; LC_ALL=C
#   sa_pass          PASS (exit 0), or FAIL if sa_defer_fail recorded anything
#   sa_fail MSG      FAIL (exit 1), with the start of the last run's output
#   sa_skip MSG      SKIP (exit 77)
#   sa_at_exit CMD   run CMD at exit, before $SA_TMP is removed (servers...)
#   sa_defer_fail MSG  record a failure and go on (for tests that list every
#                    mismatch); the test fails at sa_pass
#   sa_need_program PROG  SKIP unless PROG is installed
#   sa_helper NAME   the path of a helper program built by make check (in
#                    $SA_BIN, or DIR/NAME: in $top_builddir/DIR)
#   sa_build OUT SRC LEVEL [ARGS...]  compile SRC (C or C++ by its suffix) into
#                    OUT at -LEVEL (O0, O2), the level after $CFLAGS
#
# Assertions (WHAT names the check in the failure message).
#   sa_expect_status TAG STATUS [WHAT]     exit status (124: timed out)
#   sa_expect_eq GOT WANT WHAT             two values are equal
#   sa_expect_same_file FILE1 FILE2 WHAT   two files are identical
#   sa_same_stdout TAG1 TAG2               two runs printed the same stdout
#   sa_expect_stdout TAG TEXT              stdout is exactly TEXT
#   sa_expect_stderr TAG TEXT              stderr is exactly TEXT (or empty)
#   sa_expect_line / sa_expect_no_line TAG REGEX WHAT
#                    a stdout line matches ^REGEX$ (extended) / no line
#                    contains REGEX
#   sa_expect_err_line / sa_expect_no_err_line TAG REGEX WHAT   on stderr
#   sa_expect_one_error TAG WHAT   stderr is one line "snapalloc: ..."
#   sa_expect_malloc_calls TAG MIN  the preloaded run's statistics count more
#                    than MIN malloc calls and some free calls
#   sa_expect_json FILE EXPR WANT WHAT   str(EXPR) on the JSON in FILE (d)
#   sa_expect_xml FILE EXPR WANT WHAT    the same on XML (root element x)
#   sa_expect_trace_site SNAP SITE "STACKS SIZE COUNT"   (see sa_trace_site)
#   sa_expect_check_class TAG CLASS "BYTES BLOCKS"       (see sa_check_class)
#
# Reading results.
#   sa_status TAG, sa_out TAG, sa_err TAG   exit status, path of stdout/stderr
#   sa_show TAG            the end of a run's stderr, for a failure message
#   sa_stat TAG WHAT       N of the statistics line "# WHAT = N"
#   sa_site_lines TAG      the call-site lines ("...: size=") of show's text
#   sa_json FILE EXPR, sa_xml FILE EXPR   evaluate a Python expression
#   sa_line_of FILE MARKER  the line of "SITE:MARKER " in a test source
#   sa_snapdump SNAP       snapdump's text of a snapshot into SNAP.txt
#   sa_snap_field SNAP KEY  a field of a dumped snapshot's first line
#   sa_trace_site SNAP SITE  "STACKS SIZE COUNT" of trace_prog's site SITE
#   sa_check_class TAG CLASS  "BYTES BLOCKS" of a class file of a checked run
#   sa_check_field TAG CLASS KEY  a header field of that file
#   sa_mkset DIR ARGS...   check_mkset writes a leak set; its pid in $SA_PID
#
# Why the statistics: a preload that silently did not take (a wrong path, a
# library that failed to load, a program that is really a wrapper script)
# would make every comparison pass trivially.  With SNAPALLOC_STATS=1 the
# library prints its statistics to stderr at exit, and the tests require a
# realistic "# malloc calls" count there.

# ---- outcome ---------------------------------------------------------------

sa_init() {
    SA_NAME=$1
    : "${top_srcdir:?top_srcdir is not set (run the tests through make check)}"
    : "${top_builddir:?top_builddir is not set (run the tests through make check)}"
    : "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"
    : "${SNAPALLOC_CMD:?SNAPALLOC_CMD is not set (run the tests through make check)}"
    SA_SRC=$top_srcdir/tests/integration
    SA_BIN=$top_builddir/tests/integration
    SA_LAST=
    [ -f "$SNAPALLOC_LIB" ] || sa_fail "SNAPALLOC_LIB=$SNAPALLOC_LIB does not exist (is libsnapalloc built?)"
    SA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-$SA_NAME.XXXXXX")
    SA_AT_EXIT=
    # (the hooks in a subshell: one that fails or exits keeps the cleanup)
    trap 'sa_rc=$?; (eval "$SA_AT_EXIT") || :; rm -rf "$SA_TMP"; exit $sa_rc' EXIT
    trap 'exit 1' HUP INT TERM
    SA_SNAPS=$SA_TMP/snaps
    mkdir "$SA_SNAPS"
    # A crash we provoke (misuse.sh) or do not expect must not leave a core.
    ulimit -c 0 2>/dev/null || :
    SA_TIMEOUT=${SA_TIMEOUT:-300}
    # The caller's own preloads would mix with ours: the plain run is glibc.
    # Nor may the caller's snapalloc settings change what a test runs.
    unset LD_PRELOAD SNAPALLOC_STATS SNAPALLOC_TRACE SNAPALLOC_SNAPSHOT \
        SNAPALLOC_SNAPSHOT_AT_EXIT SNAPALLOC_SIGNAL SNAPALLOC_INTERVAL \
        SNAPALLOC_PEAK SNAPALLOC_UNWIND SNAPALLOC_THP SNAPALLOC_CHECK \
        SNAPALLOC_CHECK_DIR SNAPALLOC_CHECK_WARMUP SNAPALLOC_CHECK_OPTIONS \
        SNAPALLOC_DEBUG SNAPALLOC_DEBUG_QUARANTINE SNAPALLOC_DEBUG_FILE || :
    # Messages and sorting the tests compare are the C locale's.
    LC_ALL=C
    export LC_ALL
}

sa_fail() {
    echo "FAIL: ${SA_NAME:-?}: $*" >&2
    if [ -n "${SA_LAST:-}" ]; then
        for sa_f in "$SA_TMP/$SA_LAST.out" "$SA_TMP/$SA_LAST.err"; do
            [ -s "$sa_f" ] || continue
            echo "--- ${sa_f##*/} (first 40 lines):" >&2
            head -n 40 "$sa_f" >&2
        done
    fi
    exit 1
}

sa_skip() {
    echo "SKIP: ${SA_NAME:-?}: $*" >&2
    exit 77
}

# sa_defer_fail MSG: a failed check after which the test goes on (it lists
# every mismatch); kept in a file, so that a subshell's count too.
sa_defer_fail() {
    echo "MISMATCH: $SA_NAME: $*" >&2
    printf '%s\n' "$*" >>"$SA_TMP/deferred-failures"
}

sa_pass() {
    if [ -s "$SA_TMP/deferred-failures" ]; then
        SA_LAST=
        echo "--- $SA_NAME: $(wc -l <"$SA_TMP/deferred-failures") failed checks ---" >&2
        cat "$SA_TMP/deferred-failures" >&2
        sa_fail "$(wc -l <"$SA_TMP/deferred-failures") failed checks (above)"
    fi
    echo "PASS: $SA_NAME"
    exit 0
}

sa_at_exit() {
    SA_AT_EXIT="${SA_AT_EXIT:+$SA_AT_EXIT; }$*"
}

sa_need_program() {
    command -v "$1" >/dev/null 2>&1 || sa_skip "$1 is not installed"
}

sa_helper() {
    case $1 in
        */*) sa_h=$top_builddir/$1 ;;
        *) sa_h=$SA_BIN/$1 ;;
    esac
    [ -x "$sa_h" ] || sa_fail "helper program $sa_h is missing (make check builds it)"
    printf '%s\n' "$sa_h"
}

# sa_build OUT SRC LEVEL [ARGS...]: the level comes after the user's flags,
# where it holds (as tests/leak/build.sh does for the corpus).
sa_build() {
    sa_o=$1 sa_s=$2 sa_l=$3
    shift 3
    case $sa_s in
        *.cc) set -- ${CXX:-c++} ${CXXFLAGS:-} -g -"$sa_l" -o "$sa_o" "$sa_s" "$@" ;;
        *) set -- ${CC:-cc} ${CFLAGS:-} -g -"$sa_l" -o "$sa_o" "$sa_s" "$@" ;;
    esac
    "$@" 2>"$sa_o.cc.err" || { cat "$sa_o.cc.err" >&2; sa_fail "cannot build $sa_s at -$sa_l"; }
}

# ---- runs ------------------------------------------------------------------

sa_timeout_cmd() {
    if command -v timeout >/dev/null 2>&1; then
        printf 'timeout %s' "$SA_TIMEOUT"
    fi
}

# sa__run TAG CMD...: run CMD into TAG's files.  In the background and
# waited for: a shell reports a command killed by a signal ("Aborted") on
# its own stderr, and dash does so while the command's redirections are
# still in place, which would put the notice into TAG.err.
sa__run() {
    sa_tag=$1; shift
    SA_LAST=$sa_tag
    sa_rc=0
    $(sa_timeout_cmd) "$@" </dev/null >"$SA_TMP/$sa_tag.out" 2>"$SA_TMP/$sa_tag.err" &
    wait $! || sa_rc=$?
    echo "$sa_rc" >"$SA_TMP/$sa_tag.rc"
}

sa_run_plain() {
    sa__run "$@"
}

# env sets the variables after timeout, so timeout itself runs under glibc.
sa_run_preload() {
    sa_t=$1; shift
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" SNAPALLOC_STATS=1 "$@"
}

sa_run_preload_nostats() {
    sa_t=$1; shift
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" "$@"
}

# sa_run_traced: a leading "env" of CMD is dropped, so that its variables
# join ours (the later wins) and no traced env(1) runs in between.
sa_run_traced() {
    sa_t=$1; shift
    [ "${1:-}" != env ] || shift
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" SNAPALLOC_TRACE=16 \
        SNAPALLOC_SNAPSHOT="$SA_SNAPS/%e.%p.%n.snap" "$@"
}

sa_run_checked() {
    sa_t=$1; shift
    mkdir -p "$SA_TMP/$sa_t.d"
    sa__run "$sa_t" env LD_PRELOAD="$SNAPALLOC_LIB" SNAPALLOC_CHECK=1 \
        SNAPALLOC_CHECK_DIR="$SA_TMP/$sa_t.d" "$@"
    sa_n=$(ls "$SA_TMP/$sa_t.d" | grep -c '\.done$' || :)
    [ "$sa_n" = 1 ] || { sa_show "$sa_t"; sa_fail "run '$sa_t' wrote $sa_n complete check sets, expected 1: $(ls "$SA_TMP/$sa_t.d")"; }
    SA_CHECK_PID=$(ls "$SA_TMP/$sa_t.d" | sed -n 's/^\([0-9]*\)\.done$/\1/p')
    for sa_c in exit definite indirect possible reachable; do
        sa_snapdump "$SA_TMP/$sa_t.d/$SA_CHECK_PID.$sa_c.snap"
    done
}

sa_cmd() {
    sa__run cmd "$SNAPALLOC_CMD" "$@"
}

# ---- reading results -------------------------------------------------------

sa_status() { cat "$SA_TMP/$1.rc"; }
sa_out() { printf '%s\n' "$SA_TMP/$1.out"; }
sa_err() { printf '%s\n' "$SA_TMP/$1.err"; }

sa_show() {
    echo "--- stderr of run '$1' (last 20 lines) ---" >&2
    tail -n 20 "$SA_TMP/$1.err" >&2
    echo "--- end ---" >&2
}

# sa_stat TAG WHAT: empty if there is not exactly one such line.
sa_stat() {
    sa_lines=$(sed -n "s/^# $2  *= \\([0-9][0-9]*\\)\$/\\1/p" "$SA_TMP/$1.err")
    case $sa_lines in
        *[!0-9]*) ;;    # several lines: ambiguous
        *) printf '%s\n' "$sa_lines" ;;
    esac
}

# sa_site_lines TAG: in order, without show's "  total:" header line.
sa_site_lines() {
    grep -E ': size=' "$SA_TMP/$1.out" | grep -v '^  total:' || :
}

sa_json() { # FILE EXPR
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1" "$2" || sa_fail "JSON: cannot evaluate $2 on $1"
}

sa_xml() { # FILE EXPR
    python3 -c 'import sys, xml.etree.ElementTree as ET; x=ET.parse(sys.argv[1]).getroot(); print(eval(sys.argv[2]))' \
        "$1" "$2" || sa_fail "XML: cannot evaluate $2 on $1"
}

sa_line_of() { # FILE MARKER (FILE in $SA_SRC)
    sa_n=$(grep -n "SITE:$2 " "$SA_SRC/$1" | cut -d: -f1)
    [ -n "$sa_n" ] || sa_fail "no SITE:$2 in $1"
    echo "$sa_n"
}

sa_snapdump() {
    "$(sa_helper snapdump)" "$1" >"$1.txt" 2>"$1.err" || {
        cat "$1.err" >&2
        sa_fail "snapshot $1 does not read back"
    }
}

sa_snap_field() { # SNAP KEY (dumped)
    sed -n "1s/.* $2=\\([0-9]*\\).*/\\1/p" "$1.txt"
}

# sa_trace_site SNAP SITE: over the stacks of dumped SNAP whose frame 0
# lies in trace_prog's function site_SITE and whose frame 1 is its return
# address (both read from $SA_SNAPS/sites, which trace_prog writes).
sa_trace_site() {
    sa_line=$(grep "^site $2 " "$SA_SNAPS/sites" | head -n 1)
    [ -n "$sa_line" ] || sa_fail "trace_prog did not record site $2"
    set -- "$1" $sa_line
    awk -v fn="$4" -v ret="$5" '
        function close_stack() { if (f0 && f1) { n++; s += size; c += count } }
        /^stack / { close_stack(); split($2, a, "="); size = a[2]; split($3, b, "="); count = b[2];
                    idx = 0; f0 = 0; f1 = 0; next }
        /^frame / { if (idx == 0 && $2 == "trace_prog" && $3 + 0 >= fn + 0 && $3 + 0 < fn + 256) f0 = 1;
                    if (idx == 1 && $2 == "trace_prog" && $3 + 0 == ret + 0) f1 = 1;
                    idx++; next }
        END { close_stack(); print n + 0, s + 0, c + 0 }' "$1.txt"
}

sa_check_class() { # TAG CLASS (after sa_run_checked TAG)
    sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1 \2/p' "$SA_TMP/$1.d/$SA_CHECK_PID.$2.snap.txt"
}

sa_check_field() { # TAG CLASS KEY
    sa_snap_field "$SA_TMP/$1.d/$SA_CHECK_PID.$2.snap" "$3"
}

sa_mkset() { # DIR ARGS...
    mkdir -p "$1"
    SA_PID=$("$(sa_helper check_mkset)" "$@") || sa_fail "check_mkset $* failed"
}

# ---- assertions ------------------------------------------------------------

sa_expect_status() { # TAG STATUS [WHAT]
    sa_got=$(sa_status "$1")
    if [ "$sa_got" != "$2" ]; then
        sa_show "$1"
        if [ "$sa_got" = 124 ]; then
            sa_fail "${3:+$3: }run '$1' timed out after ${SA_TIMEOUT}s (deadlock?)"
        fi
        sa_fail "${3:+$3: }run '$1' exited with status $sa_got, expected $2"
    fi
}

sa_expect_eq() { # GOT WANT WHAT
    [ "$1" = "$2" ] || sa_fail "$3: '$1', expected '$2'"
}

sa_expect_same_file() { # FILE1 FILE2 WHAT
    if ! cmp -s "$1" "$2"; then
        echo "--- diff $1 $2 (first 40 lines) ---" >&2
        diff "$1" "$2" | head -n 40 >&2 || :
        sa_fail "$3: $2 differs from $1"
    fi
}

sa_same_stdout() { # TAG1 TAG2
    if ! cmp -s "$SA_TMP/$1.out" "$SA_TMP/$2.out"; then
        echo "--- diff of stdout, run '$1' vs run '$2' (first 40 lines) ---" >&2
        diff "$SA_TMP/$1.out" "$SA_TMP/$2.out" | head -n 40 >&2 || :
        sa_fail "stdout of run '$2' differs from run '$1'"
    fi
}

sa_expect_stdout() { # TAG TEXT (plus a newline)
    printf '%s\n' "$2" >"$SA_TMP/expected.out"
    if ! cmp -s "$SA_TMP/expected.out" "$SA_TMP/$1.out"; then
        echo "--- stdout of run '$1' (first 20 lines) ---" >&2
        head -n 20 "$SA_TMP/$1.out" >&2
        sa_fail "run '$1' did not print exactly '$2'"
    fi
}

sa_expect_stderr() { # TAG TEXT (a line; empty TEXT: empty stderr)
    if [ -z "$2" ]; then
        : >"$SA_TMP/expected.err"
    else
        printf '%s\n' "$2" >"$SA_TMP/expected.err"
    fi
    if ! cmp -s "$SA_TMP/expected.err" "$SA_TMP/$1.err"; then
        sa_show "$1"
        sa_fail "stderr of run '$1' is not exactly: $2"
    fi
}

sa_expect_line() { # TAG REGEX WHAT
    grep -Eq "^$2\$" "$SA_TMP/$1.out" || sa_fail "$3: no line matching ^$2\$"
}

sa_expect_no_line() { # TAG REGEX WHAT
    if grep -Eq "$2" "$SA_TMP/$1.out"; then sa_fail "$3: unexpected line matching $2"; fi
}

sa_expect_err_line() { # TAG REGEX WHAT
    grep -Eq "^$2\$" "$SA_TMP/$1.err" || sa_fail "$3: no stderr line matching ^$2\$"
}

sa_expect_no_err_line() { # TAG REGEX WHAT
    if grep -Eq "$2" "$SA_TMP/$1.err"; then sa_fail "$3: unexpected stderr line matching $2"; fi
}

sa_expect_one_error() { # TAG WHAT
    sa_n=$(wc -l <"$SA_TMP/$1.err")
    [ "$sa_n" -eq 1 ] || sa_fail "$2: $sa_n lines on stderr, expected 1"
    grep -q '^snapalloc: ' "$SA_TMP/$1.err" || sa_fail "$2: stderr does not start with 'snapalloc: '"
}

sa_expect_malloc_calls() { # TAG MIN
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

sa_expect_json() { # FILE EXPR WANT WHAT
    sa_got=$(sa_json "$1" "$2")
    [ "$sa_got" = "$3" ] || sa_fail "$4: $2 = $sa_got, expected $3"
}

sa_expect_xml() { # FILE EXPR WANT WHAT
    sa_got=$(sa_xml "$1" "$2")
    [ "$sa_got" = "$3" ] || sa_fail "$4: $2 = $sa_got, expected $3"
}

sa_expect_trace_site() { # SNAP SITE "STACKS SIZE COUNT"
    sa_got=$(sa_trace_site "$1" "$2")
    if [ "$sa_got" != "$3" ]; then
        echo "--- $1 (first 40 lines) ---" >&2
        head -n 40 "$1.txt" >&2
        sa_fail "site $2 in $(basename "$1"): got '$sa_got', expected '$3' (stacks size count)"
    fi
}

sa_expect_check_class() { # TAG CLASS "BYTES BLOCKS"
    sa_got=$(sa_check_class "$1" "$2")
    if [ "$sa_got" != "$3" ]; then
        head -n 30 "$SA_TMP/$1.d/$SA_CHECK_PID.$2.snap.txt" >&2
        sa_fail "run '$1': $2 is '$sa_got', expected '$3' (bytes blocks)"
    fi
}

# Debug-mode and guard-page reports (debug.sh, guard.sh):
# sa_marker_line FILE MARKER: the line of the word MARKER in FILE.
sa_marker_line() {
    sa_n=$(grep -n "$2\\b" "$1" | head -n 1 | cut -d: -f1)
    [ -n "$sa_n" ] || sa_fail "no marker $2 in $1"
    echo "$sa_n"
}

# sa_report_frame_line TAG SECTION FILE: the line of the first frame in
# FILE under the report's SECTION ("allocated at", "freed at", "detected
# at", ...) in TAG's stderr.
sa_report_frame_line() {
    awk -v sec="$2:" -v file="$3" '
        /^snapalloc: debug: [^ ]/ { cur = substr($0, 19); next }
        cur == sec && !done && match($0, "/" file ":[0-9]+") {
            print substr($0, RSTART + length(file) + 2, RLENGTH - length(file) - 2); done = 1
        }' "$(sa_err "$1")"
}
