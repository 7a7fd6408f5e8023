# cli_options.sh - help, version, and every kind of bad command line:
# exit status 2 with exactly one line "snapalloc: ..." on stderr and
# nothing run.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_options

"$MK" "$T/a.snap" small=1 >/dev/null || fail "cli_mksnap failed"

sa --help
expect_rc 0 "--help"; grep -q '^Usage: snapalloc COMMAND' "$T/out" || fail "--help text"
sa --version
expect_rc 0 "--version"; grep -Eq '^snapalloc [0-9]+\.[0-9]+' "$T/out" || fail "--version text"
for c in run show diff; do
    sa $c --help
    expect_rc 0 "$c --help"
    grep -q "^Usage: snapalloc $c" "$T/out" || fail "$c --help text"
done

bad() { # WHAT ARGS...
    what=$1; shift
    sa "$@"
    expect_rc 2 "$what"
    expect_one_error "$what"
}
bad "no command"
bad "unknown command" frobnicate
bad "unknown global option" --frob
bad "show unknown option" show "$T/a.snap" --frob
bad "show --top abc" show "$T/a.snap" --top abc
bad "show --top -1" show "$T/a.snap" --top -1
bad "show --top empty" show "$T/a.snap" --top ''
bad "show --by nonsense" show "$T/a.snap" --by nonsense
bad "show --by missing value" show "$T/a.snap" --by
bad "show --format xml" show "$T/a.snap" --format xml
bad "show --cumulative --by traceback" show "$T/a.snap" --cumulative --by traceback
bad "show no file" show
bad "show two files" show "$T/a.snap" "$T/a.snap"
bad "show --min-diff" show "$T/a.snap" --min-diff 10
bad "diff one file" diff "$T/a.snap"
bad "diff three files" diff "$T/a.snap" "$T/a.snap" "$T/a.snap"
bad "diff --min-diff abc" diff "$T/a.snap" "$T/a.snap" --min-diff abc
bad "diff --min-diff 5X" diff "$T/a.snap" "$T/a.snap" --min-diff 5X
grep -q -- '--min-diff' "$T/err" || fail "--min-diff error names the option"

# run: options are checked before anything is run.
marker=$T/ran
bad "run unknown option" run --frob -- touch "$marker"
bad "run -n 0" run -n 0 -- touch "$marker"
bad "run -n 999" run -n 999 -- touch "$marker"
bad "run -n abc" run -n abc -- touch "$marker"
bad "run --interval -1" run --interval -1 -- touch "$marker"
bad "run --interval 0" run --interval 0 -- touch "$marker"
bad "run --interval x" run --interval x -- touch "$marker"
# The library's own range (SNAPALLOC_INTERVAL): it ignored 0.0001 with a
# warning while the command took it.
bad "run --interval 0.0001" run --interval 0.0001 -- touch "$marker"
bad "run --interval 1000000001" run --interval 1000000001 -- touch "$marker"
bad "check --warmup 0.0001" check --warmup 0.0001 -- touch "$marker"
bad "run --signal TERM" run --signal TERM -- touch "$marker"
bad "run --peak garbage" run --peak 12Q -- touch "$marker"
bad "run --peak 0" run --peak 0 -- touch "$marker"
bad "run --signal bogus" run --signal SIGBOGUS -- touch "$marker"
bad "run --signal KILL" run --signal KILL -- touch "$marker"
bad "run --signal 9" run --signal 9 -- touch "$marker"
bad "run --unwind magic" run --unwind magic -- touch "$marker"
bad "run -o missing value" run -o
bad "run missing --" run touch "$marker"
bad "run missing program" run --
bad "run nothing" run
[ ! -e "$marker" ] || fail "a run with bad options ran the program"

# What the command accepts, the library accepts: the value reaches the
# program's environment and the library takes it without a warning.
sa run -o "$T/o" --interval 86401 --peak 64KiB --signal usr2 -- \
    sh -c 'env | grep -E "^SNAPALLOC_(INTERVAL|PEAK|SIGNAL)=" | sort'
expect_rc 0 "run --interval 86401 --peak 64KiB --signal usr2"
grep -qx 'SNAPALLOC_INTERVAL=86401' "$T/out" || fail "--interval 86401 refused or changed"
grep -qx 'SNAPALLOC_PEAK=65536' "$T/out" || fail "--peak 64KiB"
grep -qx "SNAPALLOC_SIGNAL=12" "$T/out" || fail "--signal usr2"
grep -q '^snapalloc: SNAPALLOC_' "$T/err" && fail "the library warned about what the command gave it: $(cat "$T/err")"
exit 0
