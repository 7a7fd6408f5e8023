#!/bin/sh
# leak_classes.sh - the leak check's classes on programs with known leaks
# (leak_prog.c), against the expected numbers and against valgrind
# memcheck --leak-check=full on the same binary (without the preload):
# definite, indirect and possible must agree in bytes and blocks.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
sa_init leak_classes
PROG=$(sa_helper leak_prog)

have_valgrind=1
command -v valgrind >/dev/null 2>&1 || { have_valgrind=0; echo "$SA_NAME: valgrind is not installed: no comparison"; }

# mode "definite" "indirect" "possible" (bytes blocks each)
check_mode() {
    sa_run_checked "$1" "$PROG" "$1"
    sa_expect_status "$1" 0
    [ ! -s "$(sa_err "$1")" ] || { sa_show "$1"; sa_fail "run '$1' wrote to stderr"; }
    sa_expect_check_class "$1" definite "$2"
    sa_expect_check_class "$1" indirect "$3"
    sa_expect_check_class "$1" possible "$4"
    # Every mode keeps 32 + 5000 bytes reachable from globals.
    set -- "$1" $(sa_check_class "$1" reachable)
    [ "$2" -ge 5032 ] && [ "$3" -ge 2 ] || sa_fail "run '$1': reachable is '$2 $3', expected at least 5032 bytes in 2 blocks"
    if [ "$have_valgrind" = 1 ]; then
        mc_valgrind "$1" "$PROG" "$1"
        mc_same_as_valgrind "$1"
    fi
}

check_mode direct "300 3" "0 0" "0 0"
check_mode list "48 1" "192 4" "0 0"
check_mode global "64 1" "0 0" "0 0"
check_mode thread "72 1" "0 0" "0 0"
check_mode interior "0 0" "0 0" "120 2"
check_mode clean "0 0" "0 0" "0 0"

# The files: headers (trigger 5 = leak, sequence = class; the exit
# snapshot's trigger 1) and the definite stack of "direct" in leak_prog's
# function direct().
sa_run_checked direct2 "$PROG" direct
n=1
for c in definite indirect possible reachable; do
    sa_expect_eq "$(sa_check_field direct2 $c trigger)" 5 "$c.snap: trigger is not 5"
    sa_expect_eq "$(sa_check_field direct2 $c sequence)" $n "$c.snap: sequence is not $n"
    n=$((n + 1))
done
sa_expect_eq "$(sa_check_field direct2 exit trigger)" 1 "exit.snap: trigger is not 1"
[ -f "$SA_TMP/direct2.d/$SA_CHECK_PID.done" ] && [ ! -s "$SA_TMP/direct2.d/$SA_CHECK_PID.done" ] || sa_fail "PID.done is not an empty file"
f=$SA_TMP/direct2.d/$SA_CHECK_PID.definite.snap.txt
sa_expect_eq "$(grep -c '^stack ' "$f")" 1 "definite.snap: expected one stack"
sed -n 2,3p "$f" | grep -q '^frame leak_prog ' || { cat "$f" >&2; sa_fail "definite.snap: the first frame is not in leak_prog"; }
ls "$SA_TMP/direct2.d" | grep -v -e '\.txt$' -e '\.err$' | sort >"$SA_TMP/files"
printf '%s\n' "$SA_CHECK_PID.definite.snap" "$SA_CHECK_PID.done" "$SA_CHECK_PID.exit.snap" "$SA_CHECK_PID.indirect.snap" \
    "$SA_CHECK_PID.possible.snap" "$SA_CHECK_PID.reachable.snap" | sort >"$SA_TMP/files.want"
sa_expect_same_file "$SA_TMP/files.want" "$SA_TMP/files" "files written"
sa_pass
