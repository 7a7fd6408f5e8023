# cli_symbols.sh - symbolization edge cases: a binary replaced since the
# snapshot (build-id mismatch) or deleted is reported once on stderr, its
# frames print as module+offset, and the rest of the report still prints.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_symbols

cp "$MK" "$T/mk"
"$T/mk" "$T/a.snap" >/dev/null || fail "cli_mksnap copy failed"
sa show "$T/a.snap"
expect_rc 0 "intact binary"
[ ! -s "$T/err" ] || fail "intact binary: unexpected stderr"
expect_line '[^ ]*cli_mksnap\.c:[0-9]+ alloc_big: size=1024 KiB, count=1, average=1024 KiB' "intact binary"

# Another binary under the same path: a different build-id.
cp "$PROG" "$T/mk"
sa diff "$T/a.snap" "$T/a.snap" --by traceback
expect_rc 0 "build-id mismatch"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "build-id mismatch: expected one warning for both snapshots"
grep -qx "snapalloc: warning: $T/mk: build-id mismatch (binary changed since the snapshot); its frames are shown as module+offset" "$T/err" ||
    fail "build-id mismatch: warning text"
expect_line 'mk\+0x[0-9a-f]+: size=1024 KiB \(\+0 B\), count=1 \(\+0\), average=1024 KiB' "mismatch: module+offset"
# libc's frames are still symbolized.
expect_line '  [^ ]+:[0-9]+ __libc_start_call_main \(libc\.so\.6\)' "mismatch: other modules"

# The binary is gone.
rm "$T/mk"
sa show "$T/a.snap" --json
expect_rc 0 "missing binary"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "missing binary: expected one warning"
grep -qx "snapalloc: warning: $T/mk: cannot open (No such file or directory); its frames are shown as module+offset" "$T/err" ||
    fail "missing binary: warning text"
expect_json "(d['stats'][0]['size'], d['stats'][0]['site']['function'].startswith('mk+0x'), d['stats'][0]['site']['file'], d['stats'][0]['site']['line'])" \
    "(1048576, True, '??', 0)" "missing binary JSON"
exit 0
