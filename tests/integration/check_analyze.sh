# check_analyze.sh - `snapalloc check --analyze DIR` on leak sets with known
# sites, sizes and counts (check_mkset): exit statuses, the report's leak
# and summary lines, kinds shown and failing, --top, several processes, a
# process that was not checked, blocks from before tracing, JSON, JUnit.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init check_analyze
S=check_mkset.c
F='[^ ]*check_mkset\.c'

L_small=$(sa_line_of $S small); L_node=$(sa_line_of $S node); L_big=$(sa_line_of $S big)
L_str=$(sa_line_of $S str); L_wrapped=$(sa_line_of $S wrapped); L_x=$(sa_line_of $S xmalloc)
L_lib=$(sa_line_of check_mkset_lib.c lib)

# A clean process: passes, exit 0.
sa_mkset "$SA_TMP/clean" reachable:lib=1
sa_cmd check --analyze "$SA_TMP/clean"
sa_expect_status cmd 0 "clean"
sa_expect_err_line cmd "definitely lost: 0 bytes in 0 blocks" "clean summary"
sa_expect_err_line cmd "indirectly lost: 0 bytes in 0 blocks" "clean summary"
sa_expect_err_line cmd "possibly lost: 0 bytes in 0 blocks" "clean summary"
sa_expect_err_line cmd "suppressed: 0 bytes in 0 blocks" "clean summary"
sa_expect_err_line cmd "snapalloc check: passed" "clean verdict"
sa_expect_no_err_line cmd "still reachable" "reachable not shown by default"
[ ! -s "$SA_TMP/cmd.out" ] || sa_fail "clean: stdout is not empty"

# The main set: 1 MiB + 5 x 64 (two stacks) + 256 (xmalloc) + 2 x 100 before
# tracing definite; 4 x 32 indirect; 2 x 16 possible; 1 x 128 reachable.
D=$SA_TMP/d
sa_mkset "$D" definite:big=1 definite:small=3 definite:other=2 definite:wrap=1 definite:pre=2 \
    indirect:node=4 possible:str=2 reachable:lib=1
PID1=$SA_PID
sa_cmd check --analyze "$D"
sa_expect_status cmd 23 "leaks"
sa_expect_err_line cmd "definitely lost: 1,049,352 bytes in 9 blocks" "definite summary"
sa_expect_err_line cmd "indirectly lost: 128 bytes in 4 blocks" "indirect summary"
sa_expect_err_line cmd "possibly lost: 32 bytes in 2 blocks" "possible summary"
sa_expect_err_line cmd "suppressed: 0 bytes in 0 blocks" "suppressed summary"
sa_expect_err_line cmd "snapalloc check: FAILED: definitely lost, indirectly lost \(exit status 23\)" "verdict"
sa_expect_err_line cmd "snapalloc check: pid $SA_PID: .*check_mkset .*" "process header"
sa_expect_err_line cmd "1,048,576 bytes in 1 blocks are definitely lost at $F:$L_big alloc_big" "big"
sa_expect_err_line cmd "320 bytes in 5 blocks are definitely lost at $F:$L_small alloc_small \(2 stacks, the largest shown\)" "small merged"
sa_expect_err_line cmd "256 bytes in 1 blocks are definitely lost at $F:$L_x xmalloc" "xmalloc"
sa_expect_err_line cmd "200 bytes in 2 blocks are definitely lost at <allocated before tracing started>" "pre"
sa_expect_err_line cmd "    <allocated before tracing started>" "pre frames"
sa_expect_err_line cmd "128 bytes in 4 blocks are indirectly lost at $F:$L_node make_node" "node"
sa_expect_err_line cmd "32 bytes in 2 blocks are possibly lost at $F:$L_str dup_name" "str"
# The full stack, innermost first, from the call site: malloc is folded.
sa_expect_err_line cmd "    #0 $F:$L_big alloc_big \(check_mkset\)" "stack frame 0"
sa_expect_err_line cmd "    #1 $F:[0-9]+ main \(check_mkset\)" "stack frame 1"
sa_expect_no_err_line cmd " (malloc|strdup|__strdup) " "allocation functions are folded"
# Largest first within a kind: big, small, xmalloc, pre.
order=$(grep -E 'are definitely lost at' "$SA_TMP/cmd.err" | sed 's/ bytes.*//' | tr '\n' ' ')
[ "$order" = "1,048,576 320 256 200 " ] || sa_fail "order of definite leaks: $order"

# --wrapper moves xmalloc's leak to its caller.
sa_cmd check --analyze "$D" --wrapper xmalloc
sa_expect_err_line cmd "256 bytes in 1 blocks are definitely lost at $F:$L_wrapped alloc_wrapped" "--wrapper"

# --exitcode.
sa_cmd check --analyze "$D" --exitcode 42
sa_expect_status cmd 42 "--exitcode 42"
sa_expect_err_line cmd "snapalloc check: FAILED: .* \(exit status 42\)" "--exitcode verdict"

