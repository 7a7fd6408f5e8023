# check_errors.sh - usage errors and unreadable leak files: exit status 2
# and exactly one stderr line "snapalloc: ...".
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_errors

D=$SA_TMP/d
sa_mkset "$D" definite:small=1

bad() { # WHAT ARGS...
    what=$1
    shift
    sa_cmd check "$@"
    sa_expect_status cmd 2 "$what"
    sa_expect_one_error cmd "$what"
}
bad "--exitcode 0" --exitcode 0 --analyze "$D"
sa_expect_err_line cmd "snapalloc: --exitcode: '0' is not a number between 1 and 255" "--exitcode 0 message"
bad "--exitcode 300" --exitcode 300 -- true
bad "--exitcode abc" --exitcode abc -- true
bad "--fail-on nonsense" --fail-on nonsense -- true
sa_expect_err_line cmd "snapalloc: --fail-on: 'nonsense' is not a comma list of definite, indirect, possible, reachable, growth" "--fail-on message"
bad "--fail-on empty item" --fail-on definite,, -- true
bad "--fail-on growth without budget" --fail-on growth -- true
bad "--show growth" --show growth -- true
bad "--max-growth -5" --max-growth -5 -- true
sa_expect_err_line cmd "snapalloc: --max-growth: '-5' is not a size in bytes \(K, M, G suffixes allowed\)" "--max-growth message"
bad "--max-growth 1X" --max-growth 1X -- true
bad "--warmup 0" --warmup 0 -- true
bad "-n 0" -n 0 -- true
bad "--unwind dwarf" --unwind dwarf -- true
sa_expect_err_line cmd "snapalloc: --unwind: 'dwarf' is not one of libunwind, fp" "--unwind message"
bad "--format xml" --format xml --report "$SA_TMP/r" -- true
bad "--format without --report" --format json --analyze "$D"
bad "--top x" --top x -- true
bad "unknown option" --bogus -- true
bad "missing value" --exitcode
sa_expect_err_line cmd "snapalloc: --exitcode: missing value \(see 'snapalloc check --help'\)" "missing value: the long name"
bad "--report missing value" --analyze "$D" --report
sa_expect_err_line cmd "snapalloc: --report: missing value \(see 'snapalloc check --help'\)" "--report missing value message"
bad "-o missing value" -o
sa_expect_err_line cmd "snapalloc: -o: missing value \(see 'snapalloc check --help'\)" "-o missing value message"
# A device is not a suppression file (/dev/zero would be read without end).
bad "--suppressions /dev/zero" --suppressions /dev/zero --analyze "$D"
sa_expect_err_line cmd "snapalloc: /dev/zero: not a regular file" "--suppressions /dev/zero message"
bad "missing --" true
sa_expect_err_line cmd "snapalloc: check: missing '--' before the program \(snapalloc check \[OPTIONS\] -- PROGRAM\)" "missing -- message"
bad "missing program" --
sa_expect_err_line cmd "snapalloc: check: missing PROGRAM \(snapalloc check \[OPTIONS\] -- PROGRAM \[ARGS...\]\)" "missing program message"
bad "nothing" 
bad "--analyze with a program" --analyze "$D" -- true
bad "--analyze with -o" --analyze "$D" -o "$SA_TMP/o"
bad "--analyze missing dir" --analyze "$SA_TMP/nowhere"
sa_expect_err_line cmd "snapalloc: $SA_TMP/nowhere: No such file or directory" "missing dir message"
bad "unwritable report" --analyze "$D" --report "$SA_TMP/nowhere/r.json"

# A set with .done but a class file missing, corrupt, truncated, or not a
# leak file.
sa_mkset "$SA_TMP/m" definite:small=1 skip=possible
bad "missing class file" --analyze "$SA_TMP/m" --report "$SA_TMP/rejected.json"
grep -q "$SA_PID.possible.snap: No such file or directory" "$SA_TMP/cmd.err" || sa_fail "missing class file message"
# A rejected analysis leaves no report file, empty or not.
[ -z "$(ls "$SA_TMP" | grep rejected)" ] || sa_fail "a rejected check left a report: $(ls "$SA_TMP" | grep rejected)"
sa_mkset "$SA_TMP/c" definite:small=2
f=$SA_TMP/c/$SA_PID.definite.snap
size=$(wc -c <"$f")
head -c $((size - 7)) "$f" >"$SA_TMP/trunc" && cp "$SA_TMP/trunc" "$f"
bad "truncated leak file" --analyze "$SA_TMP/c"
grep -q "^snapalloc: $f: truncated file" "$SA_TMP/cmd.err" || sa_fail "truncated message: $(cat "$SA_TMP/cmd.err")"
printf 'garbage' >"$f"
bad "garbage leak file" --analyze "$SA_TMP/c"
sa_mkset "$SA_TMP/s" definite:small=1 badseq
bad "wrong class in file" --analyze "$SA_TMP/s"
sa_expect_err_line cmd "snapalloc: $SA_TMP/s/$SA_PID.definite.snap: not a leak check file \(trigger 5, sequence 3; expected trigger 5, sequence 1\)" "sequence message"
# A baseline is only read with --max-growth; then it must be valid.
sa_mkset "$SA_TMP/b" definite:small=0 baseline:small=1 exit:small=1
printf 'x' >"$SA_TMP/b/$SA_PID.baseline.snap"
sa_cmd check --analyze "$SA_TMP/b"
sa_expect_status cmd 0 "bad baseline ignored without --max-growth"
bad "bad baseline" --analyze "$SA_TMP/b" --max-growth 1K
# Nothing printed on stdout.
[ ! -s "$SA_TMP/cmd.out" ] || sa_fail "stdout is not empty"

sa_pass
