#!/bin/sh
# debug.sh - debug mode (SNAPALLOC_DEBUG) on the defect corpus
# (tests/debug/defects.c, defects_cxx.cc), each built at -O0 and -O2: one
# report a defect, with its kind, the block's size and API, the offset of
# the first bad byte, and the lines of the allocating, freeing and
# detecting calls (the ALLOC:, FREE:, DETECT: markers in the sources), as
# `snapalloc run --debug=report` symbolizes them; SNAPALLOC_DEBUG=1 aborts
# at the first report.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init debug
corpus=$top_srcdir/tests/debug

for level in O0 O2; do
    sa_build "$SA_TMP/defects_$level" "$corpus/defects.c" "$level" -pthread -ldl
    sa_build "$SA_TMP/defects_cxx_$level" "$corpus/defects_cxx.cc" "$level"
done

# line_of FILE MARKER: the line of MARKER in the corpus source FILE;
# frame_line TAG SECTION FILE: lib.sh's sa_report_frame_line.
line_of() { sa_marker_line "$corpus/$1" "$2"; }
frame_line() { sa_report_frame_line "$@"; }

# expect TAG FILE KIND BLOCK OFFSET ALLOC FREE DETECT: BLOCK is the rest
# of the block line after the address ("" for none), OFFSET "-" for none,
# ALLOC/FREE/DETECT markers or "-" (no such stack), DETECT "exit" for the
# exit check.
expect() {
    t=$1 file=$2 kind=$3 block=$4 off=$5 alloc=$6 free=$7 detect=$8
    err=$(sa_err "$t")
    n=$(grep -c '^snapalloc: debug: end of report$' "$err" || :)
    [ "$n" = 1 ] || { sa_defer_fail "$t: $n reports, expected 1"; return 0; }
    grep -q "^snapalloc: debug: $kind" "$err" || sa_defer_fail "$t: not a '$kind' report"
    grep -q "^snapalloc: debug: block 0x[0-9a-f]*$block\$" "$err" ||
        sa_defer_fail "$t: block line is not '0x...$block': $(grep 'debug: block' "$err")"
    if [ "$off" = - ]; then
        ! grep -q "first bad byte" "$err" || sa_defer_fail "$t: an offset where none is expected"
    else
        grep -q "^snapalloc: debug: first bad byte at offset $off: " "$err" ||
            sa_defer_fail "$t: first bad byte not at offset $off: $(grep 'bad byte' "$err")"
    fi
    for s in "allocated at:$alloc" "freed at:$free" "detected at:$detect"; do
        sec=${s%%:*} m=${s#*:}
        case $m in
            -) ! grep -q "^snapalloc: debug: $sec:" "$err" || sa_defer_fail "$t: an unexpected '$sec' stack" ;;
            exit) grep -q "^snapalloc: debug: detected at exit$" "$err" || sa_defer_fail "$t: not detected at exit" ;;
            *)
                want=$(line_of "$file" "$m")
                got=$(frame_line "$t" "$sec" "$file")
                [ "$got" = "$want" ] || sa_defer_fail "$t: '$sec' names $file:${got:-nothing}, expected $file:$want ($m)" ;;
        esac
    done
}

run() { # TAG PROG ARGS...
    t=$1; shift
    sa_cmd run --debug=report --no-exit-snapshot -o "$SA_TMP/out" -- "$@"
    cp "$SA_TMP/cmd.err" "$SA_TMP/$t.err"
    sa_expect_status cmd 0 "$t"
}

