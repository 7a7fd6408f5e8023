#!/bin/sh
# run_one.sh - run some cases of the leak corpus from a build tree, e.g.
#     sh tests/leak/run_one.sh callee_lost cycle2
#     LEAK_LEVELS=O2 sh tests/leak/run_one.sh python3
# prints memcheck's and the check's numbers for each and the mismatches.
# The build tree is $top_builddir (default: _build next to this checkout);
# run `make check` (or at least `make tests/leak/corpus.stamp`) there first.
set -eu
[ $# -gt 0 ] || { echo "usage: run_one.sh CASE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$(dirname "$here")")}"
: "${top_builddir:=$top_srcdir/_build}"
: "${SNAPALLOC_LIB:=$top_builddir/.libs/libsnapalloc.so}"
: "${SNAPALLOC_CMD:=$top_builddir/snapalloc}"
export top_srcdir top_builddir SNAPALLOC_LIB SNAPALLOC_CMD
LEAK_CASES="$*"
export LEAK_CASES
status=0
for script in corpus1 corpus2 corpus3 corpus4 real1 real2; do
    for c in "$@"; do
        # a script holds the case when it names it (mc_case NAME / mc_selected NAME)
        if grep -Eq "(mc_case|mc_selected) $c( |;|\$)" "$here/$script.sh"; then
            sh "$here/$script.sh" || status=1
            break
        fi
    done
done
exit $status
