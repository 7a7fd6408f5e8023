# memcheck_lib.sh - the leak tests' comparisons with valgrind memcheck, on
# top of tests/integration/lib.sh (which the test sources first): one
# program's numbers against memcheck's (mc_valgrind, mc_same_as_valgrind;
# tests/integration/leak_*.sh), and the driver of the leak corpus
# (tests/leak/corpus*.sh, real*.sh, heuristics.sh): every case is a small
# ordinary program built at -O0 and -O2 (tests/leak/build.sh); each binary
# runs under valgrind memcheck (--leak-check=full, default heuristics),
# under the preload with SNAPALLOC_CHECK=1 and SNAPALLOC_CHECK_DIR, and
# through `snapalloc check`.
#
# A case passes when
#   - memcheck's definite/indirect/possible bytes and blocks are the ones
#     the case's program documents (else the corpus itself is wrong: the
#     compiler dropped a leak, a pointer lingers...);
#   - the check's numbers equal memcheck's, process by process;
#   - the program exits 0 under the preload, and `snapalloc check` exits 23
#     exactly when memcheck finds something definitely or indirectly lost,
#     else with the program's status (0).
# The memcheck and the preload runs give the program the same environment
# (mc_env_prepare).
# A case differing from memcheck on purpose gives the check's own
# expectation (mc_case's 4th argument) and says why.
#
# Mismatches are recorded with sa_defer_fail; the script fails at its end
# (mc_done) with the list.
# LEAK_CASES="a b" runs only those cases, LEAK_LEVELS="O2" only a level.
# MC_VG_OPTS: more memcheck options (heuristics.sh: the heuristics off on
# both sides).

# mc_valgrind TAG CMD...: run CMD under valgrind memcheck (no preload);
# MC_VG_<class> = "BYTES BLOCKS" for definite, indirect, possible.
mc_valgrind() {
    mc_tag=$1; shift
    sa_run_plain "$mc_tag.vg" valgrind --leak-check=full --show-leak-kinds=all "$@"
    mc_vg=$SA_TMP/$mc_tag.vg.err
    grep -q 'ERROR SUMMARY' "$mc_vg" || { sa_show "$mc_tag.vg"; sa_fail "valgrind did not finish on run '$mc_tag'"; }
    MC_VG_definite=$(mc_vg_line "$mc_vg" 'definitely lost')
    MC_VG_indirect=$(mc_vg_line "$mc_vg" 'indirectly lost')
    MC_VG_possible=$(mc_vg_line "$mc_vg" 'possibly lost')
}

# mc_vg_line FILE WHAT: "BYTES BLOCKS" of valgrind's "WHAT: X bytes in Y
# blocks" summary line; "0 0" when valgrind printed no summary ("All heap
# blocks were freed").
mc_vg_line() {
    mc_l=$(sed -n "s/.*$2: \\([0-9,]*\\) bytes in \\([0-9,]*\\) blocks.*/\\1 \\2/p" "$1" | tr -d ,)
    printf '%s\n' "${mc_l:-0 0}"
}

# mc_same_as_valgrind TAG: definite, indirect and possible of run TAG
# (sa_run_checked) equal valgrind's (mc_valgrind TAG first).
mc_same_as_valgrind() {
    for mc_c in definite indirect possible; do
        eval "mc_want=\$MC_VG_$mc_c"
        mc_got=$(sa_check_class "$1" "$mc_c")
        [ "$mc_got" = "$mc_want" ] || sa_fail "run '$1': $mc_c is '$mc_got', valgrind says '$mc_want' (bytes blocks)"
    done
    echo "$SA_NAME: $1: definite $(sa_check_class "$1" definite), indirect $(sa_check_class "$1" indirect), possible $(sa_check_class "$1" possible): as valgrind"
}

# ---- the corpus ------------------------------------------------------------

