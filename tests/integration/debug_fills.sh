#!/bin/sh
# debug_fills.sh - debug mode's bytes (tests/debug/fills.c, at -O0 and
# -O2): new blocks 0xCD, calloc blocks zero (also on pages a freed block
# filled with 0xDD before it left a small quarantine), realloc keeping the
# contents and filling the rest with 0xCD, from 1 byte to 3 MiB, with no
# report; and realloc moving even a shrinking block, so that a write
# through the old pointer is reported as a write after free.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init debug_fills

for level in O0 O2; do
    prog=$SA_TMP/fills_$level
    sa_build "$prog" "$top_srcdir/tests/debug/fills.c" "$level"
    sa_run_preload_nostats fills_$level env SNAPALLOC_DEBUG=1 SNAPALLOC_DEBUG_QUARANTINE=64K "$prog"
    sa_expect_status fills_$level 0
    sa_expect_stdout fills_$level ok
    ! grep -q '^snapalloc: debug' "$(sa_err fills_$level)" || sa_fail "fills_$level: a debug mode report"

    sa_run_preload_nostats stale_$level env SNAPALLOC_DEBUG=report "$prog" stale
    sa_expect_status stale_$level 0
    err=$(sa_err stale_$level)
    n=$(grep -c '^snapalloc: debug: end of report$' "$err" || :)
    [ "$n" = 1 ] || { sa_show stale_$level; sa_fail "stale_$level: $n reports, expected 1"; }
    grep -q 'write after free' "$err" || { sa_show stale_$level; sa_fail "stale_$level: not a write after free"; }
    grep -q 'block 0x[0-9a-f]* of 64 bytes, allocated by malloc$' "$err" || { sa_show stale_$level; sa_fail "stale_$level: not the 64-byte block"; }
    grep -q 'first bad byte at offset 5: 0x73$' "$err" || { sa_show stale_$level; sa_fail "stale_$level: not the byte at offset 5"; }
    sa_expect_stdout stale_$level xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
done
sa_pass
