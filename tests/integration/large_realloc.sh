#!/bin/sh
# large_realloc.sh - threads malloc, realloc (growing and shrinking, so
# blocks shrink in place, grow by mremap, move, and take over cached
# blocks) and free private 64-320 KiB blocks, then free every one.  The
# contents must survive every realloc, and at exit no large block may be
# left in use: a page-map entry cleared after its range was unmapped used
# to unregister another thread's new block there, whose free() was then
# ignored (a leak) and whose realloc() copied one page.  Several runs: the
# race needs the threads to meet.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init large_realloc
prog=$(sa_helper large_realloc)

sa_run_plain glibc "$prog" 4 2000
sa_expect_status glibc 0
sa_expect_stdout glibc ok

sa_run_plain usage "$prog" 4
sa_expect_status usage 2
grep -q '^usage: large_realloc THREADS' "$(sa_err usage)" || sa_fail "no usage line for a missing argument"

for run in 1 2 3; do
    for threads in 4 8; do
        tag=t$threads-$run
        sa_run_preload "$tag" "$prog" "$threads" $((80000 / threads))
        sa_expect_status "$tag" 0
        sa_expect_stdout "$tag" ok
        sa_expect_malloc_calls "$tag" 1000
        for what in 'large blocks in use' 'bytes in large blocks'; do
            n=$(sa_stat "$tag" "$what")
            [ "$n" = 0 ] || { sa_show "$tag"; sa_fail "run '$tag': '# $what = $n' at exit, expected 0"; }
        done
    done
done
# Under the leak check: no block definitely lost (memcheck's verdict: all
# heap blocks were freed).
: "${SNAPALLOC_CMD:?SNAPALLOC_CMD is not set (run the tests through make check)}"
sa_run_plain check "$SNAPALLOC_CMD" check -- "$prog" 4 20000
sa_expect_status check 0
sa_expect_stdout check ok
grep -q '^definitely lost: 0 bytes in 0 blocks$' "$(sa_err check)" ||
    { sa_show check; sa_fail "the leak check found blocks definitely lost"; }
sa_pass