# mc_init NAME: sa_init, and SKIP without valgrind.
mc_init() {
    sa_init "$1"
    sa_need_program valgrind
    MC_DUMP=$(sa_helper snapdump)
    MC_BIN=$top_builddir/tests/leak
    MC_RAN=0
    MC_CHECK_DIR=$SA_TMP/check.d
    MC_ENV_EXEC=$top_srcdir/tests/leak/env_exec.sh
}

# mc_env_prepare: the environment of the next compared runs, in
# $SA_TMP/env.vg (memcheck's run: what valgrind is started with) and
# $SA_TMP/env.check (the preload's run: what the program is started with).
#
# What a program allocates can depend on its environment: perl copies it
# into %ENV, a hash whose array is split (a realloc to twice the size) when
# a 43rd key collides, and each copied variable is 4 or 5 blocks (its key,
# value, magic...).  Each tool adds its own variables: valgrind sets
# LD_PRELOAD (its two preloads), GLIBCXX_FORCE_NEW, GLIBCPP_FORCE_NEW, PWD
# when missing and, Debian's, LD_LIBRARY_PATH, in an order of its own; the
# preload's run has LD_PRELOAD, SNAPALLOC_CHECK and SNAPALLOC_CHECK_DIR.
# So both get the environment valgrind gives the program (probed with
# env(1) under it, the check's variables set), our library in LD_PRELOAD,
# its path padded with slashes to the length of valgrind's value: the same
# variables, in the same order, of the same lengths.  Variables whose
# value holds a newline are left out of both (the files are a line each).
mc_env_prepare() {
    {
        env -0 | tr '\n\0' '\001\n' | grep -v "$(printf '\001')" || :
        echo "SNAPALLOC_CHECK=1"
        echo "SNAPALLOC_CHECK_DIR=$MC_CHECK_DIR"
    } >"$SA_TMP/env.vg.new"
    # Unchanged since the last case: the probe stands.
    ! cmp -s "$SA_TMP/env.vg.new" "$SA_TMP/env.vg" || return 0
    mv "$SA_TMP/env.vg.new" "$SA_TMP/env.vg"
    sh "$MC_ENV_EXEC" "$SA_TMP/env.vg" valgrind -q --leak-check=no env \
        >"$SA_TMP/env.probe" 2>"$SA_TMP/env.probe.err" ||
        { cat "$SA_TMP/env.probe.err" >&2; sa_fail "env(1) does not run under valgrind"; }
    mc_vgpre=$(sed -n 's/^LD_PRELOAD=//p' "$SA_TMP/env.probe")
    MC_PRELOAD="LD_PRELOAD=$(mc_padded_lib ${#mc_vgpre})" awk '
        /^LD_PRELOAD=/ { print ENVIRON["MC_PRELOAD"]; seen = 1; next }
        { print }
        END { if (!seen) print ENVIRON["MC_PRELOAD"] }' "$SA_TMP/env.probe" >"$SA_TMP/env.check"
}