for level in O0 O2; do
    c=$SA_TMP/defects_$level x=$SA_TMP/defects_cxx_$level
    run overflow_$level "$c" overflow
    expect overflow_$level defects.c "buffer overflow" " of 10 bytes, allocated by malloc" 10 \
        ALLOC:overflow - DETECT:overflow
    run underflow_$level "$c" underflow 7
    expect underflow_$level defects.c "buffer underflow" " of 16 bytes, allocated by malloc" -1 \
        ALLOC:underflow - DETECT:underflow
    for off in 0 8 100; do
        run uaf${off}_$level "$c" uaf $off
        expect uaf${off}_$level defects.c "write after free" " of 200 bytes, allocated by malloc" $off \
            ALLOC:uaf FREE:uaf exit
    done
    # A 64 KiB block: its first and last KiB and 64 bytes of every 4 KiB
    # are checked (doc/debug.md).
    for off in 10 8200 65535; do
        run uafl${off}_$level "$c" uaf_large $off
        expect uafl${off}_$level defects.c "write after free" " of 65536 bytes, allocated by malloc" \
            $off ALLOC:uaf_large FREE:uaf_large exit
    done
    # A quarantine of one such block: the next free pushes it out and
    # finds the damage.
    SNAPALLOC_DEBUG_QUARANTINE=300
    export SNAPALLOC_DEBUG_QUARANTINE
    run uafq_$level "$c" uaf 8
    unset SNAPALLOC_DEBUG_QUARANTINE
    expect uafq_$level defects.c "write after free" " of 200 bytes, allocated by malloc" 8 \
        ALLOC:uaf FREE:uaf FREE:uaf
    run double_$level "$c" double
    expect double_$level defects.c "double free" " of 40 bytes, allocated by malloc, released by free()" - \
        ALLOC:double FREE:double DETECT:double
    run invalid_$level "$c" invalid
    expect invalid_$level defects.c "invalid free" ", released by free()" - - - DETECT:invalid
    run exit_$level "$c" exit abcdef
    expect exit_$level defects.c "buffer overflow" " of 6 bytes, allocated by malloc" 6 ALLOC:exit - exit
    run api_$level "$c" api
    expect api_$level defects.c "buffer overflow" " of 48 bytes, allocated by malloc" 48 \
        ALLOC:api - DETECT:api
    run thread_$level "$c" thread 0123456789
    expect thread_$level defects.c "buffer overflow" " of 10 bytes, allocated by malloc" 10 \
        ALLOC:thread - DETECT:thread
    # Another thread's free: its quarantine outlives it, and a double free
    # finds the block in it while it runs.
    run thread_uaf_$level "$c" thread_uaf 0123456789
    expect thread_uaf_$level defects.c "write after free" " of 64 bytes, allocated by malloc" 8 \
        ALLOC:thread_uaf FREE:thread_uaf exit
    # A worker fills the quarantine and ends: the main thread's later
    # frees push the worker's blocks out, not its own.
    SNAPALLOC_DEBUG_QUARANTINE=64K
    export SNAPALLOC_DEBUG_QUARANTINE
    run workers_uaf_$level "$c" workers_uaf 0123456789
    unset SNAPALLOC_DEBUG_QUARANTINE
    expect workers_uaf_$level defects.c "write after free" " of 64 bytes, allocated by malloc" 8 \
        ALLOC:workers_uaf FREE:workers_uaf exit
    run thread_double_$level "$c" thread_double 0123456789
    expect thread_double_$level defects.c "double free" \
        " of 64 bytes, allocated by malloc, released by free()" - \
        ALLOC:thread_double FREE:thread_double DETECT:thread_double
    run free_new_$level "$x" free_new 1,2
    expect free_new_$level defects_cxx.cc "mismatched release" \
        " of 8 bytes, allocated by operator new, released by free()" - ALLOC:free_new - DETECT:free_new
    run delete_array_$level "$x" delete_array
    expect delete_array_$level defects_cxx.cc "mismatched release" \
        " of 40 bytes, allocated by operator new\\[\\], released by operator delete" - \
        ALLOC:delete_array - DETECT:delete_array
    run array_malloc_$level "$x" array_malloc
    expect array_malloc_$level defects_cxx.cc "mismatched release" \
        " of 12 bytes, allocated by malloc, released by operator delete\\[\\]" - \
        ALLOC:array_malloc - DETECT:array_malloc
    # A clean run: no report.
    run clean_$level "$c" clean
    ! grep -q '^snapalloc: debug:' "$(sa_err clean_$level)" || sa_defer_fail "clean_$level: a report"
done

# SNAPALLOC_DEBUG=1 aborts at the first report (SIGABRT); the raw report
# names the module and offset of each frame.
sa_run_preload_nostats abort env SNAPALLOC_DEBUG=1 "$SA_TMP/defects_O0" overflow
sa_expect_status abort 134
sa_expect_err_line abort 'snapalloc: debug: buffer overflow .*' "the raw report"
sa_expect_err_line abort "snapalloc: debug:     #0 0x[0-9a-f]* $SA_TMP/defects_O0[+]0x[0-9a-f]*" "a raw frame"
[ "$(grep -c 'end of report' "$(sa_err abort)")" = 1 ] || sa_fail "abort: not one report"
# snapalloc run --debug: the same, symbolized; the status is the program's.
sa_cmd run --debug --no-exit-snapshot -o "$SA_TMP/out" -- "$SA_TMP/defects_O0" double
sa_expect_status cmd 134
sa_expect_err_line cmd 'snapalloc: debug: 1 report' "the count"
sa_pass
