# cli_files.sh - files that are not snapalloc's are never replaced, opened
# for writing or read without end: a snapshot path naming a FIFO, a device
# (as root) or a directory is refused with one line; a directory template
# with SNAPALLOC_PEAK fails once and turns the peak trigger off (no retry on
# every new peak); a FIFO planted at a leak check's PID.done does not hang
# the program; `snapalloc show` of a snapshot whose module path is now a
# FIFO notes it once and does not block.
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_files

# pre PROGRAM...: run preloaded with SNAPALLOC_* from the environment, with
# a time limit that only a hang reaches; stderr in $T/err, status in $T/rc.
pre() {
    rc=0
    timeout 60 env LD_PRELOAD="$SNAPALLOC_LIB" "$@" >"$T/out" 2>"$T/err" || rc=$?
    echo "$rc" >"$T/rc"
}

# A FIFO at the snapshot path: not opened, not replaced, one line.
mkfifo "$T/fifo.snap"
SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$T/fifo.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 pre "$PROG"
expect_rc 0 "FIFO target"
[ -p "$T/fifo.snap" ] || fail "FIFO target: the FIFO was replaced"
[ "$(cat "$T/err")" = "snapalloc: cannot write snapshot $T/fifo.snap: it exists and is not a regular file of ours (not replaced)" ] \
    || fail "FIFO target: stderr is not the one line"
[ -z "$(ls "$T" | grep tmp)" ] || fail "FIFO target: temporary file left: $(ls "$T")"

# A device node (root only can make one): never replaced.
if mknod "$T/null" c 1 3 2>/dev/null; then
    SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$T/null SNAPALLOC_SNAPSHOT_AT_EXIT=1 pre "$PROG"
    [ -c "$T/null" ] || fail "device target: the device node was replaced"
    grep -q "^snapalloc: cannot write snapshot $T/null: it exists and is not a regular file of ours (not replaced)\$" "$T/err" \
        || fail "device target: no message"
fi

# A symlink at the path is not followed or replaced either.
echo keep >"$T/target"
ln -s "$T/target" "$T/link.snap"
SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$T/link.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 pre "$PROG"
[ -L "$T/link.snap" ] && [ "$(cat "$T/target")" = keep ] || fail "symlink target replaced or written"

# An earlier snapshot of ours at a fixed path is replaced.
SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$T/fixed.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 pre "$PROG"
SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$T/fixed.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 pre "$PROG"
[ ! -s "$T/err" ] || fail "a snapshot of ours was not replaced: $(cat "$T/err")"
sa show "$T/fixed.snap"
expect_rc 0 "the replaced snapshot reads"

# A directory template with a peak trigger: one line, then no more peak
# attempts (each sequence number names another directory, so a retry
# would print a second line; cli_prog's own API snapshot has its own).
for n in 1 2 3 4 5 6 7 8; do mkdir "$T/d.$n"; done
SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT="$T/d.%n" SNAPALLOC_PEAK=1 pre "$PROG"
expect_rc 0 "directory template"
[ "$(sed -n 1p "$T/err")" = "snapalloc: cannot write snapshot $T/d.1: it is a directory; peak snapshots are off from now on" ] \
    || fail "directory template: the first line"
[ "$(grep -c "peak snapshots" "$T/err")" = 1 ] || fail "directory template: peak snapshots retried"
for n in 1 2 3 4 5 6 7 8; do [ -d "$T/d.$n" ] || fail "directory d.$n replaced"; done

# A FIFO planted at a leak check's PID.done: the program does not hang, and
# says why its set is incomplete.
mkdir "$T/cd"
SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_DIR=$T/cd SNAPALLOC_SNAPSHOT=$T/api.%p.snap pre sh -c 'mkfifo "$0/$$.done"; exec "$1"' "$T/cd" "$PROG"
expect_rc 0 "FIFO at PID.done"
pid=$(cd "$T/cd" && for f in *.done; do if [ -p "$f" ]; then echo "${f%.done}"; fi; done)
[ -n "$pid" ] || fail "FIFO at PID.done replaced"
grep -q "^snapalloc: cannot write snapshot $T/cd/$pid.done: it exists and is not a regular file of ours (not replaced)\$" "$T/err" \
    || fail "FIFO at PID.done: no message"

# show: a module path that is now a FIFO is noted once and not opened.
cp "$MK" "$T/mk"
"$T/mk" "$T/m.snap" >/dev/null || fail "cli_mksnap"
rm "$T/mk"
mkfifo "$T/mk"
rc=0
timeout 60 "$SNAPALLOC_CMD" show "$T/m.snap" >"$T/out" 2>"$T/err" || rc=$?
echo "$rc" >"$T/rc"
expect_rc 0 "module FIFO"
[ "$(grep -c "$T/mk" "$T/err")" = 1 ] || fail "module FIFO: not one note"
grep -q "^snapalloc: warning: $T/mk: not a regular file; its frames are shown as module+offset\$" "$T/err" \
    || fail "module FIFO: the note"

# Control characters from a snapshot (module paths, the command line) are
# printed escaped, never raw: no escape sequence reaches the terminal.
esc=$(printf '\033')
cp "$MK" "$T/mk${esc}[31m"
"$T/mk${esc}[31m" "$T/e.snap" >/dev/null || fail "cli_mksnap (escape)"
sa show "$T/e.snap" --by traceback
expect_rc 0 "show escaped"
if grep -q "$esc" "$T/out" "$T/err"; then fail "show: a raw ESC in the output"; fi
grep -q 'mk\\x1b\[31m' "$T/out" || fail "show: the module path is not printed as mk\\x1b[31m"
cp "$BIN/check_leaky" "$T/leaky${esc}[2J"
sa check -- "$T/leaky${esc}[2J" leak
expect_rc 23 "check escaped"
if grep -q "$esc" "$T/err"; then fail "check: a raw ESC in the report"; fi
grep -q "^snapalloc check: pid [0-9]*: $T/leaky\\\\x1b\\[2J leak\$" "$T/err" || fail "check: the command line is not escaped"

echo "PASS: cli_files"