# mc_padded_lib LENGTH: $SNAPALLOC_LIB's path, slashes added before its
# file name up to LENGTH characters (through a symbolic link in $SA_TMP
# when the path is longer; left longer when that is too).
mc_padded_lib() {
    mc_lib=$SNAPALLOC_LIB
    if [ "${#mc_lib}" -gt "$1" ]; then
        ln -sf "$SNAPALLOC_LIB" "$SA_TMP/l.so"
        mc_lib=$SA_TMP/l.so
    fi
    mc_dir=${mc_lib%/*} mc_file=${mc_lib##*/} mc_pad=/
    while [ $((${#mc_dir} + ${#mc_pad} + ${#mc_file})) -lt "$1" ]; do
        mc_pad="$mc_pad/"
    done
    printf '%s\n' "$mc_dir$mc_pad$mc_file"
}

# mc_selected NAME: the case is in $LEAK_CASES (or no selection).
mc_selected() {
    [ -z "${LEAK_CASES:-}" ] && return 0
    for mc_s in $LEAK_CASES; do
        [ "$mc_s" = "$1" ] && return 0
    done
    return 1
}


# mc_vg_numbers FILE: one line per process that valgrind checked,
# "DEF IND POS" with each as BYTES/BLOCKS, sorted.
mc_vg_numbers() {
    awk '
        match($0, /^==[0-9]+==/) { pid = substr($0, 3, RLENGTH - 4) }
        / HEAP SUMMARY:/ { seen[pid] = 1; n[pid, "d"] = n[pid, "i"] = n[pid, "p"] = "0/0" }
        function num(   b, k) { b = $4; k = $7; gsub(",", "", b); gsub(",", "", k); return b "/" k }
        / definitely lost: / { n[pid, "d"] = num() }
        / indirectly lost: / { n[pid, "i"] = num() }
        / possibly lost: /   { n[pid, "p"] = num() }
        END { for (q in seen) print n[q, "d"], n[q, "i"], n[q, "p"] }
    ' "$1" | sort
}

# mc_sa_numbers DIR: the same from the check's files, one line per
# process that wrote a complete set (PID.done).
mc_sa_numbers() {
    for mc_d in "$1"/*.done; do
        [ -e "$mc_d" ] || continue
        mc_p=${mc_d%.done}
        mc_line=
        for mc_c in definite indirect possible; do
            mc_v=$("$MC_DUMP" "$mc_p.$mc_c.snap" 2>/dev/null |
                sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1\/\2/p')
            mc_line="$mc_line ${mc_v:-unreadable}"
        done
        echo "${mc_line# }"
    done | sort
}

# mc_vg_heuristics FILE: per process, memcheck's "of which reachable via
# heuristic" lines as "NAME=BYTES/BLOCKS ..." ("-" when there are none),
# sorted.
mc_vg_heuristics() {
    awk '
        match($0, /^==[0-9]+==/) { pid = substr($0, 3, RLENGTH - 4) }
        / HEAP SUMMARY:/ { seen[pid] = 1; h[pid] = "" }
        / of which reachable via heuristic:/ { inh[pid] = 1; next }
        inh[pid] && !/ suppressed: / && /: [0-9,]+ bytes in [0-9,]+ blocks/ {
            b = $(NF - 4); k = $(NF - 1); gsub(",", "", b); gsub(",", "", k)
            n = $2; sub(/:$/, "", n)   # "multipleinheritance:" has no space
            h[pid] = h[pid] " " n "=" b "/" k; next }
        { inh[pid] = 0 }
        END { for (q in seen) { v = h[q]; sub(/^ /, "", v); print (v == "" ? "-" : v) } }
    ' "$1" | sort
}

# mc_sa_heuristics DIR: the same from the check's PID.heuristic-NAME.snap
# files, in memcheck's order of the names.
mc_sa_heuristics() {
    for mc_d in "$1"/*.done; do
        [ -e "$mc_d" ] || continue
        mc_p=${mc_d%.done}
        mc_line=
        for mc_h in stdstring length64 newarray multipleinheritance; do
            [ -e "$mc_p.heuristic-$mc_h.snap" ] || continue
            mc_v=$("$MC_DUMP" "$mc_p.heuristic-$mc_h.snap" 2>/dev/null |
                sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1\/\2/p')
            mc_line="$mc_line $mc_h=${mc_v:-unreadable}"
        done
        mc_line=${mc_line# }
        echo "${mc_line:--}"
    done | sort
}

# mc_match GOT WANT: lines equal, field by field; "*" in WANT matches any
# number (e.g. "*/1": any size in one block).
mc_match() {
    [ "$1" = "$2" ] && return 0
    [ "$(printf '%s\n' "$1" | wc -l)" = "$(printf '%s\n' "$2" | wc -l)" ] || return 1
    printf '%s\n' "$1" >"$SA_TMP/mc_got"
    printf '%s\n' "$2" | paste -d ' ' - "$SA_TMP/mc_got" |
        awk '{ n = NF / 2; for (i = 1; i <= n; i++) {
                   w = $i; g = $(i + n); gsub(/\*/, "[0-9]+", w)
                   if (g !~ ("^" w "$")) bad = 1 } }
             END { exit bad }'
}

# mc_lost_any NUMBERS: some process lost something definitely or indirectly.
mc_lost_any() {
    printf '%s\n' "$1" | awk '{ split($1, d, "/"); split($2, i, "/"); if (d[1] + i[1] > 0) f = 1 } END { exit !f }'
}

# mc_compare TAG WANT_MEMCHECK WANT_CHECK CMD...: one binary, all three
# runs.  WANT_MEMCHECK: memcheck's numbers ("" = not checked; processes
# separated by newlines); WANT_CHECK: the check's when it differs from
# memcheck on purpose ("" = memcheck's).
mc_compare() {
    mc_tag=$1 mc_want=$2 mc_own=$3
    shift 3
    MC_RAN=$((MC_RAN + 1))
    mc_env_prepare
    sa_run_plain "$mc_tag.vg" sh "$MC_ENV_EXEC" "$SA_TMP/env.vg" valgrind --leak-check=full ${MC_VG_OPTS:-} "$@"
    grep -q 'ERROR SUMMARY' "$SA_TMP/$mc_tag.vg.err" || { sa_show "$mc_tag.vg"; sa_defer_fail "$mc_tag: valgrind did not finish"; return 0; }
    mc_vg=$(mc_vg_numbers "$SA_TMP/$mc_tag.vg.err")
    # memcheck's scan is conservative too: a value that happens to point
    # into a lost block (a register or stack word whose value depends on
    # the address layout) makes it "possibly lost" in that one run (seen
    # once in CI: three_helpers' 1 MiB block).  A run that disagrees with
    # the program's documented answer is repeated, twice at most; the
    # check is then compared with the run that agrees.
    mc_try=0
    while [ -n "$mc_want" ] && ! mc_match "$mc_vg" "$mc_want" && [ $mc_try -lt 2 ]; do
        mc_try=$((mc_try + 1))
        echo "$SA_NAME: $mc_tag: memcheck said '$(echo $mc_vg)', not the documented answer: run again"
        sa_run_plain "$mc_tag.vg" sh "$MC_ENV_EXEC" "$SA_TMP/env.vg" valgrind --leak-check=full ${MC_VG_OPTS:-} "$@"
        mc_vg=$(mc_vg_numbers "$SA_TMP/$mc_tag.vg.err")
    done
    if [ -n "$mc_want" ] && ! mc_match "$mc_vg" "$mc_want"; then
        sa_defer_fail "$mc_tag: CORPUS: memcheck says '$mc_vg', the case documents '$mc_want'"
    fi
    mc_ref=${mc_own:-$mc_vg}
    # A real program (no documented answer) is compared run against run,
    # and the address layout of each run (ASLR in ours, valgrind's own in
    # memcheck's) decides whether a stray word points into a lost block
    # (seen once in CI: perl's one 4 KiB block indirect in our run,
    # possible in memcheck's).  A check that disagrees is run again,
    # twice at most, and compared with the run that agrees.
    mc_try=0
    while :; do
        # One directory for every run: its name is in the environment.
        rm -rf "$MC_CHECK_DIR"
        mkdir -p "$MC_CHECK_DIR"
        sa_run_plain "$mc_tag" sh "$MC_ENV_EXEC" "$SA_TMP/env.check" "$@"
        rm -rf "$SA_TMP/$mc_tag.d"   # a case may run twice (heuristics.sh)
        mv "$MC_CHECK_DIR" "$SA_TMP/$mc_tag.d"
        mc_rc=$(sa_status "$mc_tag")
        mc_sa=$(mc_sa_numbers "$SA_TMP/$mc_tag.d")
        [ -z "$mc_want" ] && [ -z "$mc_own" ] && [ -n "$mc_sa" ] && [ $mc_try -lt 2 ] &&
            ! mc_match "$mc_sa" "$mc_ref" || break
        mc_try=$((mc_try + 1))
        echo "$SA_NAME: $mc_tag: the check said '$(echo $mc_sa)', memcheck '$(echo $mc_ref)': run the check again"
    done
    if [ -z "$mc_sa" ]; then
        sa_defer_fail "$mc_tag: the check wrote no complete set (status $mc_rc); memcheck: '$mc_vg'"
    elif ! mc_match "$mc_sa" "$mc_ref"; then
        sa_defer_fail "$mc_tag: check '$(echo $mc_sa)' vs ${mc_own:+documented }memcheck '$(echo $mc_ref)' (def ind pos, bytes/blocks)"
    fi
    # What memcheck's heuristics reached, heuristic by heuristic.
    mc_vgh=$(mc_vg_heuristics "$SA_TMP/$mc_tag.vg.err")
    mc_sah=$(mc_sa_heuristics "$SA_TMP/$mc_tag.d")
    [ -z "$mc_sa" ] || [ "$mc_vgh" = "$mc_sah" ] ||
        sa_defer_fail "$mc_tag: reachable via heuristic: check '$(echo $mc_sah)' vs memcheck '$(echo $mc_vgh)'"
    [ "$(sa_status "$mc_tag.vg")" = 0 ] || sa_defer_fail "$mc_tag: CORPUS: exit status $(sa_status "$mc_tag.vg") under memcheck"
    [ "$mc_rc" = "$(sa_status "$mc_tag.vg")" ] ||
        sa_defer_fail "$mc_tag: exit status $mc_rc under the check, $(sa_status "$mc_tag.vg") under memcheck"
    # The wrapper: 23 exactly when memcheck finds a definite or indirect loss.
    mc_status_want=$(sa_status "$mc_tag.vg")
    ! mc_lost_any "${mc_own:-$mc_vg}" || mc_status_want=23
    sa_run_plain "$mc_tag.cmd" "$SNAPALLOC_CMD" check -- "$@"
    [ "$(sa_status "$mc_tag.cmd")" = "$mc_status_want" ] ||
        sa_defer_fail "$mc_tag: snapalloc check exited $(sa_status "$mc_tag.cmd"), expected $mc_status_want"
    echo "$SA_NAME: $mc_tag: memcheck '$(echo $mc_vg)' heuristics '$(echo $mc_vgh)', check '$(echo $mc_sa)' heuristics '$(echo $mc_sah)'"
}

# mc_case NAME WANT_O0 WANT_O2 [CHECK_O0 CHECK_O2]: a corpus program at
# both levels; WANT_* is memcheck's documented answer ("DEF IND POS", each
# BYTES/BLOCKS, a line per process), CHECK_* the check's where it differs
# on purpose.
mc_case() {
    mc_selected "$1" || return 0
    for mc_level in ${LEAK_LEVELS:-O0 O2}; do
        case $mc_level in
            O0) mc_w=$2 mc_o=${4:-} ;;
            *) mc_w=$3 mc_o=${5:-} ;;
        esac
        mc_bin=$MC_BIN/$1_$mc_level
        [ -x "$mc_bin" ] || sa_fail "$mc_bin is missing (make check builds the corpus)"
        mc_compare "$1_$mc_level" "$mc_w" "$mc_o" "$mc_bin" "$MC_BIN/dl_lib.so"
    done
}

# mc_done: pass, or fail with the list of mismatches (sa_pass).
mc_done() {
    [ "$MC_RAN" -gt 0 ] || sa_skip "no case selected (LEAK_CASES=${LEAK_CASES:-})"
    echo "$SA_NAME: $MC_RAN runs compared"
    sa_pass
}