# --fail-on possible: definite leaks are reported but do not fail.
sa_mkset "$SA_TMP/p" possible:str=1
sa_cmd check --analyze "$SA_TMP/p"
sa_expect_status cmd 0 "possible only, default fail-on"
sa_expect_err_line cmd "possibly lost: 16 bytes in 1 blocks" "possible reported"
sa_cmd check --analyze "$SA_TMP/p" --fail-on possible
sa_expect_status cmd 23 "--fail-on possible"
sa_cmd check --analyze "$SA_TMP/p" --fail-on definite,indirect,possible --exitcode 9
sa_expect_status cmd 9 "--fail-on list"
sa_cmd check --analyze "$D" --fail-on possible
sa_expect_status cmd 23 "--fail-on possible with possible leaks"
sa_expect_err_line cmd "snapalloc check: FAILED: possibly lost \(exit status 23\)" "only possible fails"

# --show: reachable shown on request; --fail-on kinds are always shown.
sa_cmd check --analyze "$D" --show definite
sa_expect_no_err_line cmd "still reachable" "--show definite hides reachable"
sa_expect_no_err_line cmd "possibly lost" "--show definite hides possible"
sa_expect_err_line cmd "indirectly lost: 128 bytes in 4 blocks" "sa_fail kinds are shown"
sa_cmd check --analyze "$D" --show reachable
sa_expect_err_line cmd "still reachable: 128 bytes in 1 blocks" "--show reachable summary"
sa_expect_err_line cmd "128 bytes in 1 blocks are still reachable at [^ ]*check_mkset_lib\.c:$L_lib lib_alloc" "--show reachable site"
sa_expect_status cmd 23 "--show does not change failing"
sa_cmd check --analyze "$SA_TMP/clean" --fail-on reachable
sa_expect_status cmd 23 "--fail-on reachable"

# --top 1: one call site per kind, the rest summed.
sa_cmd check --analyze "$D" --top 1
sa_expect_err_line cmd "1,048,576 bytes in 1 blocks are definitely lost at $F:$L_big alloc_big" "--top 1 keeps the largest"
sa_expect_no_err_line cmd "are definitely lost at $F:$L_small" "--top 1 drops the others"
sa_expect_err_line cmd "\.\.\. 3 more call sites: 776 bytes in 8 blocks definitely lost" "--top 1 rest"
sa_expect_err_line cmd "definitely lost: 1,049,352 bytes in 9 blocks" "--top keeps the summary whole"

# A second process in the same directory, and one that was not checked.
sa_mkset "$D" definite:node=1
PID2=$SA_PID
sa_mkset "$D" definite:big=3 nodone
PID3=$SA_PID
sa_cmd check --analyze "$D"
sa_expect_status cmd 23 "two processes"
sa_expect_err_line cmd "definitely lost: 1,049,384 bytes in 10 blocks" "summary over processes"
sa_expect_err_line cmd "snapalloc check: pid $PID2: .*" "second process"
sa_expect_err_line cmd "snapalloc: pid $PID3: not checked \(it ended without its exit check: killed by a signal, or _exit\)" "not checked"
[ "$(grep -c "pid $PID3" "$SA_TMP/cmd.err")" -eq 1 ] || sa_fail "not checked: one line"
# A process that was not checked does not fail the check by itself, but a
# check where no process finished cannot pass: 24, one verdict line.
sa_mkset "$SA_TMP/nc" definite:big=1 nodone
sa_cmd check --analyze "$SA_TMP/nc"
sa_expect_status cmd 24 "only an unchecked process"
sa_expect_err_line cmd "snapalloc: pid $SA_PID: not checked .*" "unchecked alone"
sa_expect_err_line cmd "snapalloc check: NOT CHECKED: no process in $SA_TMP/nc finished its leak check \(killed by a signal, or _exit\) \(exit status 24\)" "unchecked alone: verdict"

# JSON.
sa_cmd check --analyze "$D" --report "$SA_TMP/r.json" --format json
sa_expect_status cmd 23 "json"
R=$SA_TMP/r.json
sa_expect_json "$R" "d['passed'], d['exitcode'], d['status'], d['program'], d['exit_status']" \
    "(False, 23, 23, None, None)" "json header"
sa_expect_json "$R" "d['summary']['definite']" "{'bytes': 1049384, 'blocks': 10}" "json definite"
sa_expect_json "$R" "d['summary']['indirect'], d['summary']['possible'], d['summary']['suppressed']" \
    "({'bytes': 128, 'blocks': 4}, {'bytes': 32, 'blocks': 2}, {'bytes': 0, 'blocks': 0})" "json summary"
sa_expect_json "$R" "'reachable' in d['summary']" "False" "json reachable not shown"
sa_expect_json "$R" "d['fail_on'], d['show'], d['failed']" \
    "(['definite', 'indirect'], ['definite', 'indirect', 'possible'], ['definite', 'indirect'])" "json kinds"
