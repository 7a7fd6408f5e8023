# cli_options.sh - help, version, and every kind of bad command line:
# exit status 2 with exactly one line "snapalloc: ..." on stderr and
# nothing run.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_options
MK=$(sa_helper cli_mksnap)

"$MK" "$SA_TMP/a.snap" small=1 >/dev/null || sa_fail "cli_mksnap failed"

sa_cmd --help
sa_expect_status cmd 0 "--help"; grep -q '^Usage: snapalloc COMMAND' "$SA_TMP/cmd.out" || sa_fail "--help text"
sa_cmd --version
sa_expect_status cmd 0 "--version"; grep -Eq '^snapalloc [0-9]+\.[0-9]+' "$SA_TMP/cmd.out" || sa_fail "--version text"
for c in run show diff; do
    sa_cmd $c --help
    sa_expect_status cmd 0 "$c --help"
    grep -q "^Usage: snapalloc $c" "$SA_TMP/cmd.out" || sa_fail "$c --help text"
done

bad() { # WHAT ARGS...
    what=$1; shift
    sa_cmd "$@"
    sa_expect_status cmd 2 "$what"
    sa_expect_one_error cmd "$what"
}
bad "no command"
bad "unknown command" frobnicate
bad "unknown global option" --frob
bad "show unknown option" show "$SA_TMP/a.snap" --frob
bad "show --top abc" show "$SA_TMP/a.snap" --top abc
bad "show --top -1" show "$SA_TMP/a.snap" --top -1
bad "show --top empty" show "$SA_TMP/a.snap" --top ''
bad "show --by nonsense" show "$SA_TMP/a.snap" --by nonsense
bad "show --by missing value" show "$SA_TMP/a.snap" --by
bad "show --format xml" show "$SA_TMP/a.snap" --format xml
bad "show --cumulative --by traceback" show "$SA_TMP/a.snap" --cumulative --by traceback
bad "show no file" show
bad "show two files" show "$SA_TMP/a.snap" "$SA_TMP/a.snap"
bad "show --min-diff" show "$SA_TMP/a.snap" --min-diff 10
bad "diff one file" diff "$SA_TMP/a.snap"
bad "diff three files" diff "$SA_TMP/a.snap" "$SA_TMP/a.snap" "$SA_TMP/a.snap"
bad "diff --min-diff abc" diff "$SA_TMP/a.snap" "$SA_TMP/a.snap" --min-diff abc
bad "diff --min-diff 5X" diff "$SA_TMP/a.snap" "$SA_TMP/a.snap" --min-diff 5X
grep -q -- '--min-diff' "$SA_TMP/cmd.err" || sa_fail "--min-diff error names the option"

# run: options are checked before anything is run.
marker=$SA_TMP/ran
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
bad "run --peak -1" run --peak -1 -- touch "$marker"
bad "run --signal bogus" run --signal SIGBOGUS -- touch "$marker"
bad "run --signal KILL" run --signal KILL -- touch "$marker"
bad "run --signal 9" run --signal 9 -- touch "$marker"
bad "run --unwind magic" run --unwind magic -- touch "$marker"
bad "run -o missing value" run -o
bad "run missing --" run touch "$marker"
bad "run missing program" run --
bad "run nothing" run
[ ! -e "$marker" ] || sa_fail "a run with bad options ran the program"

# What the command accepts, the library accepts: the value reaches the
# program's environment and the library takes it without a warning.
sa_cmd run -o "$SA_TMP/o" --interval 86401 --peak 64KiB --signal usr2 -- \
    sh -c 'env | grep -E "^SNAPALLOC_(INTERVAL|PEAK|SIGNAL)=" | sort'
sa_expect_status cmd 0 "run --interval 86401 --peak 64KiB --signal usr2"
grep -qx 'SNAPALLOC_INTERVAL=86401' "$SA_TMP/cmd.out" || sa_fail "--interval 86401 refused or changed"
grep -qx 'SNAPALLOC_PEAK=65536' "$SA_TMP/cmd.out" || sa_fail "--peak 64KiB"
grep -qx "SNAPALLOC_SIGNAL=12" "$SA_TMP/cmd.out" || sa_fail "--signal usr2"
grep -q '^snapalloc: SNAPALLOC_' "$SA_TMP/cmd.err" && sa_fail "the library warned about what the command gave it: $(cat "$SA_TMP/cmd.err")"
sa_pass
