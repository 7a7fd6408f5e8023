# check_analyze.sh - `snapalloc check --analyze DIR` on leak sets with known
# sites, sizes and counts (check_mkset): exit statuses, the report's leak
# and summary lines, kinds shown and failing, --top, several processes, a
# process that was not checked, blocks from before tracing, JSON, JUnit.
set -eu
. "$top_srcdir/tests/integration/check_lib.sh"
check_init check_analyze

L_small=$(line_of $S small); L_node=$(line_of $S node); L_big=$(line_of $S big)
L_str=$(line_of $S str); L_wrapped=$(line_of $S wrapped); L_x=$(line_of $S xmalloc)
L_lib=$(line_of check_mkset_lib.c lib)

# A clean process: passes, exit 0.
mkset "$T/clean" reachable:lib=1
sa check --analyze "$T/clean"
expect_rc 0 "clean"
expect_err_line "definitely lost: 0 bytes in 0 blocks" "clean summary"
expect_err_line "indirectly lost: 0 bytes in 0 blocks" "clean summary"
expect_err_line "possibly lost: 0 bytes in 0 blocks" "clean summary"
expect_err_line "suppressed: 0 bytes in 0 blocks" "clean summary"
expect_err_line "snapalloc check: passed" "clean verdict"
expect_no_err_line "still reachable" "reachable not shown by default"
[ ! -s "$T/out" ] || fail "clean: stdout is not empty"

# The main set: 1 MiB + 5 x 64 (two stacks) + 256 (xmalloc) + 2 x 100 before
# tracing definite; 4 x 32 indirect; 2 x 16 possible; 1 x 128 reachable.
D=$T/d
mkset "$D" definite:big=1 definite:small=3 definite:other=2 definite:wrap=1 definite:pre=2 \
    indirect:node=4 possible:str=2 reachable:lib=1
PID1=$PID
sa check --analyze "$D"
expect_rc 23 "leaks"
expect_err_line "definitely lost: 1,049,352 bytes in 9 blocks" "definite summary"
expect_err_line "indirectly lost: 128 bytes in 4 blocks" "indirect summary"
expect_err_line "possibly lost: 32 bytes in 2 blocks" "possible summary"
expect_err_line "suppressed: 0 bytes in 0 blocks" "suppressed summary"
expect_err_line "snapalloc check: FAILED: definitely lost, indirectly lost \(exit status 23\)" "verdict"
expect_err_line "snapalloc check: pid $PID: .*check_mkset .*" "process header"
expect_err_line "1,048,576 bytes in 1 blocks are definitely lost at $F:$L_big alloc_big" "big"
expect_err_line "320 bytes in 5 blocks are definitely lost at $F:$L_small alloc_small \(2 stacks, the largest shown\)" "small merged"
expect_err_line "256 bytes in 1 blocks are definitely lost at $F:$L_x xmalloc" "xmalloc"
expect_err_line "200 bytes in 2 blocks are definitely lost at <allocated before tracing started>" "pre"
expect_err_line "    <allocated before tracing started>" "pre frames"
expect_err_line "128 bytes in 4 blocks are indirectly lost at $F:$L_node make_node" "node"
expect_err_line "32 bytes in 2 blocks are possibly lost at $F:$L_str dup_name" "str"
# The full stack, innermost first, from the call site: malloc is folded.
expect_err_line "    #0 $F:$L_big alloc_big \(check_mkset\)" "stack frame 0"
expect_err_line "    #1 $F:[0-9]+ main \(check_mkset\)" "stack frame 1"
expect_no_err_line " (malloc|strdup|__strdup) " "allocation functions are folded"
# Largest first within a kind: big, small, xmalloc, pre.
order=$(grep -E 'are definitely lost at' "$T/err" | sed 's/ bytes.*//' | tr '\n' ' ')
[ "$order" = "1,048,576 320 256 200 " ] || fail "order of definite leaks: $order"

# --wrapper moves xmalloc's leak to its caller.
sa check --analyze "$D" --wrapper xmalloc
expect_err_line "256 bytes in 1 blocks are definitely lost at $F:$L_wrapped alloc_wrapped" "--wrapper"

# --exitcode.
sa check --analyze "$D" --exitcode 42
expect_rc 42 "--exitcode 42"
expect_err_line "snapalloc check: FAILED: .* \(exit status 42\)" "--exitcode verdict"

