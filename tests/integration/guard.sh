#!/bin/sh
# guard.sh - guard pages (SNAPALLOC_GUARD) on their defect corpus
# (tests/debug/guard.c), built at -O0 and -O2, under SNAPALLOC_GUARD=all
# (every allocation guarded while the pool has room, so the defect's block
# is guarded for certain): one report per defect, with its kind, the
# block's size and API, the offset of the faulting address (or of the
# first damaged byte), and the lines of the allocating, freeing and
# faulting (or detecting) calls -- the ALLOC:, FREE:, ACCESS:, DETECT:
# markers -- as `snapalloc run --guard` symbolizes them; a fault ends the
# program with SIGSEGV, damage found at free() with SIGABRT.  Then the
# raw report without the command, the rate (one malloc in N, per size)
# and the bound on guarded blocks a second, and the variables' bad values.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init guard
corpus=$top_srcdir/tests/debug

for level in O0 O2; do
    sa_build "$SA_TMP/guard_$level" "$corpus/guard.c" "$level" -pthread
done

# line_of FILE MARKER: the line of MARKER in the corpus source FILE;
# frame_line TAG SECTION FILE: lib.sh's sa_report_frame_line.
line_of() { sa_marker_line "$corpus/$1" "$2"; }
frame_line() { sa_report_frame_line "$@"; }

# expect TAG KIND BLOCK OFFSET ALLOC FREE ACCESS DETECT: KIND the start
# of the first line, BLOCK the rest of the block line after the address,
# OFFSET the faulting address's ("-" for damage found at free, then
# DAMAGE is its first bad byte's), markers or "-" for no such stack.
expect() {
    t=$1 kind=$2 block=$3 off=$4 alloc=$5 free=$6 access=$7 detect=$8
    err=$(sa_err "$t")
    n=$(grep -c '^snapalloc: debug: end of report$' "$err" || :)
    [ "$n" = 1 ] || { sa_defer_fail "$t: $n reports, expected 1"; return 0; }
    grep -q "^snapalloc: debug: $kind.* (guard pages)\$" "$err" || sa_defer_fail "$t: not a '$kind' report"
    grep -q "^snapalloc: debug: block 0x[0-9a-f]*$block\$" "$err" ||
        sa_defer_fail "$t: block line is not '0x...$block': $(grep 'debug: block' "$err")"
    case $off in
        -) ;;
        damage=*) grep -q "^snapalloc: debug: first bad byte at offset ${off#damage=}: " "$err" ||
               sa_defer_fail "$t: first bad byte not at offset ${off#damage=}" ;;
        *) grep -q "^snapalloc: debug: faulting address 0x[0-9a-f]* at offset $off\$" "$err" ||
               sa_defer_fail "$t: faulting address not at offset $off: $(grep 'faulting' "$err")" ;;
    esac
    for s in "allocated at:$alloc" "freed at:$free" "accessed at:$access" "detected at:$detect"; do
        sec=${s%%:*} m=${s#*:}
        case $m in
            -) ! grep -q "^snapalloc: debug: $sec:" "$err" || sa_defer_fail "$t: an unexpected '$sec' stack" ;;
            *)
                want=$(line_of guard.c "$m")
                got=$(frame_line "$t" "$sec" guard.c)
                [ "$got" = "$want" ] || sa_defer_fail "$t: '$sec' names guard.c:${got:-nothing}, expected guard.c:$want ($m)" ;;
        esac
    done
}

run() { # TAG STATUS PROG ARGS...
    t=$1 st=$2; shift 2
    sa_cmd run --guard=all --no-exit-snapshot -o "$SA_TMP/out" -- "$@"
    cp "$SA_TMP/cmd.err" "$SA_TMP/$t.err"
    cp "$SA_TMP/cmd.rc" "$SA_TMP/$t.rc"
    cp "$SA_TMP/cmd.out" "$SA_TMP/$t.out"
    sa_expect_status "$t" "$st"
}

