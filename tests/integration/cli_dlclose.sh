#!/bin/sh
# cli_dlclose.sh - frames in an object dlclose'd before the snapshot keep
# their module: dlclose_prog loads libdlclose_lib.so, whose plugin_make
# allocates 3000 bytes (kept in a global of the program) and 777 (leaked),
# then unloads it and exits.  `show` names plugin_make with its file:line
# and the module, marked unloaded (text and JSON); `check` reports the
# leak with a stack whose first frame is plugin_make in that module.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_dlclose
cd "$SA_TMP"
prog=$SA_BIN/dlclose_prog
lib=$SA_BIN/libdlclose_lib.so
[ -x "$prog" ] && [ -f "$lib" ] || sa_fail "dlclose_prog or libdlclose_lib.so is missing (make check builds them)"
keep=$(sa_line_of dlclose_lib.c plugin_keep)
leak=$(sa_line_of dlclose_lib.c plugin_leak)

sa_cmd run -o "$SA_TMP/o" -- "$prog" "$lib"
sa_expect_status cmd 0 "run"
sa_expect_line cmd "unloaded" "the program unloaded the library"
snap=$(ls "$SA_TMP"/o/*.snap)

sa_cmd show --by line "$snap"
sa_expect_status cmd 0 "show --by line"
sa_expect_line cmd "[^ ]*/dlclose_lib\\.c:$keep plugin_make: size=3000 B, count=1, average=3000 B" "kept block"
sa_expect_line cmd "[^ ]*/dlclose_lib\\.c:$leak plugin_make: size=777 B, count=1, average=777 B" "leaked block"

sa_cmd show --by function "$snap"
sa_expect_line cmd "plugin_make \\(libdlclose_lib\\.so, unloaded\\): size=3777 B, count=2, average=.*" \
    "--by function"
sa_cmd show --by module "$snap"
sa_expect_line cmd "libdlclose_lib\\.so \\(unloaded\\): size=3777 B, count=2, average=.*" "--by module"
# Loaded modules are not marked.
sa_expect_no_line cmd "libc\\.so\\.6 \\(unloaded\\)" "--by module: libc"
sa_cmd show --by traceback "$snap"
sa_expect_line cmd "  [^ ]*/dlclose_lib\\.c:$leak plugin_make \\(libdlclose_lib\\.so, unloaded\\)" \
    "--by traceback: the library frame"
sa_expect_line cmd "  [^ ]*/dlclose_prog\\.c:[0-9]+ main \\(dlclose_prog\\)" "--by traceback: main"

sa_cmd show --by traceback --json "$snap"
sa_expect_json "$SA_TMP/cmd.out" "[(s['size'], s['site']['line'], s['site']['module'], s['site']['module_unloaded'], s['frames'][0]['module'].endswith('/libdlclose_lib.so'), s['frames'][1]['module_unloaded']) for s in d['stats'] if s['site']['function'] == 'plugin_make']" \
    "[(3000, $keep, 'libdlclose_lib.so', True, True, False), (777, $leak, 'libdlclose_lib.so', True, True, False)]" \
    "JSON"

# The leak check writes its snapshots through the same writer.
sa_cmd check -o "$SA_TMP/c" -- "$prog" "$lib"
sa_expect_status cmd 23 "check: definitely lost"
grep -Eq "^777 bytes in 1 blocks are definitely lost at [^ ]*/dlclose_lib\\.c:$leak plugin_make\$" "$SA_TMP/cmd.err" ||
    sa_fail "check: leak line"
grep -Eq "^    #0 [^ ]*/dlclose_lib\\.c:$leak plugin_make \\(libdlclose_lib\\.so, unloaded\\)\$" "$SA_TMP/cmd.err" ||
    sa_fail "check: the stack's first frame"
if grep -q "3000 bytes" "$SA_TMP/cmd.err"; then sa_fail "check: the block the program keeps is reported"; fi
sa_pass