# --fail-on possible: definite leaks are reported but do not fail.
mkset "$T/p" possible:str=1
sa check --analyze "$T/p"
expect_rc 0 "possible only, default fail-on"
expect_err_line "possibly lost: 16 bytes in 1 blocks" "possible reported"
sa check --analyze "$T/p" --fail-on possible
expect_rc 23 "--fail-on possible"
sa check --analyze "$T/p" --fail-on definite,indirect,possible --exitcode 9
expect_rc 9 "--fail-on list"
sa check --analyze "$D" --fail-on possible
expect_rc 23 "--fail-on possible with possible leaks"
expect_err_line "snapalloc check: FAILED: possibly lost \(exit status 23\)" "only possible fails"

# --show: reachable shown on request; --fail-on kinds are always shown.
sa check --analyze "$D" --show definite
expect_no_err_line "still reachable" "--show definite hides reachable"
expect_no_err_line "possibly lost" "--show definite hides possible"
expect_err_line "indirectly lost: 128 bytes in 4 blocks" "fail kinds are shown"
sa check --analyze "$D" --show reachable
expect_err_line "still reachable: 128 bytes in 1 blocks" "--show reachable summary"
expect_err_line "128 bytes in 1 blocks are still reachable at [^ ]*check_mkset_lib\.c:$L_lib lib_alloc" "--show reachable site"
expect_rc 23 "--show does not change failing"
sa check --analyze "$T/clean" --fail-on reachable
expect_rc 23 "--fail-on reachable"

# --top 1: one call site per kind, the rest summed.
sa check --analyze "$D" --top 1
expect_err_line "1,048,576 bytes in 1 blocks are definitely lost at $F:$L_big alloc_big" "--top 1 keeps the largest"
expect_no_err_line "are definitely lost at $F:$L_small" "--top 1 drops the others"
expect_err_line "\.\.\. 3 more call sites: 776 bytes in 8 blocks definitely lost" "--top 1 rest"
expect_err_line "definitely lost: 1,049,352 bytes in 9 blocks" "--top keeps the summary whole"

# A second process in the same directory, and one that was not checked.
mkset "$D" definite:node=1
PID2=$PID
mkset "$D" definite:big=3 nodone
PID3=$PID
sa check --analyze "$D"
expect_rc 23 "two processes"
expect_err_line "definitely lost: 1,049,384 bytes in 10 blocks" "summary over processes"
expect_err_line "snapalloc check: pid $PID2: .*" "second process"
expect_err_line "snapalloc: pid $PID3: not checked \(it ended without its exit check: killed by a signal, or _exit\)" "not checked"
[ "$(grep -c "pid $PID3" "$T/err")" -eq 1 ] || fail "not checked: one line"
# A process that was not checked does not fail the check by itself, but a
# check where no process finished cannot pass: 24, one verdict line.
mkset "$T/nc" definite:big=1 nodone
sa check --analyze "$T/nc"
expect_rc 24 "only an unchecked process"
expect_err_line "snapalloc: pid $PID: not checked .*" "unchecked alone"
expect_err_line "snapalloc check: NOT CHECKED: no process in $T/nc finished its leak check \(killed by a signal, or _exit\) \(exit status 24\)" "unchecked alone: verdict"

# JSON.
sa check --analyze "$D" --report "$T/r.json" --format json
expect_rc 23 "json"
R=$T/r.json
expect_jq "$R" "d['passed'], d['exitcode'], d['status'], d['program'], d['exit_status']" \
    "(False, 23, 23, None, None)" "json header"
expect_jq "$R" "d['summary']['definite']" "{'bytes': 1049384, 'blocks': 10}" "json definite"
expect_jq "$R" "d['summary']['indirect'], d['summary']['possible'], d['summary']['suppressed']" \
    "({'bytes': 128, 'blocks': 4}, {'bytes': 32, 'blocks': 2}, {'bytes': 0, 'blocks': 0})" "json summary"
expect_jq "$R" "'reachable' in d['summary']" "False" "json reachable not shown"
expect_jq "$R" "d['fail_on'], d['show'], d['failed']" \
    "(['definite', 'indirect'], ['definite', 'indirect', 'possible'], ['definite', 'indirect'])" "json kinds"
