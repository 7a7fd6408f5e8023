# corpus_lib.sh - the driver of the leak corpus (tests/leak/corpus*.sh):
# every case is a small ordinary program built at -O0 and -O2
# (tests/leak/build.sh); each binary runs under valgrind memcheck
# (--leak-check=full, default heuristics), under the preload with
# SNAPALLOC_CHECK=1 and SNAPALLOC_CHECK_DIR, and through `snapalloc check`.
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
# (lc_env_prepare).
# A case differing from memcheck on purpose gives the check's own
# expectation (lc_case's 4th argument) and says why.
#
# Mismatches are collected; the script fails at its end with a table.
# LEAK_CASES="a b" runs only those cases, LEAK_LEVELS="O2" only a level.
# LC_VG_OPTS: more memcheck options (heuristics.sh: the heuristics off on
# both sides).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/leak_lib.sh"

lc_init() {
    lk_init "$1"
    command -v valgrind >/dev/null 2>&1 || sa_skip "valgrind is not installed"
    LC_BIN=$top_builddir/tests/leak
    LC_FAILS=$SA_TMP/fails
    : >"$LC_FAILS"
    LC_RAN=0
    LC_CHECK_DIR=$SA_TMP/check.d
    LC_ENV_EXEC=$top_srcdir/tests/leak/env_exec.sh
}

# lc_env_prepare: the environment of the next compared runs, in
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
lc_env_prepare() {
    {
        env -0 | tr '\n\0' '\001\n' | grep -v "$(printf '\001')" || :
        echo "SNAPALLOC_CHECK=1"
        echo "SNAPALLOC_CHECK_DIR=$LC_CHECK_DIR"
    } >"$SA_TMP/env.vg.new"
    # Unchanged since the last case: the probe stands.
    ! cmp -s "$SA_TMP/env.vg.new" "$SA_TMP/env.vg" || return 0
    mv "$SA_TMP/env.vg.new" "$SA_TMP/env.vg"
    sh "$LC_ENV_EXEC" "$SA_TMP/env.vg" valgrind -q --leak-check=no env \
        >"$SA_TMP/env.probe" 2>"$SA_TMP/env.probe.err" ||
        { cat "$SA_TMP/env.probe.err" >&2; sa_fail "env(1) does not run under valgrind"; }
    lc_vgpre=$(sed -n 's/^LD_PRELOAD=//p' "$SA_TMP/env.probe")
    LC_PRELOAD="LD_PRELOAD=$(lc_padded_lib ${#lc_vgpre})" awk '
        /^LD_PRELOAD=/ { print ENVIRON["LC_PRELOAD"]; seen = 1; next }
        { print }
        END { if (!seen) print ENVIRON["LC_PRELOAD"] }' "$SA_TMP/env.probe" >"$SA_TMP/env.check"
}

