#!/bin/sh
# leak_sigblock.sh - a thread that blocks every signal is stopped and
# scanned all the same: the block it holds only in its stack or registers
# is still reachable, and the definite and indirect numbers are memcheck's
# on the same binary, at -O0 and -O2; no warning is printed.  (Possible is
# not compared: memcheck calls the running thread's DTV possibly lost, an
# interior pointer from its descriptor, where leak_roots.c makes the
# loader's blocks roots; our possible must be 0.)
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
sa_init leak_sigblock
sa_need_program valgrind
for opt in O0 O2; do
    prog=$(sa_helper leak_sigblock_$opt)
    sa_run_checked $opt "$prog"
    sa_expect_status $opt 0
    [ ! -s "$(sa_err $opt)" ] || { sa_show $opt; sa_fail "run '$opt' wrote to stderr"; }
    grep -q '^stack size=4242 count=1 ' "$SA_TMP/$opt.d/$SA_CHECK_PID.reachable.snap.txt" || {
        head -n 20 "$SA_TMP/$opt.d/$SA_CHECK_PID.reachable.snap.txt" >&2
        sa_fail "run '$opt': the worker's 4242-byte block is not still reachable"
    }
    mc_valgrind $opt "$prog"
    for c in definite indirect; do
        eval "want=\$MC_VG_$c"
        sa_expect_check_class $opt $c "$want"
    done
    sa_expect_check_class $opt possible "0 0"
done
sa_pass
