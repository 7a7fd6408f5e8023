# leak_lib.sh - helpers of the leak checker's integration tests (leak_*.sh),
# on top of lib.sh: run a program under the preload with the leak check on,
# read the class files back with snapdump, and run valgrind memcheck on the
# same program for the numbers to compare with.

# lk_init NAME: lib.sh's sa_init plus the helper programs.
lk_init() {
    sa_init "$1"
    LK_PROG=$(sa_helper leak_prog)
    LK_DUMP=$(sa_helper snapdump)
    unset SNAPALLOC_CHECK SNAPALLOC_CHECK_DIR SNAPALLOC_CHECK_WARMUP \
        SNAPALLOC_CHECK_OPTIONS || :
}

# lk_run TAG CMD...: run CMD preloaded with SNAPALLOC_CHECK=1 and its files
# in $SA_TMP/TAG.d; fails unless exactly one complete set was written.
lk_run() {
    lk_tag=$1; shift
    mkdir -p "$SA_TMP/$lk_tag.d"
    sa_run_preload_nostats "$lk_tag" env SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_DIR="$SA_TMP/$lk_tag.d" "$@"
    lk_n=$(ls "$SA_TMP/$lk_tag.d" | grep -c '\.done$' || :)
    [ "$lk_n" = 1 ] || { sa_show "$lk_tag"; sa_fail "run '$lk_tag' wrote $lk_n complete check sets, expected 1: $(ls "$SA_TMP/$lk_tag.d")"; }
    LK_PID=$(ls "$SA_TMP/$lk_tag.d" | sed -n 's/^\([0-9]*\)\.done$/\1/p')
    for lk_c in exit definite indirect possible reachable; do
        lk_f=$SA_TMP/$lk_tag.d/$LK_PID.$lk_c.snap
        "$LK_DUMP" "$lk_f" >"$lk_f.txt" 2>"$lk_f.err" || {
            cat "$lk_f.err" >&2
            sa_fail "run '$lk_tag': $LK_PID.$lk_c.snap does not read back"
        }
    done
}

# lk_class TAG CLASS: "BYTES BLOCKS" of a class file of run TAG.
lk_class() {
    sed -n '1s/.* size=\([0-9]*\) count=\([0-9]*\)$/\1 \2/p' "$SA_TMP/$1.d/$LK_PID.$2.snap.txt"
}

# lk_header TAG FILE KEY: a header field of one of run TAG's files.
lk_header() {
    sed -n "1s/.* $3=\\([0-9]*\\).*/\\1/p" "$SA_TMP/$1.d/$LK_PID.$2.snap.txt"
}

# lk_expect TAG CLASS "BYTES BLOCKS"
lk_expect() {
    lk_got=$(lk_class "$1" "$2")
    if [ "$lk_got" != "$3" ]; then
        head -n 30 "$SA_TMP/$1.d/$LK_PID.$2.snap.txt" >&2
        sa_fail "run '$1': $2 is '$lk_got', expected '$3' (bytes blocks)"
    fi
}

# lk_valgrind TAG CMD...: run CMD under valgrind memcheck (no preload);
# LK_VG_<class> = "BYTES BLOCKS" for definite, indirect, possible.
lk_valgrind() {
    lk_tag=$1; shift
    sa_run_plain "$lk_tag.vg" valgrind --leak-check=full --show-leak-kinds=all "$@"
    lk_vg=$SA_TMP/$lk_tag.vg.err
    grep -q 'ERROR SUMMARY' "$lk_vg" || { sa_show "$lk_tag.vg"; sa_fail "valgrind did not finish on run '$lk_tag'"; }
    LK_VG_definite=$(lk_vg_line "$lk_vg" 'definitely lost')
    LK_VG_indirect=$(lk_vg_line "$lk_vg" 'indirectly lost')
    LK_VG_possible=$(lk_vg_line "$lk_vg" 'possibly lost')
}

# lk_vg_line FILE WHAT: "BYTES BLOCKS" of valgrind's "WHAT: X bytes in Y
# blocks" summary line; "0 0" when valgrind printed no summary ("All heap
# blocks were freed").
lk_vg_line() {
    lk_l=$(sed -n "s/.*$2: \\([0-9,]*\\) bytes in \\([0-9,]*\\) blocks.*/\\1 \\2/p" "$1" | tr -d ,)
    printf '%s\n' "${lk_l:-0 0}"
}

# lk_same_as_valgrind TAG: definite, indirect and possible of run TAG equal
# valgrind's (lk_valgrind TAG first).
lk_same_as_valgrind() {
    for lk_c in definite indirect possible; do
        eval "lk_want=\$LK_VG_$lk_c"
        lk_got=$(lk_class "$1" "$lk_c")
        [ "$lk_got" = "$lk_want" ] || sa_fail "run '$1': $lk_c is '$lk_got', valgrind says '$lk_want' (bytes blocks)"
    done
    echo "$SA_NAME: $1: definite $(lk_class "$1" definite), indirect $(lk_class "$1" indirect), possible $(lk_class "$1" possible): as valgrind"
}
