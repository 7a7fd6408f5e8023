# cli_lib.sh - shared helpers of the snapalloc command tests (cli_*.sh).
#
# Sourced by the tests, which run under set -eu.  `sa ARGS` runs the command
# and keeps its stdout, stderr and status in $T/out, $T/err, $T/rc; the
# expect_* helpers assert on them and name the failing check.

cli_init() {
    NAME=$1
    : "${top_srcdir:?top_srcdir is not set (run the tests through make check)}"
    : "${top_builddir:?top_builddir is not set (run the tests through make check)}"
    : "${SNAPALLOC_CMD:?SNAPALLOC_CMD is not set (run the tests through make check)}"
    SRC=$top_srcdir/tests/integration
    BIN=$top_builddir/tests/integration
    MK=$BIN/cli_mksnap
    PROG=$BIN/cli_prog
    T=$(mktemp -d "${TMPDIR:-/tmp}/sa-$NAME.XXXXXX")
    trap 'rc=$?; rm -rf "$T"; exit $rc' EXIT
    trap 'exit 1' HUP INT TERM
    ulimit -c 0 2>/dev/null || :
    unset LD_PRELOAD || :
    LC_ALL=C
    export LC_ALL
}

fail() {
    echo "FAIL: $NAME: $*" >&2
    for f in out err; do
        [ -f "$T/$f" ] && { echo "--- $f:" >&2; head -40 "$T/$f" >&2; }
    done
    exit 1
}

# The line number of a SITE marker in a test program's source.
line_of() { # FILE MARKER
    n=$(grep -n "SITE:$2 " "$SRC/$1" | cut -d: -f1)
    [ -n "$n" ] || fail "no SITE:$2 in $1"
    echo "$n"
}

sa() {
    rc=0
    "$SNAPALLOC_CMD" "$@" >"$T/out" 2>"$T/err" || rc=$?
    echo "$rc" >"$T/rc"
}

expect_rc() { # STATUS WHAT
    got=$(cat "$T/rc")
    [ "$got" = "$1" ] || fail "$2: exit status $got, expected $1"
}

# A line of stdout matching the extended regex exactly (anchored).
expect_line() { # REGEX WHAT
    grep -Eq "^$1\$" "$T/out" || fail "$2: no line matching ^$1\$"
}

expect_no_line() { # REGEX WHAT
    if grep -Eq "$1" "$T/out"; then fail "$2: unexpected line matching $1"; fi
}

# Exactly one line on stderr, starting with "snapalloc: ".
expect_one_error() { # WHAT
    n=$(wc -l <"$T/err")
    [ "$n" -eq 1 ] || fail "$1: $n lines on stderr, expected 1"
    grep -q '^snapalloc: ' "$T/err" || fail "$1: stderr does not start with 'snapalloc: '"
}

# The stat lines of text output (those with "size="), in order.
stat_lines() {
    grep -E ': size=' "$T/out" | grep -v '^  total:' || :
}

# Evaluate a Python expression on the JSON in $T/out (bound to d).
json() { # EXPR
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$T/out" "$1" || fail "JSON: cannot evaluate $1"
}

expect_json() { # EXPR EXPECTED WHAT
    got=$(json "$1")
    [ "$got" = "$2" ] || fail "$3: $1 = $got, expected $2"
}
