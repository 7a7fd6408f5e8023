# check_suppress.sh - LeakSanitizer-style suppression files: matching by
# function, source file and module path on every frame, ^ $ * anchors and
# wildcards, substring semantics, counts per suppression ("Suppressions
# used"), unused suppressions listed, JSON suppressed_by, malformed files.
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_suppress

L_lib=$(line_of check_mkset_lib.c lib)
D=$T/d
# definite: 3 x 64 (alloc_small), 2 x 32 (make_node), 1 x 128 (lib_alloc in
# check_mkset_lib.c); indirect: 1 x 16 (dup_name).
mkset "$D" definite:small=3 definite:node=2 definite:lib=1 indirect:str=1

supp() { # NAME LINES...
    f=$T/$1
    shift
    printf '%s\n' "$@" >"$f"
}

# By function (substring), and a comment and blank lines.
supp s1 "# the node pool is freed by the OS" "" "leak:make_no" "   "
sa check --analyze "$D" --suppressions "$T/s1"
expect_rc 23 "partial suppression"
expect_err_line "definitely lost: 320 bytes in 4 blocks" "function suppressed"
expect_err_line "suppressed: 64 bytes in 2 blocks" "suppressed summary"
expect_no_err_line "are definitely lost at .* make_node" "suppressed leak not listed"
expect_err_line "Suppressions used:" "table"
expect_err_line "  count      bytes template" "table header"
expect_err_line "      1         64 make_no" "table row"

# Everything suppressed: the check passes.
supp s2 "leak:alloc_small" "leak:make_node" "leak:dup_name" "leak:lib_alloc" "leak:never_called"
sa check --analyze "$D" --suppressions "$T/s2"
expect_rc 0 "all suppressed"
expect_err_line "definitely lost: 0 bytes in 0 blocks" "all suppressed summary"
expect_err_line "suppressed: 400 bytes in 7 blocks" "all suppressed total"
expect_err_line "Unused suppressions:" "unused header"
expect_err_line "  $T/s2:5: leak:never_called" "unused listed with file:line"
[ "$(grep -c '^  .*: leak:' "$T/err")" -eq 1 ] || fail "only never_called is unused"
expect_err_line "snapalloc check: passed" "all suppressed verdict"

# By source file: only lib_alloc is in check_mkset_lib.c.
supp s3 "leak:check_mkset_lib.c"
sa check --analyze "$D" --suppressions "$T/s3"
expect_err_line "definitely lost: 256 bytes in 5 blocks" "file suppressed"
expect_err_line "      1        128 check_mkset_lib.c" "file row"
# ^ anchors at the start of the full path: a bare file name does not match.
supp s4 "leak:^check_mkset_lib.c"
sa check --analyze "$D" --suppressions "$T/s4"
expect_err_line "definitely lost: 384 bytes in 6 blocks" "^ anchored file name"
expect_err_line "  $T/s4:1: leak:\^check_mkset_lib.c" "^ pattern unused"
supp s5 "leak:^/*/check_mkset_lib.c\$"
sa check --analyze "$D" --suppressions "$T/s5"
expect_err_line "definitely lost: 256 bytes in 5 blocks" "^...\$ with *"
# $ anchors at the end: "alloc_smal$" matches no function.
supp s6 'leak:alloc_smal$' 'leak:^make_node$'
sa check --analyze "$D" --suppressions "$T/s6"
expect_err_line "definitely lost: 320 bytes in 4 blocks" "\$ anchor"
expect_err_line "  $T/s6:1: leak:alloc_smal\\\$" "\$ pattern unused"
# * inside a pattern.
supp s7 'leak:alloc_*all'
sa check --analyze "$D" --suppressions "$T/s7"
expect_err_line "definitely lost: 192 bytes in 3 blocks" "* wildcard"
# By module path: every leak has a frame in the helper executable.
supp s8 'leak:/check_mkset$'
sa check --analyze "$D" --suppressions "$T/s8"
expect_rc 0 "module suppressed"
expect_err_line "suppressed: 400 bytes in 7 blocks" "module suppresses all"
expect_err_line "      4        400 /check_mkset\\\$" "module row counts call sites"
# Frames outside the call site count too: main is on every stack.
supp s9 'leak:^main$'
sa check --analyze "$D" --suppressions "$T/s9"
expect_rc 0 "outer frame suppressed"
# The first matching suppression wins; several files.
supp s10 'leak:alloc_small'
sa check --analyze "$D" --suppressions "$T/s10" --suppressions "$T/s9"
expect_err_line "      1        192 alloc_small" "first file wins"
expect_err_line "      3        208 \^main\\\$" "second file for the rest"

# JSON: suppressed_by and the counts per suppression.
sa check --analyze "$D" --suppressions "$T/s1" --report "$T/r.json"
R=$T/r.json
expect_jq "$R" "[(l['site']['function'], l['suppressed_by'], l['fails']) for l in d['leaks']]" \
    "[('alloc_small', None, True), ('lib_alloc', None, True), ('make_node', 'make_no', False), ('dup_name', None, True)]" "json suppressed_by"
expect_jq "$R" "d['suppressions']" "[{'pattern': 'make_no', 'file': '$T/s1', 'line': 3, 'leaks': 1, 'bytes': 64}]" "json suppressions"
expect_jq "$R" "d['summary']['suppressed']" "{'bytes': 64, 'blocks': 2}" "json suppressed total"
# JUnit: a suppressed leak is not a failed test.
sa check --analyze "$D" --suppressions "$T/s1" --report "$T/r.xml"
expect_xq "$T/r.xml" "x.get('tests'), x.get('failures')" "('3', '3')" "junit without the suppressed leak"

# Malformed files: exit 2, one line naming FILE:LINE.
supp bad1 "leak:ok" "foo:bar"
sa check --analyze "$D" --suppressions "$T/bad1"
expect_rc 2 "unknown type"; expect_one_error "unknown type"
expect_err_line "snapalloc: $T/bad1:2: unknown suppression type 'foo' \(only 'leak' is supported\)" "unknown type message"
supp bad2 "# x" "leak:"
sa check --analyze "$D" --suppressions "$T/bad2"
expect_rc 2 "empty pattern"; expect_one_error "empty pattern"
expect_err_line "snapalloc: $T/bad2:2: empty pattern" "empty pattern message"
supp bad3 "leak"
sa check --analyze "$D" --suppressions "$T/bad3"
expect_rc 2 "no colon"; expect_one_error "no colon"
expect_err_line "snapalloc: $T/bad3:1: expected 'leak:PATTERN', got 'leak'" "no colon message"
sa check --analyze "$D" --suppressions "$T/missing"
expect_rc 2 "missing file"; expect_one_error "missing file"
expect_err_line "snapalloc: $T/missing: No such file or directory" "missing file message"
# Checked before the program runs: it never starts.
sa check --suppressions "$T/bad1" -- sh -c "touch '$T/ran'"
expect_rc 2 "bad suppressions with a program"
[ ! -e "$T/ran" ] || fail "the program ran despite a bad suppression file"

echo "PASS: check_suppress"