sa_expect_json "$R" "len(d['leaks'])" "7" "json leaks"
sa_expect_json "$R" "[(l['kind'], l['bytes'], l['blocks'], l['stacks']) for l in d['leaks'] if l['pid'] == $PID1]" \
    "[('definite', 1048576, 1, 1), ('definite', 320, 5, 2), ('definite', 256, 1, 1), ('definite', 200, 2, 1), ('indirect', 128, 4, 1), ('possible', 32, 2, 1)]" "json leaks of the first process"
sa_expect_json "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['site']" \
    "{'function': 'alloc_big', 'file': '$(cd "$SA_SRC" && pwd)/check_mkset.c', 'line': $L_big, 'module': 'check_mkset'}" "json site"
sa_expect_json "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['frames'][1]['function']" "main" "json frames"
sa_expect_json "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['frames'][0]['module'].endswith('/check_mkset')" "True" "json frame module path"
sa_expect_json "$R" "[l for l in d['leaks'] if l['bytes'] == 1048576][0]['suppressed_by']" "None" "json suppressed_by"
sa_expect_json "$R" "[(l['bytes'], l['blocks'], l['stacks']) for l in d['leaks'] if l['site'] and l['site']['function'] == 'alloc_small']" \
    "[(320, 5, 2)]" "json merged stacks"
sa_expect_json "$R" "[(l['bytes'], l['site'], l['frames']) for l in d['leaks'] if l['site'] is None]" \
    "[(200, None, [])]" "json pre-tracing"
sa_expect_json "$R" "[(l['kind'], l['fails']) for l in d['leaks'] if l['kind'] == 'possible']" \
    "[('possible', False)]" "json possible does not fail"
sa_expect_json "$R" "[(p['pid'], p['checked']) for p in d['processes']] == sorted([($PID1, True), ($PID2, True), ($PID3, False)])" "True" "json processes, by pid"
sa_expect_json "$R" "[p['exe'].endswith('/check_mkset') for p in d['processes'] if p['checked']]" "[True, True]" "json exe"
sa_expect_json "$R" "len(d['processes']), d['growth'], d['suppressions']" "(3, None, [])" "json processes/growth"
# --report FILE.xml without --format writes JUnit; otherwise JSON.
sa_cmd check --analyze "$SA_TMP/clean" --report "$SA_TMP/clean.json"
sa_expect_json "$SA_TMP/clean.json" "d['passed'], d['status'], d['leaks']" "(True, 0, [])" "json clean"

# JUnit: one failing testcase per call site of a failing kind.
sa_cmd check --analyze "$D" --report "$SA_TMP/r.xml"
sa_expect_status cmd 23 "junit"
X=$SA_TMP/r.xml
sa_expect_xml "$X" "x.tag, x.get('tests'), x.get('failures')" "('testsuites', '6', '6')" "junit root"
sa_expect_xml "$X" "[(s.get('name'), s.get('tests'), s.get('failures')) for s in x]" \
    "[('snapalloc check', '6', '6')]" "junit suite"
sa_expect_xml "$X" "sorted(c.get('classname') for c in x.iter('testcase'))" \
    "['snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.definite', 'snapalloc.leak.indirect']" "junit classnames"
sa_xml "$X" "'\n'.join(c.get('name') for c in x.iter('testcase'))" >"$SA_TMP/names"
grep -Eqx "$F:$L_big alloc_big" "$SA_TMP/names" || sa_fail "junit: no testcase named file:line alloc_big"
grep -Eqx "$F:$L_node make_node" "$SA_TMP/names" || sa_fail "junit: no testcase for make_node"
grep -qx "<allocated before tracing started>" "$SA_TMP/names" || sa_fail "junit: pre-tracing testcase"
sa_expect_xml "$X" "[c.find('failure').get('message') for c in x.iter('testcase') if 'alloc_big' in c.get('name')]" \
    "['definitely lost: 1,048,576 bytes in 1 blocks']" "junit failure message"
sa_expect_xml "$X" "[c.find('failure').get('type') for c in x.iter('testcase')][0]" "leak" "junit failure type"
sa_expect_xml "$X" "'#1 ' in [c.find('failure').text for c in x.iter('testcase') if 'alloc_big' in c.get('name')][0]" "True" "junit stack text"
sa_cmd check --analyze "$D" --format junit --report "$SA_TMP/top.xml" --top 1
sa_expect_xml "$SA_TMP/top.xml" "x.get('tests'), x.get('failures')" "('3', '3')" "junit --top 1 (per kind and process)"
sa_cmd check --analyze "$SA_TMP/clean" --format junit --report "$SA_TMP/clean.xml"
sa_expect_status cmd 0 "junit clean"
sa_expect_xml "$SA_TMP/clean.xml" "x.get('tests'), x.get('failures'), [(c.get('classname'), c.get('name'), len(c)) for c in x.iter('testcase')]" \
    "('1', '0', [('snapalloc.leak', 'no leaks', 0)])" "junit clean"

sa_pass
