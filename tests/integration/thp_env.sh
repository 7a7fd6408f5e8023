#!/bin/sh
# thp_env.sh - SNAPALLOC_THP: "1" maps the arenas 2 MiB-aligned and marked
# MADV_HUGEPAGE (the "hg" flag in /proc/self/smaps); unset or "0" leaves
# them unmarked; garbage gives exactly one warning line and changes nothing
# else.  The program's output is the same in every case.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init thp_env
prog=$(sa_helper thp_prog)
[ -d /sys/kernel/mm/transparent_hugepage ] || sa_skip "this kernel has no transparent huge pages"

sa_run_plain plain "$prog"
sa_expect_status plain 0
sum=$(grep '^checksum ' "$(sa_out plain)")

sa_run_preload_nostats off "$prog"
sa_expect_status off 0
grep -qx 'hugepage-advised no' "$(sa_out off)" || sa_fail "arenas marked MADV_HUGEPAGE without SNAPALLOC_THP"

for v in 1 0; do
    sa_run_preload_nostats "v$v" env SNAPALLOC_THP=$v "$prog"
    sa_expect_status "v$v" 0
    [ ! -s "$(sa_err "v$v")" ] || { sa_show "v$v"; sa_fail "SNAPALLOC_THP=$v printed something"; }
    grep -qx "$sum" "$(sa_out "v$v")" || sa_fail "SNAPALLOC_THP=$v changed the program's output"
done
grep -qx 'hugepage-advised yes' "$(sa_out v1)" || sa_fail "SNAPALLOC_THP=1: the arena is not marked MADV_HUGEPAGE"
grep -qx 'aligned yes' "$(sa_out v1)" || sa_fail "SNAPALLOC_THP=1: the arena mapping is not 2 MiB-aligned"
grep -qx 'hugepage-advised no' "$(sa_out v0)" || sa_fail "SNAPALLOC_THP=0 marked the arenas"

i=0
for bad in yes 2 -1 '1 ' 'x
y' "$(printf 'a%.0s' $(seq 1 200))"; do
    i=$((i + 1))
    sa_run_preload_nostats "bad$i" env SNAPALLOC_THP="$bad" "$prog"
    sa_expect_status "bad$i" 0
    grep -qx "$sum" "$(sa_out "bad$i")" || sa_fail "SNAPALLOC_THP='$bad' changed the program's output"
    grep -qx 'hugepage-advised no' "$(sa_out "bad$i")" || sa_fail "SNAPALLOC_THP='$bad' turned huge pages on"
    err=$(sa_err "bad$i")
    [ "$(grep -c '' "$err")" = 1 ] || { sa_show "bad$i"; sa_fail "SNAPALLOC_THP='$bad': expected one warning line"; }
    grep -q '^snapalloc: SNAPALLOC_THP=".*": expected 0 or 1; huge pages stay off$' "$err" ||
        sa_fail "unexpected warning for SNAPALLOC_THP='$bad': $(cat "$err")"
done
sa_pass