for level in O0 O2; do
    g=$SA_TMP/guard_$level
    run uaf_read_$level 139 "$g" uaf_read
    expect uaf_read_$level "use after free: a read of the freed block" \
        " of 200 bytes, allocated by malloc" 16 ALLOC:uaf FREE:uaf ACCESS:uaf_read -
    run uaf_write_$level 139 "$g" uaf_write
    expect uaf_write_$level "use after free: a write to the freed block" \
        " of 200 bytes, allocated by malloc" 16 ALLOC:uaf FREE:uaf ACCESS:uaf_write -
    run overflow_$level 139 "$g" overflow
    expect overflow_$level "buffer overflow: a read past the block's end" \
        " of 32 bytes, allocated by malloc" 32 ALLOC:overflow - ACCESS:overflow -
    run slack_$level 134 "$g" slack
    expect slack_$level "buffer overflow: the bytes between the block's end and its guard page were overwritten" \
        " of 10 bytes, allocated by malloc" damage=10 ALLOC:slack DETECT:slack - DETECT:slack
    run double_$level 134 "$g" double
    expect double_$level "double free: the block is already free" \
        " of 40 bytes, allocated by malloc" - ALLOC:double FREE:double - DETECT:double
    run thread_$level 139 "$g" thread
    expect thread_$level "use after free: a read of the freed block" \
        " of 12 bytes, allocated by malloc" 3 ALLOC:thread FREE:thread ACCESS:thread -
    # Left-aligned blocks catch the underflow at the write; right-aligned
    # ones do not see it (the byte before the block is in its page).
    SNAPALLOC_GUARD_UNDERFLOW=1
    export SNAPALLOC_GUARD_UNDERFLOW
    run underflow_$level 139 "$g" underflow 7
    unset SNAPALLOC_GUARD_UNDERFLOW
    expect underflow_$level "buffer underflow: a write before the block's start" \
        " of 16 bytes, allocated by malloc" -1 ALLOC:underflow - ACCESS:underflow -
    run underflow_right_$level 0 "$g" underflow 7
    ! grep -q '^snapalloc: debug:' "$(sa_err underflow_right_$level)" ||
        sa_defer_fail "underflow_right_$level: a report"
    # Correct use: no report; guarded blocks have the requested usable size.
    run clean_$level 0 "$g" clean
    ! grep -q '^snapalloc: debug:' "$(sa_err clean_$level)" || sa_defer_fail "clean_$level: a report"
    sa_expect_stdout clean_$level "usable 13
hello, world 3000
hell
calloc sum 0
aligned 0"
done

# Without the command: the raw report on stderr (module+offset frames),
# the program killed by SIGSEGV.
sa_run_preload_nostats raw env SNAPALLOC_GUARD=all "$SA_TMP/guard_O0" uaf_read
sa_expect_status raw 139
sa_expect_err_line raw 'snapalloc: debug: use after free: a read of the freed block \(guard pages\)' "the raw report"
sa_expect_err_line raw "snapalloc: debug:     #0 0x[0-9a-f]* $SA_TMP/guard_O0[+]0x[0-9a-f]*" "a raw frame"
# Guard pages off (unset, 0, off): the read after free goes unseen.
for v in unset 0 off; do
    if [ $v = unset ]; then
        sa_run_preload_nostats off_$v "$SA_TMP/guard_O0" uaf_read
    else
        sa_run_preload_nostats off_$v env SNAPALLOC_GUARD=$v "$SA_TMP/guard_O0" uaf_read
    fi
    sa_expect_status off_$v 0
    sa_expect_stderr off_$v ""
done

