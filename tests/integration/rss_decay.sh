#!/bin/sh
# rss_decay.sh - a program that freed 1,000,000 small blocks and goes on
# with steady small malloc/free work (served by its thread cache and one
# pool: no pool is returned) gets the memory back: dirty pages and free
# arenas decay about a second after they were freed, asked from the
# thread cache's slow paths.  The program stops as soon as at most a
# quarter of what its blocks added to the resident set is left; the
# bound of 20 seconds is generous (not a timing assertion: it took ~1 s).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init rss_decay
prog=$(sa_helper rss_decay)

sa_run_plain usage "$prog"
sa_expect_status usage 2

sa_run_preload snapalloc "$prog" 20
if [ "$(sa_status snapalloc)" != 0 ]; then
    sa_show snapalloc
    sa_fail "the resident set did not come back within 20 s"
fi
sa_expect_stdout snapalloc returned
sa_expect_malloc_calls snapalloc 1000000
reclaimed=$(sa_stat snapalloc "arenas reclaimed")
[ "${reclaimed:-0}" -ge 400 ] || { sa_show snapalloc; sa_fail "only '${reclaimed}' arenas were unmapped, expected 400 or more of ~530"; }
sa_pass
