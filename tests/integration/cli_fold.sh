#!/bin/sh
# cli_fold.sh - allocations made through libstdc++'s plumbing (make_shared,
# allocate_shared, vector push_back, string growth, map and unordered_map
# insert) are charged to the user's function and line, not to the
# library's helpers, for fold_cxx built at -O0 and at -O2: `show --by
# function` and `--by line` list exactly the six user functions with the
# bytes and blocks the program itself computes from its containers.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_fold
cd "$SA_TMP"

check_build() { # PROGRAM
    prog=$SA_BIN/$1
    [ -x "$prog" ] || sa_fail "$prog is missing (make check builds it)"
    rm -rf "$SA_TMP/o"
    sa_cmd run -o "$SA_TMP/o" -- "$prog"
    sa_expect_status cmd 0 "$1: run"
    snap=$(ls "$SA_TMP"/o/*.snap)
    # The program's stdout went to $SA_TMP/cmd.out: "function bytes blocks" lines.
    cp "$SA_TMP/cmd.out" "$SA_TMP/expected"
    [ "$(wc -l <"$SA_TMP/expected")" -eq 6 ] || sa_fail "$1: expected 6 lines of sizes"

    sa_cmd show --by function "$snap"
    sa_expect_status cmd 0 "$1: show --by function"
    # Every group but the stdio buffer is one of the user functions.
    others=$(sa_site_lines cmd | grep -v '^_IO_file_doallocate ' |
        grep -Ev "^(build_cache|build_pool|grow_vector|grow_string|fill_map|fill_umap)\(" || :)
    [ -z "$others" ] || sa_fail "$1: groups outside the user functions: $others"
    while read -r fn bytes blocks; do
        sa_expect_line cmd "$fn\\(.*\\) \\($1\\): size=$bytes B, count=$blocks, average=.*" \
            "$1: --by function $fn"
    done <"$SA_TMP/expected"

    sa_cmd show --by line "$snap"
    sa_expect_status cmd 0 "$1: show --by line"
    while read -r fn bytes blocks; do
        line=$(sa_line_of fold_cxx.cc "$fn")
        sa_expect_line cmd "[^ ]*/fold_cxx\\.cc:$line $fn\\(.*\\): size=$bytes B, count=$blocks, average=.*" \
            "$1: --by line $fn"
    done <"$SA_TMP/expected"
}

check_build fold_cxx_O0
check_build fold_cxx_O2
sa_pass
