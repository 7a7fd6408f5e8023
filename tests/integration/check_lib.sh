# check_lib.sh - shared helpers of the `snapalloc check` tests (check_*.sh),
# on top of cli_lib.sh (sa, fail, expect_rc, line_of, ...).  The report of
# check goes to stderr, so the expect_err_* helpers look at $T/err.
. "$top_srcdir/tests/integration/cli_lib.sh"

check_init() {
    cli_init "$1"
    MKSET=$BIN/check_mkset
    F='[^ ]*check_mkset\.c'
    S=check_mkset.c
}

# mkset DIR ARGS...: writes a leak set into DIR; its pid goes to $PID.
mkset() {
    mkdir -p "$1"
    PID=$("$MKSET" "$@") || fail "check_mkset $* failed"
}

# A line of stderr matching the extended regex exactly.
expect_err_line() { # REGEX WHAT
    grep -Eq "^$1\$" "$T/err" || fail "$2: no stderr line matching ^$1\$"
}

expect_no_err_line() { # REGEX WHAT
    if grep -Eq "$1" "$T/err"; then fail "$2: unexpected stderr line matching $1"; fi
}

# Evaluate a Python expression on a JSON file (bound to d).
jq_() { # FILE EXPR
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$1" "$2" || fail "JSON: cannot evaluate $2 on $1"
}

expect_jq() { # FILE EXPR EXPECTED WHAT
    got=$(jq_ "$1" "$2")
    [ "$got" = "$3" ] || fail "$4: $2 = $got, expected $3"
}

# Evaluate a Python expression on a JUnit XML file (root bound to x).
xq() { # FILE EXPR
    python3 -c 'import sys, xml.etree.ElementTree as ET; x=ET.parse(sys.argv[1]).getroot(); print(eval(sys.argv[2]))' \
        "$1" "$2" || fail "XML: cannot evaluate $2 on $1"
}

expect_xq() { # FILE EXPR EXPECTED WHAT
    got=$(xq "$1" "$2")
    [ "$got" = "$3" ] || fail "$4: $2 = $got, expected $3"
}
