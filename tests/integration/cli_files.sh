# cli_files.sh - files that are not snapalloc's are never replaced, opened
# for writing or read without end: a snapshot path naming a FIFO, a device
# (as root) or a directory is refused with one line; a directory template
# with SNAPALLOC_PEAK fails once and turns the peak trigger off (no retry on
# every new peak); a FIFO planted at a leak check's PID.done does not hang
# the program; `snapalloc show` of a snapshot whose module path is now a
# FIFO notes it once and does not block.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_files
MK=$(sa_helper cli_mksnap)
PROG=$(sa_helper cli_prog)

# A FIFO at the snapshot path: not opened, not replaced, one line.
mkfifo "$SA_TMP/fifo.snap"
sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$SA_TMP/fifo.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 "$PROG"
sa_expect_status prog 0 "FIFO target"
[ -p "$SA_TMP/fifo.snap" ] || sa_fail "FIFO target: the FIFO was replaced"
[ "$(cat "$SA_TMP/prog.err")" = "snapalloc: cannot write snapshot $SA_TMP/fifo.snap: it exists and is not a regular file of ours (not replaced)" ] \
    || sa_fail "FIFO target: stderr is not the one line"
[ -z "$(ls "$SA_TMP" | grep tmp)" ] || sa_fail "FIFO target: temporary file left: $(ls "$SA_TMP")"

# A device node (root only can make one): never replaced.
if mknod "$SA_TMP/null" c 1 3 2>/dev/null; then
    sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$SA_TMP/null SNAPALLOC_SNAPSHOT_AT_EXIT=1 "$PROG"
    [ -c "$SA_TMP/null" ] || sa_fail "device target: the device node was replaced"
    grep -q "^snapalloc: cannot write snapshot $SA_TMP/null: it exists and is not a regular file of ours (not replaced)\$" "$SA_TMP/prog.err" \
        || sa_fail "device target: no message"
fi

# A symlink at the path is not followed or replaced either.
echo keep >"$SA_TMP/target"
ln -s "$SA_TMP/target" "$SA_TMP/link.snap"
sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$SA_TMP/link.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 "$PROG"
[ -L "$SA_TMP/link.snap" ] && [ "$(cat "$SA_TMP/target")" = keep ] || sa_fail "symlink target replaced or written"

# An earlier snapshot of ours at a fixed path is replaced.
sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$SA_TMP/fixed.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 "$PROG"
sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT=$SA_TMP/fixed.snap SNAPALLOC_SNAPSHOT_AT_EXIT=1 "$PROG"
[ ! -s "$SA_TMP/prog.err" ] || sa_fail "a snapshot of ours was not replaced: $(cat "$SA_TMP/prog.err")"
sa_cmd show "$SA_TMP/fixed.snap"
sa_expect_status cmd 0 "the replaced snapshot reads"

# A directory template with a peak trigger: one line, then no more peak
# attempts (each sequence number names another directory, so a retry
# would print a second line; cli_prog's own API snapshot has its own).
for n in 1 2 3 4 5 6 7 8; do mkdir "$SA_TMP/d.$n"; done
sa_run_traced prog env SNAPALLOC_TRACE=8 SNAPALLOC_SNAPSHOT="$SA_TMP/d.%n" SNAPALLOC_PEAK=1 "$PROG"
sa_expect_status prog 0 "directory template"
[ "$(sed -n 1p "$SA_TMP/prog.err")" = "snapalloc: cannot write snapshot $SA_TMP/d.1: it is a directory; peak snapshots are off from now on" ] \
    || sa_fail "directory template: the first line"
sa_expect_eq "$(grep -c "peak snapshots" "$SA_TMP/prog.err")" 1 "directory template: peak snapshots retried"
for n in 1 2 3 4 5 6 7 8; do [ -d "$SA_TMP/d.$n" ] || sa_fail "directory d.$n replaced"; done

# A FIFO planted at a leak check's PID.done: the program does not hang, and
# says why its set is incomplete.
mkdir "$SA_TMP/cd"
sa_run_preload_nostats prog env SNAPALLOC_CHECK=1 SNAPALLOC_CHECK_DIR=$SA_TMP/cd SNAPALLOC_SNAPSHOT=$SA_TMP/api.%p.snap sh -c 'mkfifo "$0/$$.done"; exec "$1"' "$SA_TMP/cd" "$PROG"
sa_expect_status prog 0 "FIFO at PID.done"
pid=$(cd "$SA_TMP/cd" && for f in *.done; do if [ -p "$f" ]; then echo "${f%.done}"; fi; done)
[ -n "$pid" ] || sa_fail "FIFO at PID.done replaced"
grep -q "^snapalloc: cannot write snapshot $SA_TMP/cd/$pid.done: it exists and is not a regular file of ours (not replaced)\$" "$SA_TMP/prog.err" \
    || sa_fail "FIFO at PID.done: no message"

# show: a module path that is now a FIFO is noted once and not opened.
cp "$MK" "$SA_TMP/mk"
"$SA_TMP/mk" "$SA_TMP/m.snap" >/dev/null || sa_fail "cli_mksnap"
rm "$SA_TMP/mk"
mkfifo "$SA_TMP/mk"
# (a hang ends at SA_TIMEOUT: status 124)
sa_cmd show "$SA_TMP/m.snap"
sa_expect_status cmd 0 "module FIFO"
sa_expect_eq "$(grep -c "$SA_TMP/mk" "$SA_TMP/cmd.err")" 1 "module FIFO: not one note"
grep -q "^snapalloc: warning: $SA_TMP/mk: not a regular file; its frames are shown as module+offset\$" "$SA_TMP/cmd.err" \
    || sa_fail "module FIFO: the note"

# Control characters from a snapshot (module paths, the command line) are
# printed escaped, never raw: no escape sequence reaches the terminal.
esc=$(printf '\033')
cp "$MK" "$SA_TMP/mk${esc}[31m"
"$SA_TMP/mk${esc}[31m" "$SA_TMP/e.snap" >/dev/null || sa_fail "cli_mksnap (escape)"
sa_cmd show "$SA_TMP/e.snap" --by traceback
sa_expect_status cmd 0 "show escaped"
if grep -q "$esc" "$SA_TMP/cmd.out" "$SA_TMP/cmd.err"; then sa_fail "show: a raw ESC in the output"; fi
grep -q 'mk\\x1b\[31m' "$SA_TMP/cmd.out" || sa_fail "show: the module path is not printed as mk\\x1b[31m"
cp "$SA_BIN/check_leaky" "$SA_TMP/leaky${esc}[2J"
sa_cmd check -- "$SA_TMP/leaky${esc}[2J" leak
sa_expect_status cmd 23 "check escaped"
if grep -q "$esc" "$SA_TMP/cmd.err"; then sa_fail "check: a raw ESC in the report"; fi
grep -q "^snapalloc check: pid [0-9]*: $SA_TMP/leaky\\\\x1b\\[2J leak\$" "$SA_TMP/cmd.err" || sa_fail "check: the command line is not escaped"

sa_pass
