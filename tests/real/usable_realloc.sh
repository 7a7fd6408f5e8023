#!/bin/sh
# usable_realloc.sh - the bytes past the requested size that
# malloc_usable_size hands to the program are the program's: realloc keeps
# them plain, preloaded, under tracing and under `snapalloc check` (whose
# clearing of unwritten memory once destroyed them, and with them redis's
# configuration: see redis.sh).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init usable_realloc
prog=$(sa_helper tests/real/usable_realloc)

sa_run_plain plain "$prog"
sa_expect_status plain 0
sa_run_preload_nostats preload "$prog"
sa_expect_status preload 0
sa_same_stdout plain preload
sa_run_traced trace env SNAPALLOC_TRACE=32 "$prog"
sa_expect_status trace 0
sa_same_stdout plain trace
mkdir "$SA_TMP/check"
sa_run_plain check "$SNAPALLOC_CMD" check -o "$SA_TMP/check" -- "$prog"
sa_same_stdout plain check
sa_expect_status check 0
sa_expect_eq "$(grep -c 'kept all usable bytes' "$(sa_out check)")" 8 "not 8 block sizes checked"
sa_pass