# The rate: one malloc in N, whatever its size.  200,000 mallocs in a
# fixed cycle of four sizes at N = 100: counts drawn from 1..199 renew
# 2000 times, standard deviation 26; each size's 500 within 6 of theirs
# (sqrt(500) = 22).  malloc spends a byte budget armed from the count
# (src/trace/budget.h); a budget armed for the whole count chose the
# 1000-byte blocks 25 times as often as the 40-byte ones.  Alone, and
# with sampled tracing on the same budget.
for cfg in "SNAPALLOC_GUARD=100 SNAPALLOC_GUARD_PER_SEC=0" "SNAPALLOC_GUARD=100 SNAPALLOC_GUARD_PER_SEC=0 SNAPALLOC_SAMPLE=64K SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT_AT_EXIT=0"; do
    sa_run_preload_nostats rate env $cfg "$SA_TMP/guard_O2" rate
    sa_expect_status rate 0 "$cfg"
    sa_expect_stderr rate ""
    set -- $(cat "$(sa_out rate)")
    [ "$1" = guarded ] && [ $# = 5 ] || sa_fail "$cfg: rate printed '$*'"
    shift
    total=$(($1 + $2 + $3 + $4))
    [ $total -ge 1850 ] && [ $total -le 2150 ] || sa_fail "$cfg: $total of 200000 mallocs guarded, expected 2000 +- 150 ($*)"
    for k in "$@"; do
        [ "$k" -ge 370 ] && [ "$k" -le 630 ] || sa_fail "$cfg: guarded per size $*, expected 500 +- 130 each"
    done
    echo "guard: $cfg: guarded per size: $*"
done

# The bound on guarded blocks a second: at SNAPALLOC_GUARD_PER_SEC=80,
# windows of 125 ms take 10 each, so 400 ms or more of mallocs at one in
# two get at least one whole window's 10 and at most 10 for each window
# they touch; without the bound (0), far more.
sa_run_preload_nostats bound env SNAPALLOC_GUARD=2 SNAPALLOC_GUARD_PER_SEC=80 "$SA_TMP/guard_O2" bound
sa_expect_status bound 0
sa_expect_stderr bound ""
set -- $(cat "$(sa_out bound)")
[ "$1" = guarded ] && [ $# = 7 ] || sa_fail "bound printed '$*'"
g=$2 ms=$6
[ "$g" -ge 10 ] && [ "$g" -le $((10 * (ms / 125 + 2))) ] ||
    sa_fail "$g blocks guarded in $ms ms at 80 a second (windows of 10 per 125 ms)"
echo "guard: bound: $*"
sa_run_preload_nostats unbound env SNAPALLOC_GUARD=2 SNAPALLOC_GUARD_PER_SEC=0 "$SA_TMP/guard_O2" bound
sa_expect_status unbound 0
set -- $(cat "$(sa_out unbound)")
[ "$2" -gt $((10 * ($6 / 125 + 2))) ] || sa_fail "without the bound only $2 blocks guarded in $6 ms"
echo "guard: no bound: $*"

# Bad values: one warning line each, and the safe default: a bad rate
# leaves guard pages off; a bad slot count or alignment, the default.
bad() { # TAG VAR VALUE WARNING STATUS [ENV...]
    t=$1 var=$2 val=$3 warn=$4 st=$5; shift 5
    sa_run_preload_nostats "$t" env "$@" "$var=$val" "$SA_TMP/guard_O0" uaf_read
    sa_expect_status "$t" "$st"
    line=$(head -n 1 "$(sa_err "$t")")
    [ "$line" = "snapalloc: $var=\"$val\": $warn" ] || sa_defer_fail "$t: warning is '$line'"
    [ "$(grep -c "^snapalloc: $var=" "$(sa_err "$t")")" = 1 ] || sa_defer_fail "$t: not one warning"
}
for v in '' yes -1 1.5 1073741825 5k; do
    bad rate_$v SNAPALLOC_GUARD "$v" \
        'expected 0, off, 1, on, all or a rate N from 2 to 1073741824; guard pages stay off' 0
done
for v in '' 0 4097 many; do
    bad slots_$v SNAPALLOC_GUARD_SLOTS "$v" 'not a number from 1 to 4096; using 256' 139 \
        SNAPALLOC_GUARD=all
done
for v in '' -1 1000001 fast; do
    bad per_sec_$v SNAPALLOC_GUARD_PER_SEC "$v" 'not a number from 0 to 1000000; using 1000' 139 \
        SNAPALLOC_GUARD=all
done
for v in '' 2 yes; do
    bad under_$v SNAPALLOC_GUARD_UNDERFLOW "$v" 'expected 0 or 1; using 0' 139 SNAPALLOC_GUARD=all
done
sa_pass
