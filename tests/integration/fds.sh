#!/bin/sh
# fds.sh - tracing and the leak check open no file descriptor the program
# can see: the set of open fds the program lists is the plain run's under
# SNAPALLOC_TRACE, `snapalloc run` and `snapalloc check`; a program that
# closes its fds and opens files on 3 and 4 keeps all its data while the
# unwinder learns new call sites (libunwind's validation pipe used to take
# those numbers); and a program that opened 120 files does not get the
# exit-time leak report written into one of them (a copy of stderr on fd
# 100 used to be held).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
SA_TIMEOUT=${SA_TIMEOUT:-60}   # a hang in a read inside libunwind fails
sa_init fds
PROG=$(sa_helper fds_prog)
CMD=${SNAPALLOC_CMD:?}

# 1. The same fds at every point of the program.
sa_run_plain plain "$PROG" list
sa_expect_status plain 0
grep -q '^end: 0 1 2' "$(sa_out plain)" || sa_fail "plain run listed: $(cat "$(sa_out plain)")"
same_fds() {
    sa_expect_status "$1" 0
    cmp -s "$(sa_out plain)" "$(sa_out "$1")" || {
        diff "$(sa_out plain)" "$(sa_out "$1")" >&2 || :
        sa_fail "run '$1' sees other fds than the plain run"
    }
}
sa_run_traced trace env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT="$SA_TMP/%e.%p.%n.snap" "$PROG" list
same_fds trace
sa_run_plain run env SNAPALLOC_LIB="$SNAPALLOC_LIB" "$CMD" run -o "$SA_SNAPS" -- "$PROG" list
same_fds run
sa_run_plain check env SNAPALLOC_LIB="$SNAPALLOC_LIB" "$CMD" check -- "$PROG" list
same_fds check

# 2. Files on fds 3 and 4 while libunwind validates addresses.
mkdir "$SA_TMP/reuse"
sa_run_traced reuse env SNAPALLOC_TRACE=32 SNAPALLOC_SNAPSHOT="$SA_TMP/%e.%p.%n.snap" "$PROG" reuse "$SA_TMP/reuse"
sa_expect_status reuse 0
[ "$(cat "$SA_TMP/reuse/a")" = data-a ] || sa_fail "fd 3's file holds '$(cat "$SA_TMP/reuse/a")', expected data-a"
[ "$(cat "$SA_TMP/reuse/b")" = data-b ] || sa_fail "fd 4's file holds '$(cat "$SA_TMP/reuse/b")', expected data-b"

# 3. 120 open files and a leak report at exit, in process and by the command.
many_files_intact() {
    i=0
    while [ $i -lt 120 ]; do
        [ "$(cat "$1/f$i")" = "file $i" ] || sa_fail "$2: f$i holds '$(head -c 200 "$1/f$i")', expected 'file $i'"
        i=$((i + 1))
    done
}
mkdir "$SA_TMP/many"
sa_run_preload_nostats many env PATH="$(dirname "$CMD"):$PATH" SNAPALLOC_CHECK=1 "$PROG" many "$SA_TMP/many" 120
sa_expect_status many 23
many_files_intact "$SA_TMP/many" "SNAPALLOC_CHECK=1"
grep -q 'definitely lost: 1,*060 bytes in 1 blocks' "$(sa_err many)" || { sa_show many; sa_fail "SNAPALLOC_CHECK=1: no leak report on stderr"; }
mkdir "$SA_TMP/many2"
sa_run_plain many2 env SNAPALLOC_LIB="$SNAPALLOC_LIB" "$CMD" check -- "$PROG" many "$SA_TMP/many2" 120
sa_expect_status many2 23
many_files_intact "$SA_TMP/many2" "snapalloc check"
grep -q 'definitely lost: 1,*060 bytes in 1 blocks' "$(sa_err many2)" || { sa_show many2; sa_fail "snapalloc check: no leak report on stderr"; }
sa_pass
