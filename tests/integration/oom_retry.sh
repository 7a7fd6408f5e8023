#!/bin/sh
# oom_retry.sh - under ulimit -v, a program frees 200 MiB of small blocks
# and then asks for 250 MiB (malloc, calloc, a realloc growing a 1 MiB
# block): the free arenas that still hold address space (waiting for
# their decay, or the spare) must be given back when the mapping fails,
# and the request tried once more, as glibc serves it from the heap it
# just freed; no malloc_trim is called.  With the small blocks kept, the
# same requests fail with ENOMEM, and that is all.  And 64 TiB requests
# fail with ENOMEM, as the kernel's overcommit policy refuses them.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init oom_retry
prog=$(sa_helper oom_retry)
# 439 MiB: the small blocks' arenas (~230 MiB) and the big block do not
# fit together; the big block and the program do.
limit=450000
expected='malloc ok
calloc ok
realloc ok'
refused='malloc failed: ENOMEM
calloc failed: ENOMEM
realloc failed: ENOMEM'

sa_run_plain usage "$prog" 200
sa_expect_status usage 2

( ulimit -v $limit && sa_run_plain glibc "$prog" 200 250 ) || sa_skip "ulimit -v is not available"
sa_expect_status glibc 0
sa_expect_stdout glibc "$expected"

( ulimit -v $limit && sa_run_preload freed "$prog" 200 250 )
sa_expect_status freed 0
sa_expect_stdout freed "$expected"
sa_expect_malloc_calls freed 1000000

( ulimit -v $limit && sa_run_preload kept "$prog" keep:200 250 )
sa_expect_status kept 0
sa_expect_stdout kept "$refused"
# 64 TiB: refused with ENOMEM unless the kernel grants any size
# (vm.overcommit_memory = 1), as glibc's request is.
if [ "$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)" != 1 ]; then
    sa_run_plain huge-glibc "$prog" huge
    sa_expect_stdout huge-glibc "$refused"
    sa_run_preload huge "$prog" huge
    sa_expect_status huge 0
    sa_expect_stdout huge "$refused"
    # Refused before the page map describes 64 TiB (it mapped 174 GB of
    # leaves for the realloc): one or two leaves of 20 MiB.
    pm=$(sa_stat huge "page map address space")
    [ -n "$pm" ] && [ "$pm" -le $((64 << 20)) ] ||
        { sa_show huge; sa_fail "page map address space '$pm' after the refused requests"; }
fi
sa_pass
