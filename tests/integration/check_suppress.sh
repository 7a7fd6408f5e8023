# check_suppress.sh - LeakSanitizer-style suppression files: matching by
# function, source file and module path on every frame, ^ $ * anchors and
# wildcards, substring semantics, counts per suppression ("Suppressions
# used"), unused suppressions listed, JSON suppressed_by, malformed files.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_suppress

L_lib=$(sa_line_of check_mkset_lib.c lib)
D=$SA_TMP/d
# definite: 3 x 64 (alloc_small), 2 x 32 (make_node), 1 x 128 (lib_alloc in
# check_mkset_lib.c); indirect: 1 x 16 (dup_name).
sa_mkset "$D" definite:small=3 definite:node=2 definite:lib=1 indirect:str=1

supp() { # NAME LINES...
    f=$SA_TMP/$1
    shift
    printf '%s\n' "$@" >"$f"
}

# By function (substring), and a comment and blank lines.
supp s1 "# the node pool is freed by the OS" "" "leak:make_no" "   "
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s1"
sa_expect_status cmd 23 "partial suppression"
sa_expect_err_line cmd "definitely lost: 320 bytes in 4 blocks" "function suppressed"
sa_expect_err_line cmd "suppressed: 64 bytes in 2 blocks" "suppressed summary"
sa_expect_no_err_line cmd "are definitely lost at .* make_node" "suppressed leak not listed"
sa_expect_err_line cmd "Suppressions used:" "table"
sa_expect_err_line cmd "  count      bytes template" "table header"
sa_expect_err_line cmd "      1         64 make_no" "table row"

# Everything suppressed: the check passes.
supp s2 "leak:alloc_small" "leak:make_node" "leak:dup_name" "leak:lib_alloc" "leak:never_called"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s2"
sa_expect_status cmd 0 "all suppressed"
sa_expect_err_line cmd "definitely lost: 0 bytes in 0 blocks" "all suppressed summary"
sa_expect_err_line cmd "suppressed: 400 bytes in 7 blocks" "all suppressed total"
sa_expect_err_line cmd "Unused suppressions:" "unused header"
sa_expect_err_line cmd "  $SA_TMP/s2:5: leak:never_called" "unused listed with file:line"
[ "$(grep -c '^  .*: leak:' "$SA_TMP/cmd.err")" -eq 1 ] || sa_fail "only never_called is unused"
sa_expect_err_line cmd "snapalloc check: passed" "all suppressed verdict"

# By source file: only lib_alloc is in check_mkset_lib.c.
supp s3 "leak:check_mkset_lib.c"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s3"
sa_expect_err_line cmd "definitely lost: 256 bytes in 5 blocks" "file suppressed"
sa_expect_err_line cmd "      1        128 check_mkset_lib.c" "file row"
# ^ anchors at the start of the full path: a bare file name does not match.
supp s4 "leak:^check_mkset_lib.c"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s4"
sa_expect_err_line cmd "definitely lost: 384 bytes in 6 blocks" "^ anchored file name"
sa_expect_err_line cmd "  $SA_TMP/s4:1: leak:\^check_mkset_lib.c" "^ pattern unused"
supp s5 "leak:^/*/check_mkset_lib.c\$"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s5"
sa_expect_err_line cmd "definitely lost: 256 bytes in 5 blocks" "^...\$ with *"
# $ anchors at the end: "alloc_smal$" matches no function.
supp s6 'leak:alloc_smal$' 'leak:^make_node$'
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s6"
sa_expect_err_line cmd "definitely lost: 320 bytes in 4 blocks" "\$ anchor"
sa_expect_err_line cmd "  $SA_TMP/s6:1: leak:alloc_smal\\\$" "\$ pattern unused"
# * inside a pattern.
supp s7 'leak:alloc_*all'
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s7"
sa_expect_err_line cmd "definitely lost: 192 bytes in 3 blocks" "* wildcard"
# By module path: every leak has a frame in the helper executable.
supp s8 'leak:/check_mkset$'
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s8"
sa_expect_status cmd 0 "module suppressed"
sa_expect_err_line cmd "suppressed: 400 bytes in 7 blocks" "module suppresses all"
sa_expect_err_line cmd "      4        400 /check_mkset\\\$" "module row counts call sites"
# Frames outside the call site count too: main is on every stack.
supp s9 'leak:^main$'
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s9"
sa_expect_status cmd 0 "outer frame suppressed"
# The first matching suppression wins; several files.
supp s10 'leak:alloc_small'
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s10" --suppressions "$SA_TMP/s9"
sa_expect_err_line cmd "      1        192 alloc_small" "first file wins"
sa_expect_err_line cmd "      3        208 \^main\\\$" "second file for the rest"

# JSON: suppressed_by and the counts per suppression.
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s1" --report "$SA_TMP/r.json"
R=$SA_TMP/r.json
sa_expect_json "$R" "[(l['site']['function'], l['suppressed_by'], l['fails']) for l in d['leaks']]" \
    "[('alloc_small', None, True), ('lib_alloc', None, True), ('make_node', 'make_no', False), ('dup_name', None, True)]" "json suppressed_by"
sa_expect_json "$R" "d['suppressions']" "[{'pattern': 'make_no', 'file': '$SA_TMP/s1', 'line': 3, 'leaks': 1, 'bytes': 64}]" "json suppressions"
sa_expect_json "$R" "d['summary']['suppressed']" "{'bytes': 64, 'blocks': 2}" "json suppressed total"
# JUnit: a suppressed leak is not a failed test.
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/s1" --report "$SA_TMP/r.xml"
sa_expect_xml "$SA_TMP/r.xml" "x.get('tests'), x.get('failures')" "('3', '3')" "junit without the suppressed leak"

# Malformed files: exit 2, one line naming FILE:LINE.
supp bad1 "leak:ok" "foo:bar"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/bad1"
sa_expect_status cmd 2 "unknown type"; sa_expect_one_error cmd "unknown type"
sa_expect_err_line cmd "snapalloc: $SA_TMP/bad1:2: unknown suppression type 'foo' \(only 'leak' is supported\)" "unknown type message"
supp bad2 "# x" "leak:"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/bad2"
sa_expect_status cmd 2 "empty pattern"; sa_expect_one_error cmd "empty pattern"
sa_expect_err_line cmd "snapalloc: $SA_TMP/bad2:2: empty pattern" "empty pattern message"
supp bad3 "leak"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/bad3"
sa_expect_status cmd 2 "no colon"; sa_expect_one_error cmd "no colon"
sa_expect_err_line cmd "snapalloc: $SA_TMP/bad3:1: expected 'leak:PATTERN', got 'leak'" "no colon message"
sa_cmd check --analyze "$D" --suppressions "$SA_TMP/missing"
sa_expect_status cmd 2 "missing file"; sa_expect_one_error cmd "missing file"
sa_expect_err_line cmd "snapalloc: $SA_TMP/missing: No such file or directory" "missing file message"
# Checked before the program runs: it never starts.
sa_cmd check --suppressions "$SA_TMP/bad1" -- sh -c "touch '$SA_TMP/ran'"
sa_expect_status cmd 2 "bad suppressions with a program"
[ ! -e "$SA_TMP/ran" ] || sa_fail "the program ran despite a bad suppression file"

sa_pass
