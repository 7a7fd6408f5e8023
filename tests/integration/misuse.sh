#!/bin/sh
# misuse.sh - misuse.c, preloaded: a double free (small, medium, large
# block), free of an interior pointer, of a pointer past a pool's last
# block, into a block not carved yet or into a page where no block starts,
# and realloc of a freed block must each
# abort (SIGABRT, status 134) with exactly one stderr line
# "snapalloc: free(): ... 0x<pointer>" (or "snapalloc: realloc(): ...");
# free of memory snapalloc does not own (static, stack) must be ignored and
# the program must go on normally.  Only meaningful under snapalloc: glibc
# aborts on all of them.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init misuse
prog=$(sa_helper misuse)

# expect_abort CASE FUNCTION: the case dies with SIGABRT and one message
# naming FUNCTION and the pointer the program printed.
expect_abort() {
    sa_run_preload_nostats "$1" "$prog" "$1"
    sa_expect_status "$1" 134
    ptr=$(head -n 1 "$(sa_out "$1")")
    case $ptr in
        0x[0-9a-f]*) ;;
        *) sa_fail "case $1 did not print the pointer first (stdout: '$ptr')" ;;
    esac
    err=$(sa_err "$1")
    nlines=$(grep -c '' "$err" || :)
    if [ "$nlines" != 1 ]; then
        sa_show "$1"
        sa_fail "case $1: $nlines lines on stderr, expected exactly one message"
    fi
    line=$(cat "$err")
    case $line in
        "snapalloc: $2(): "*) ;;
        *) sa_fail "case $1: message '$line' does not start with 'snapalloc: $2(): '" ;;
    esac
    # The pointer, compared as a number: leading zeros or case may differ.
    found=no
    for hex in $(printf '%s\n' "$line" | grep -o -i '0x[0-9a-f][0-9a-f]*' || :); do
        if [ $((hex)) -eq $((ptr)) ]; then
            found=yes
        fi
    done
    [ "$found" = yes ] || sa_fail "case $1: message '$line' does not contain the pointer $ptr"
    echo "misuse: $1: $line"
}

expect_abort double-small free
expect_abort double-medium free
expect_abort double-large free
expect_abort interior free
expect_abort realloc-freed realloc
expect_abort past-last free
expect_abort uncarved free
expect_abort between-starts free

for c in foreign-static foreign-stack; do
    sa_run_preload "$c" "$prog" "$c"
    sa_expect_status "$c" 0
    [ "$(tail -n 1 "$(sa_out "$c")")" = ok ] \
        || sa_fail "case $c: the program did not go on normally after free() of a foreign pointer: $(tail -n 1 "$(sa_out "$c")")"
    # misuse.c allocates 6001 blocks after the foreign free
    sa_expect_malloc_calls "$c" 6000
done
sa_pass
