#!/bin/sh
# cli_dlclose.sh - frames in an object dlclose'd before the snapshot keep
# their module: dlclose_prog loads libdlclose_lib.so, whose plugin_make
# allocates 3000 bytes (kept in a global of the program) and 777 (leaked),
# then unloads it and exits.  `show` names plugin_make with its file:line
# and the module, marked unloaded (text and JSON); `check` reports the
# leak with a stack whose first frame is plugin_make in that module.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_dlclose
: "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"
cd "$T"
prog=$BIN/dlclose_prog
lib=$BIN/libdlclose_lib.so
[ -x "$prog" ] && [ -f "$lib" ] || fail "dlclose_prog or libdlclose_lib.so is missing (make check builds them)"
keep=$(line_of dlclose_lib.c plugin_keep)
leak=$(line_of dlclose_lib.c plugin_leak)

sa run -o "$T/o" -- "$prog" "$lib"
expect_rc 0 "run"
expect_line "unloaded" "the program unloaded the library"
snap=$(ls "$T"/o/*.snap)

sa show --by line "$snap"
expect_rc 0 "show --by line"
expect_line "[^ ]*/dlclose_lib\\.c:$keep plugin_make: size=3000 B, count=1, average=3000 B" "kept block"
expect_line "[^ ]*/dlclose_lib\\.c:$leak plugin_make: size=777 B, count=1, average=777 B" "leaked block"

sa show --by function "$snap"
expect_line "plugin_make \\(libdlclose_lib\\.so, unloaded\\): size=3777 B, count=2, average=.*" \
    "--by function"
sa show --by module "$snap"
expect_line "libdlclose_lib\\.so \\(unloaded\\): size=3777 B, count=2, average=.*" "--by module"
# Loaded modules are not marked.
expect_no_line "libc\\.so\\.6 \\(unloaded\\)" "--by module: libc"
sa show --by traceback "$snap"
expect_line "  [^ ]*/dlclose_lib\\.c:$leak plugin_make \\(libdlclose_lib\\.so, unloaded\\)" \
    "--by traceback: the library frame"
expect_line "  [^ ]*/dlclose_prog\\.c:[0-9]+ main \\(dlclose_prog\\)" "--by traceback: main"

sa show --by traceback --json "$snap"
expect_json "[(s['size'], s['site']['line'], s['site']['module'], s['site']['module_unloaded'], s['frames'][0]['module'].endswith('/libdlclose_lib.so'), s['frames'][1]['module_unloaded']) for s in d['stats'] if s['site']['function'] == 'plugin_make']" \
    "[(3000, $keep, 'libdlclose_lib.so', True, True, False), (777, $leak, 'libdlclose_lib.so', True, True, False)]" \
    "JSON"

# The leak check writes its snapshots through the same writer.
sa check -o "$T/c" -- "$prog" "$lib"
expect_rc 23 "check: definitely lost"
grep -Eq "^777 bytes in 1 blocks are definitely lost at [^ ]*/dlclose_lib\\.c:$leak plugin_make\$" "$T/err" ||
    fail "check: leak line"
grep -Eq "^    #0 [^ ]*/dlclose_lib\\.c:$leak plugin_make \\(libdlclose_lib\\.so, unloaded\\)\$" "$T/err" ||
    fail "check: the stack's first frame"
if grep -q "3000 bytes" "$T/err"; then fail "check: the block the program keeps is reported"; fi
echo "PASS: cli_dlclose"
