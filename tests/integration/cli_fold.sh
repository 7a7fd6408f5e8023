#!/bin/sh
# cli_fold.sh - allocations made through libstdc++'s plumbing (make_shared,
# allocate_shared, vector push_back, string growth, map and unordered_map
# insert) are charged to the user's function and line, not to the
# library's helpers, for fold_cxx built at -O0 and at -O2: `show --by
# function` and `--by line` list exactly the six user functions with the
# bytes and blocks the program itself computes from its containers.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_fold
: "${SNAPALLOC_LIB:?SNAPALLOC_LIB is not set (run the tests through make check)}"
cd "$T"

check_build() { # PROGRAM
    prog=$BIN/$1
    [ -x "$prog" ] || fail "$prog is missing (make check builds it)"
    rm -rf "$T/o"
    sa run -o "$T/o" -- "$prog"
    expect_rc 0 "$1: run"
    snap=$(ls "$T"/o/*.snap)
    # The program's stdout went to $T/out: "function bytes blocks" lines.
    cp "$T/out" "$T/expected"
    [ "$(wc -l <"$T/expected")" -eq 6 ] || fail "$1: expected 6 lines of sizes"

    sa show --by function "$snap"
    expect_rc 0 "$1: show --by function"
    # Every group but the stdio buffer is one of the user functions.
    others=$(stat_lines | grep -v '^_IO_file_doallocate ' |
        grep -Ev "^(build_cache|build_pool|grow_vector|grow_string|fill_map|fill_umap)\(" || :)
    [ -z "$others" ] || fail "$1: groups outside the user functions: $others"
    while read -r fn bytes blocks; do
        expect_line "$fn\\(.*\\) \\($1\\): size=$bytes B, count=$blocks, average=.*" \
            "$1: --by function $fn"
    done <"$T/expected"

    sa show --by line "$snap"
    expect_rc 0 "$1: show --by line"
    while read -r fn bytes blocks; do
        line=$(line_of fold_cxx.cc "$fn")
        expect_line "[^ ]*/fold_cxx\\.cc:$line $fn\\(.*\\): size=$bytes B, count=$blocks, average=.*" \
            "$1: --by line $fn"
    done <"$T/expected"
}

check_build fold_cxx_O0
check_build fold_cxx_O2
echo "PASS: cli_fold"