expect_jq "$R" "len(d['leaks'])" "7" "json leaks"
expect_jq "$R" "[(l['kind'], l['bytes'], l['blocks'], l['stacks']) for l in d['leaks'] if l['pid'] == $PID1]" \
    "[('definite', 1048576, 1, 1), ('definite', 320, 5, 2), ('definite', 256, 1, 1), ('definite', 200, 2, 1), ('indirect', 128, 4, 1), ('possible', 32, 2, 1)]" "json leaks of the first process"
expect_jq "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['site']" \
    "{'function': 'alloc_big', 'file': '$(cd "$SRC" && pwd)/check_mkset.c', 'line': $L_big, 'module': 'check_mkset'}" "json site"
expect_jq "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['frames'][1]['function']" "main" "json frames"
expect_jq "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['frames'][0]['module'].endswith('/check_mkset')" "True" "json frame module path"
expect_jq "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['suppressed_by']" "None" "json suppressed_by"
expect_jq "$R" "[(l['bytes'], l['blocks'], l['stacks']) for l in d['leaks'] if l['site'] and l['site']['function'] == 'alloc_small']" \
    "[(320, 5, 2)]" "json merged stacks"
expect_jq "$R" "[(l['bytes'], l['site'], l['frames']) for l in d['leaks'] if l['site'] is None]" \
    "[(200, None, [])]" "json pre-tracing"
expect_jq "$R" "[(l['kind'], l['fails']) for l in d['leaks'] if l['kind'] == 'possible']" \
    "[('possible', False)]" "json possible does not fail"
expect_jq "$R" "[(p['pid'], p['checked']) for p in d['processes']] == sorted([($PID1, True), ($PID2, True), ($PID3, False)])" "True" "json processes, by pid"
expect_jq "$R" "[p['exe'].endswith('/check_mkset') for p in d['processes'] if p['checked']]" "[True, True]" "json exe"
expect_jq "$R" "len(d['processes']), d['growth'], d['suppressions']" "(3, None, [])" "json processes/growth"
# --report FILE.xml without --format writes JUnit; otherwise JSON.
sa check --analyze "$T/clean" --report "$T/clean.json"
expect_jq "$T/clean.json" "d['passed'], d['status'], d['leaks']" "(True, 0, [])" "json clean"

# JUnit: one failing testcase per call site of a failing kind.
sa check --analyze "$D" --report "$T/r.xml"
expect_rc 23 "junit"
X=$T/r.xml
expect_xq "$X" "x.tag, x.get('tests'), x.get('failures')" "('testsuites', '6', '6')" "junit root"
expect_xq "$X" "[(s.get('name'), s.get('tests'), s.get('failures')) for s in x]" \
    "[('snapalloc check', '6', '6')]" "junit suite"
expect_xq "$X" "sorted(c.get('classname') for c in x.iter('testcase'))" \
    "['snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.indirect']" "junit classnames"
xq "$X" "'\n'.join(c.get('name') for c in x.iter('testcase'))" >"$T/names"
grep -Eqx "$F:$L_big alloc_big" "$T/names" || fail "junit: no testcase named file:line alloc_big"
grep -Eqx "$F:$L_node make_node" "$T/names" || fail "junit: no testcase for make_node"
grep -qx "<allocated before tracing started>" "$T/names" || fail "junit: pre-tracing testcase"
expect_xq "$X" "[c.find('failure').get('message') for c in x.iter('testcase') if 'alloc_big' in c.get('name')]" \
    "['definitely lost: 1,048,576 bytes in 1 blocks']" "junit failure message"
expect_xq "$X" "[c.find('failure').get('type') for c in x.iter('testcase')][0]" "leak" "junit failure type"
expect_xq "$X" "'#1 ' in [c.find('failure').text for c in x.iter('testcase') if 'alloc_big' in c.get('name')][0]" "True" "junit stack text"
sa check --analyze "$D" --format junit --report "$T/top.xml" --top 1
expect_xq "$T/top.xml" "x.get('tests'), x.get('failures')" "('3', '3')" "junit --top 1 (per kind and process)"
sa check --analyze "$T/clean" --format junit --report "$T/clean.xml"
expect_rc 0 "junit clean"
expect_xq "$T/clean.xml" "x.get('tests'), x.get('failures'), [(c.get('classname'), c.get('name'), len(c)) for c in x.iter('testcase')]" \
    "('1', '0', [('snapalloc.leak', 'no leaks', 0)])" "junit clean"

echo "PASS: check_analyze"