# lc_padded_lib LENGTH: $SNAPALLOC_LIB's path, slashes added before its
# file name up to LENGTH characters (through a symbolic link in $SA_TMP
# when the path is longer; left longer when that is too).
lc_padded_lib() {
    lc_lib=$SNAPALLOC_LIB
    if [ "${#lc_lib}" -gt "$1" ]; then
        ln -sf "$SNAPALLOC_LIB" "$SA_TMP/l.so"
        lc_lib=$SA_TMP/l.so
    fi
    lc_dir=${lc_lib%/*} lc_file=${lc_lib##*/} lc_pad=/
    while [ $((${#lc_dir} + ${#lc_pad} + ${#lc_file})) -lt "$1" ]; do
        lc_pad="$lc_pad/"
    done
    printf '%s\n' "$lc_dir$lc_pad$lc_file"
}

# lc_selected NAME: the case is in $LEAK_CASES (or no selection).
lc_selected() {
    [ -z "${LEAK_CASES:-}" ] && return 0
    for lc_s in $LEAK_CASES; do
        [ "$lc_s" = "$1" ] && return 0
    done
    return 1
}

lc_failed() {
    echo "MISMATCH $*" >&2
    echo "$*" >>"$LC_FAILS"
}

# lc_vg_numbers FILE: one line per process that valgrind checked,
# "DEF IND POS" with each as BYTES/BLOCKS, sorted.
lc_vg_numbers() {
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

# lc_sa_numbers DIR: the same from the check's files, one line per
# process that wrote a complete set (PID.done).
lc_sa_numbers() {
    for lc_d in "$1"/*.done; do
        [ -e "$lc_d" ] || continue
        lc_p=${lc_d%.done}
        lc_line=
        for lc_c in definite indirect possible; do
            lc_v=$("$LK_DUMP" "$lc_p.$lc_c.snap" 2>/dev/null |
                sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1\/\2/p')
            lc_line="$lc_line ${lc_v:-unreadable}"
        done
        echo "${lc_line# }"
    done | sort
}

# lc_vg_heuristics FILE: per process, memcheck's "of which reachable via
# heuristic" lines as "NAME=BYTES/BLOCKS ..." ("-" when there are none),
# sorted.
lc_vg_heuristics() {
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

# lc_sa_heuristics DIR: the same from the check's PID.heuristic-NAME.snap
# files, in memcheck's order of the names.
lc_sa_heuristics() {
    for lc_d in "$1"/*.done; do
        [ -e "$lc_d" ] || continue
        lc_p=${lc_d%.done}
        lc_line=
        for lc_h in stdstring length64 newarray multipleinheritance; do
            [ -e "$lc_p.heuristic-$lc_h.snap" ] || continue
            lc_v=$("$LK_DUMP" "$lc_p.heuristic-$lc_h.snap" 2>/dev/null |
                sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1\/\2/p')
            lc_line="$lc_line $lc_h=${lc_v:-unreadable}"
        done
        lc_line=${lc_line# }
        echo "${lc_line:--}"
    done | sort
}

# lc_match GOT WANT: lines equal, field by field; "*" in WANT matches any
# number (e.g. "*/1": any size in one block).
lc_match() {
    [ "$1" = "$2" ] && return 0
    [ "$(printf '%s\n' "$1" | wc -l)" = "$(printf '%s\n' "$2" | wc -l)" ] || return 1
    printf '%s\n' "$1" >"$SA_TMP/lc_got"
    printf '%s\n' "$2" | paste -d ' ' - "$SA_TMP/lc_got" |
        awk '{ n = NF / 2; for (i = 1; i <= n; i++) {
                   w = $i; g = $(i + n); gsub(/\*/, "[0-9]+", w)
                   if (g !~ ("^" w "$")) bad = 1 } }
             END { exit bad }'
}

# lc_lost_any NUMBERS: some process lost something definitely or indirectly.
lc_lost_any() {
    printf '%s\n' "$1" | awk '{ split($1, d, "/"); split($2, i, "/"); if (d[1] + i[1] > 0) f = 1 } END { exit !f }'
}

# lc_compare TAG WANT_MEMCHECK WANT_CHECK CMD...: one binary, all three
# runs.  WANT_MEMCHECK: memcheck's numbers ("" = not checked; processes
# separated by newlines); WANT_CHECK: the check's when it differs from
# memcheck on purpose ("" = memcheck's).
lc_compare() {
    lc_tag=$1 lc_want=$2 lc_own=$3
    shift 3
    LC_RAN=$((LC_RAN + 1))
    lc_env_prepare
    sa_run_plain "$lc_tag.vg" sh "$LC_ENV_EXEC" "$SA_TMP/env.vg" valgrind --leak-check=full ${LC_VG_OPTS:-} "$@"
    grep -q 'ERROR SUMMARY' "$SA_TMP/$lc_tag.vg.err" || { sa_show "$lc_tag.vg"; lc_failed "$lc_tag: valgrind did not finish"; return 0; }
    lc_vg=$(lc_vg_numbers "$SA_TMP/$lc_tag.vg.err")
    # memcheck's scan is conservative too: a value that happens to point
    # into a lost block (a register or stack word whose value depends on
    # the address layout) makes it "possibly lost" in that one run (seen
    # once in CI: three_helpers' 1 MiB block).  A run that disagrees with
    # the program's documented answer is repeated, twice at most; the
    # check is then compared with the run that agrees.
    lc_try=0
    while [ -n "$lc_want" ] && ! lc_match "$lc_vg" "$lc_want" && [ $lc_try -lt 2 ]; do
        lc_try=$((lc_try + 1))
        echo "$SA_NAME: $lc_tag: memcheck said '$(echo $lc_vg)', not the documented answer: run again"
        sa_run_plain "$lc_tag.vg" sh "$LC_ENV_EXEC" "$SA_TMP/env.vg" valgrind --leak-check=full ${LC_VG_OPTS:-} "$@"
        lc_vg=$(lc_vg_numbers "$SA_TMP/$lc_tag.vg.err")
    done
    if [ -n "$lc_want" ] && ! lc_match "$lc_vg" "$lc_want"; then
        lc_failed "$lc_tag: CORPUS: memcheck says '$lc_vg', the case documents '$lc_want'"
    fi
    # One directory for every run: its name is in the environment.
    rm -rf "$LC_CHECK_DIR"
    mkdir -p "$LC_CHECK_DIR"
    sa_run_plain "$lc_tag" sh "$LC_ENV_EXEC" "$SA_TMP/env.check" "$@"
    rm -rf "$SA_TMP/$lc_tag.d"   # a case may run twice (heuristics.sh)
    mv "$LC_CHECK_DIR" "$SA_TMP/$lc_tag.d"
    lc_rc=$(sa_status "$lc_tag")
    lc_sa=$(lc_sa_numbers "$SA_TMP/$lc_tag.d")
    lc_ref=${lc_own:-$lc_vg}
    if [ -z "$lc_sa" ]; then
        lc_failed "$lc_tag: the check wrote no complete set (status $lc_rc); memcheck: '$lc_vg'"
    elif ! lc_match "$lc_sa" "$lc_ref"; then
        lc_failed "$lc_tag: check '$(echo $lc_sa)' vs ${lc_own:+documented }memcheck '$(echo $lc_ref)' (def ind pos, bytes/blocks)"
    fi
    # What memcheck's heuristics reached, heuristic by heuristic.
    lc_vgh=$(lc_vg_heuristics "$SA_TMP/$lc_tag.vg.err")
    lc_sah=$(lc_sa_heuristics "$SA_TMP/$lc_tag.d")
    [ -z "$lc_sa" ] || [ "$lc_vgh" = "$lc_sah" ] ||
        lc_failed "$lc_tag: reachable via heuristic: check '$(echo $lc_sah)' vs memcheck '$(echo $lc_vgh)'"
    [ "$(sa_status "$lc_tag.vg")" = 0 ] || lc_failed "$lc_tag: CORPUS: exit status $(sa_status "$lc_tag.vg") under memcheck"
    [ "$lc_rc" = "$(sa_status "$lc_tag.vg")" ] ||
        lc_failed "$lc_tag: exit status $lc_rc under the check, $(sa_status "$lc_tag.vg") under memcheck"
    # The wrapper: 23 exactly when memcheck finds a definite or indirect loss.
    lc_status_want=$(sa_status "$lc_tag.vg")
    ! lc_lost_any "${lc_own:-$lc_vg}" || lc_status_want=23
    sa_run_plain "$lc_tag.cmd" "$SNAPALLOC_CMD" check -- "$@"
    [ "$(sa_status "$lc_tag.cmd")" = "$lc_status_want" ] ||
        lc_failed "$lc_tag: snapalloc check exited $(sa_status "$lc_tag.cmd"), expected $lc_status_want"
    echo "$SA_NAME: $lc_tag: memcheck '$(echo $lc_vg)' heuristics '$(echo $lc_vgh)', check '$(echo $lc_sa)' heuristics '$(echo $lc_sah)'"
}

# lc_case NAME WANT_O0 WANT_O2 [CHECK_O0 CHECK_O2]: a corpus program at
# both levels; WANT_* is memcheck's documented answer ("DEF IND POS", each
# BYTES/BLOCKS, a line per process), CHECK_* the check's where it differs
# on purpose.
lc_case() {
    lc_selected "$1" || return 0
    for lc_level in ${LEAK_LEVELS:-O0 O2}; do
        case $lc_level in
            O0) lc_w=$2 lc_o=${4:-} ;;
            *) lc_w=$3 lc_o=${5:-} ;;
        esac
        lc_bin=$LC_BIN/$1_$lc_level
        [ -x "$lc_bin" ] || sa_fail "$lc_bin is missing (make check builds the corpus)"
        lc_compare "$1_$lc_level" "$lc_w" "$lc_o" "$lc_bin" "$LC_BIN/dl_lib.so"
    done
}

# lc_done: pass, or fail with the table of mismatches.
lc_done() {
    [ "$LC_RAN" -gt 0 ] || sa_skip "no case selected (LEAK_CASES=${LEAK_CASES:-})"
    if [ -s "$LC_FAILS" ]; then
        echo "--- $SA_NAME: $(wc -l <"$LC_FAILS") of $LC_RAN runs differ ---" >&2
        cat "$LC_FAILS" >&2
        sa_fail "$(wc -l <"$LC_FAILS") mismatches"
    fi
    sa_pass
}
