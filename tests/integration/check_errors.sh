# check_errors.sh - usage errors and unreadable leak files: exit status 2
# and exactly one stderr line "snapalloc: ...".
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_errors

D=$T/d
mkset "$D" definite:small=1

bad() { # WHAT ARGS...
    what=$1
    shift
    sa check "$@"
    expect_rc 2 "$what"
    expect_one_error "$what"
}
bad "--exitcode 0" --exitcode 0 --analyze "$D"
expect_err_line "snapalloc: --exitcode: '0' is not a number between 1 and 255" "--exitcode 0 message"
bad "--exitcode 300" --exitcode 300 -- true
bad "--exitcode abc" --exitcode abc -- true
bad "--fail-on nonsense" --fail-on nonsense -- true
expect_err_line "snapalloc: --fail-on: 'nonsense' is not a comma list of definite, indirect, possible, reachable, growth" "--fail-on message"
bad "--fail-on empty item" --fail-on definite,, -- true
bad "--fail-on growth without budget" --fail-on growth -- true
bad "--show growth" --show growth -- true
bad "--max-growth -5" --max-growth -5 -- true
expect_err_line "snapalloc: --max-growth: '-5' is not a size in bytes \(K, M, G suffixes allowed\)" "--max-growth message"
bad "--max-growth 1X" --max-growth 1X -- true
bad "--warmup 0" --warmup 0 -- true
bad "-n 0" -n 0 -- true
bad "--unwind dwarf" --unwind dwarf -- true
expect_err_line "snapalloc: --unwind: 'dwarf' is not one of libunwind, fp" "--unwind message"
bad "--format xml" --format xml --report "$T/r" -- true
bad "--format without --report" --format json --analyze "$D"
bad "--top x" --top x -- true
bad "unknown option" --bogus -- true
bad "missing value" --exitcode
expect_err_line "snapalloc: --exitcode: missing value \(see 'snapalloc check --help'\)" "missing value: the long name"
bad "--report missing value" --analyze "$D" --report
expect_err_line "snapalloc: --report: missing value \(see 'snapalloc check --help'\)" "--report missing value message"
bad "-o missing value" -o
expect_err_line "snapalloc: -o: missing value \(see 'snapalloc check --help'\)" "-o missing value message"
# A device is not a suppression file (/dev/zero would be read without end).
bad "--suppressions /dev/zero" --suppressions /dev/zero --analyze "$D"
expect_err_line "snapalloc: /dev/zero: not a regular file" "--suppressions /dev/zero message"
bad "missing --" true
expect_err_line "snapalloc: check: missing '--' before the program \(snapalloc check \[OPTIONS\] -- PROGRAM\)" "missing -- message"
bad "missing program" --
expect_err_line "snapalloc: check: missing PROGRAM \(snapalloc check \[OPTIONS\] -- PROGRAM \[ARGS...\]\)" "missing program message"
bad "nothing" 
bad "--analyze with a program" --analyze "$D" -- true
bad "--analyze with -o" --analyze "$D" -o "$T/o"
bad "--analyze missing dir" --analyze "$T/nowhere"
expect_err_line "snapalloc: $T/nowhere: No such file or directory" "missing dir message"
bad "unwritable report" --analyze "$D" --report "$T/nowhere/r.json"

# A set with .done but a class file missing, corrupt, truncated, or not a
# leak file.
mkset "$T/m" definite:small=1 skip=possible
bad "missing class file" --analyze "$T/m" --report "$T/rejected.json"
grep -q "$PID.possible.snap: No such file or directory" "$T/err" || fail "missing class file message"
# A rejected analysis leaves no report file, empty or not.
[ -z "$(ls "$T" | grep rejected)" ] || fail "a rejected check left a report: $(ls "$T" | grep rejected)"
mkset "$T/c" definite:small=2
f=$T/c/$PID.definite.snap
size=$(wc -c <"$f")
head -c $((size - 7)) "$f" >"$T/trunc" && cp "$T/trunc" "$f"
bad "truncated leak file" --analyze "$T/c"
grep -q "^snapalloc: $f: truncated file" "$T/err" || fail "truncated message: $(cat "$T/err")"
printf 'garbage' >"$f"
bad "garbage leak file" --analyze "$T/c"
mkset "$T/s" definite:small=1 badseq
bad "wrong class in file" --analyze "$T/s"
expect_err_line "snapalloc: $T/s/$PID.definite.snap: not a leak check file \(trigger 5, sequence 3; expected trigger 5, sequence 1\)" "sequence message"
# A baseline is only read with --max-growth; then it must be valid.
mkset "$T/b" definite:small=0 baseline:small=1 exit:small=1
printf 'x' >"$T/b/$PID.baseline.snap"
sa check --analyze "$T/b"
expect_rc 0 "bad baseline ignored without --max-growth"
bad "bad baseline" --analyze "$T/b" --max-growth 1K
# Nothing printed on stdout.
[ ! -s "$T/out" ] || fail "stdout is not empty"

echo "PASS: check_errors"
