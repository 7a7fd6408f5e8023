# trace_lib.sh - helpers of the tracer's integration tests (trace_*.sh), on
# top of lib.sh: run trace_prog under the preload with tracing on, dump
# snapshots with snapdump, and sum the stacks of one allocation site.

# tr_init NAME: lib.sh's sa_init plus the helper programs.
tr_init() {
    sa_init "$1"
    TR_PROG=$(sa_helper trace_prog)
    TR_DUMP=$(sa_helper snapdump)
    TR_DIR=$SA_TMP/snaps
    mkdir -p "$TR_DIR"
    # Variables of the caller's environment would change what we test.
    unset SNAPALLOC_TRACE SNAPALLOC_SNAPSHOT SNAPALLOC_SNAPSHOT_AT_EXIT \
        SNAPALLOC_SIGNAL SNAPALLOC_INTERVAL SNAPALLOC_PEAK SNAPALLOC_UNWIND || :
}

# tr_dump FILE: snapdump's text of a snapshot into FILE.txt; fails the test
# if it does not read back.
tr_dump() {
    "$TR_DUMP" "$1" >"$1.txt" 2>"$1.err" || {
        cat "$1.err" >&2
        sa_fail "snapshot $1 does not read back"
    }
}

# tr_header FILE KEY: a field of the snapshot line of a dumped FILE.
tr_header() {
    sed -n "1s/.* $2=\\([0-9]*\\).*/\\1/p" "$1.txt"
}

# tr_site FILE SITE: "STACKS SIZE COUNT" over the stacks of dumped FILE whose
# frame 0 lies in trace_prog's function site_SITE and whose frame 1 is its
# return address (both read from $TR_DIR/sites).
tr_site() {
    tr_line=$(grep "^site $2 " "$TR_DIR/sites" | head -n 1)
    [ -n "$tr_line" ] || sa_fail "trace_prog did not record site $2"
    set -- "$1" $tr_line
    awk -v fn="$4" -v ret="$5" '
        function close_stack() { if (f0 && f1) { n++; s += size; c += count } }
        /^stack / { close_stack(); split($2, a, "="); size = a[2]; split($3, b, "="); count = b[2];
                    idx = 0; f0 = 0; f1 = 0; next }
        /^frame / { if (idx == 0 && $2 == "trace_prog" && $3 + 0 >= fn + 0 && $3 + 0 < fn + 256) f0 = 1;
                    if (idx == 1 && $2 == "trace_prog" && $3 + 0 == ret + 0) f1 = 1;
                    idx++; next }
        END { close_stack(); print n + 0, s + 0, c + 0 }' "$1.txt"
}

# tr_expect_site FILE SITE "STACKS SIZE COUNT"
tr_expect_site() {
    tr_got=$(tr_site "$1" "$2")
    if [ "$tr_got" != "$3" ]; then
        echo "--- $1 (first 40 lines) ---" >&2
        head -n 40 "$1.txt" >&2
        sa_fail "site $2 in $(basename "$1"): got '$tr_got', expected '$3' (stacks size count)"
    fi
}

# tr_expect_err TAG TEXT: the run's stderr is exactly TEXT (a line), or
# empty when TEXT is.
tr_expect_err() {
    if [ -z "$2" ]; then
        : >"$SA_TMP/expected.err"
    else
        printf '%s\n' "$2" >"$SA_TMP/expected.err"
    fi
    if ! cmp -s "$SA_TMP/expected.err" "$SA_TMP/$1.err"; then
        sa_show "$1"
        sa_fail "stderr of run '$1' is not exactly: $2"
    fi
}
