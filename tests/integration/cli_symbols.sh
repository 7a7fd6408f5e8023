# cli_symbols.sh - symbolization edge cases: a binary replaced since the
# snapshot (build-id mismatch) or deleted is reported once on stderr, its
# frames print as module+offset, and the rest of the report still prints.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_symbols
MK=$(sa_helper cli_mksnap)
PROG=$(sa_helper cli_prog)

cp "$MK" "$SA_TMP/mk"
"$SA_TMP/mk" "$SA_TMP/a.snap" >/dev/null || sa_fail "cli_mksnap copy failed"
sa_cmd show "$SA_TMP/a.snap"
sa_expect_status cmd 0 "intact binary"
[ ! -s "$SA_TMP/cmd.err" ] || sa_fail "intact binary: unexpected stderr"
sa_expect_line cmd '[^ ]*cli_mksnap\.c:[0-9]+ alloc_big: size=1024 KiB, count=1, average=1024 KiB' "intact binary"

# Another binary under the same path: a different build-id.
cp "$PROG" "$SA_TMP/mk"
sa_cmd diff "$SA_TMP/a.snap" "$SA_TMP/a.snap" --by traceback
sa_expect_status cmd 0 "build-id mismatch"
[ "$(wc -l <"$SA_TMP/cmd.err")" -eq 1 ] || sa_fail "build-id mismatch: expected one warning for both snapshots"
grep -qx "snapalloc: warning: $SA_TMP/mk: build-id mismatch (binary changed since the snapshot); its frames are shown as module+offset" "$SA_TMP/cmd.err" ||
    sa_fail "build-id mismatch: warning text"
sa_expect_line cmd 'mk\+0x[0-9a-f]+: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB' "mismatch: module+offset"
# libc's frames are still symbolized.
sa_expect_line cmd '  [^ ]+:[0-9]+ __libc_start_call_main \(libc\.so\.6\)' "mismatch: other modules"

# The binary is gone.
rm "$SA_TMP/mk"
sa_cmd show "$SA_TMP/a.snap" --json
sa_expect_status cmd 0 "missing binary"
[ "$(wc -l <"$SA_TMP/cmd.err")" -eq 1 ] || sa_fail "missing binary: expected one warning"
grep -qx "snapalloc: warning: $SA_TMP/mk: cannot open (No such file or directory); its frames are shown as module+offset" "$SA_TMP/cmd.err" ||
    sa_fail "missing binary: warning text"
sa_expect_json "$SA_TMP/cmd.out" "(d['stats'][0]['size'], d['stats'][0]['site']['function'].startswith('mk+0x'), d['stats'][0]['site']['file'], d['stats'][0]['site']['line'])" \
    "(1048576, True, '??', 0)" "missing binary JSON"
sa_pass
