# cli_errors.sh - unreadable and corrupt input: missing file, directory,
# empty file, garbage, wrong version, and a real snapshot truncated at
# every byte offset or with random byte flips (cli_fuzz.py).  Each must
# give exit status 2 and exactly one stderr line "snapalloc: ...".
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_errors
MK=$(sa_helper cli_mksnap)

"$MK" "$SA_TMP/good.snap" small=3 pages=0 big=0 dup=0 wrap=0 rec=0 helper=0 >/dev/null ||
    sa_fail "cli_mksnap failed"

for cmd in show diff; do
    extra=""
    [ $cmd = diff ] && extra="$SA_TMP/good.snap"
    sa_cmd $cmd $extra "$SA_TMP/missing.snap"
    sa_expect_status cmd 2 "$cmd missing file"; sa_expect_one_error cmd "$cmd missing file"
    grep -q "missing.snap: No such file or directory" "$SA_TMP/cmd.err" || sa_fail "$cmd missing file: message"
    sa_cmd $cmd $extra "$SA_TMP"
    sa_expect_status cmd 2 "$cmd directory"; sa_expect_one_error cmd "$cmd directory"
    : >"$SA_TMP/empty.snap"
    sa_cmd $cmd $extra "$SA_TMP/empty.snap"
    sa_expect_status cmd 2 "$cmd empty file"; sa_expect_one_error cmd "$cmd empty file"
    head -c 4096 /dev/urandom >"$SA_TMP/garbage.snap"
    sa_cmd $cmd $extra "$SA_TMP/garbage.snap"
    sa_expect_status cmd 2 "$cmd garbage"; sa_expect_one_error cmd "$cmd garbage"
    grep -q "garbage.snap: " "$SA_TMP/cmd.err" || sa_fail "$cmd garbage: the message names the file"
done
# A device that never ends is rejected at once, not read until memory runs
# out.
sa_cmd show /dev/zero
sa_expect_status cmd 2 "show /dev/zero"; sa_expect_one_error cmd "show /dev/zero"
grep -q "^snapalloc: /dev/zero: not a snapalloc snapshot$" "$SA_TMP/cmd.err" || sa_fail "show /dev/zero: message"
# Nothing printed on stdout before the error.
[ ! -s "$SA_TMP/cmd.out" ] || sa_fail "output printed before an input error"

# Version 99 in the header (u32 at offset 8).
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[8:12] = (99).to_bytes(4, "little")
open(sys.argv[2], "wb").write(b)' "$SA_TMP/good.snap" "$SA_TMP/v2.snap"
sa_cmd show "$SA_TMP/v2.snap"
sa_expect_status cmd 2 "wrong version"; sa_expect_one_error cmd "wrong version"
grep -q "version" "$SA_TMP/cmd.err" || sa_fail "wrong version: message does not say version"

# An unreadable file (unless we are root, who reads anything).
if [ "$(id -u)" != 0 ]; then
    cp "$SA_TMP/good.snap" "$SA_TMP/noperm.snap"; chmod 000 "$SA_TMP/noperm.snap"
    sa_cmd show "$SA_TMP/noperm.snap"
    sa_expect_status cmd 2 "unreadable"; sa_expect_one_error cmd "unreadable"
fi

# The good file is fine, then every damaged variant is rejected.
sa_cmd show "$SA_TMP/good.snap"
sa_expect_status cmd 0 "good snapshot"
python3 "$SA_SRC/cli_fuzz.py" "$SNAPALLOC_CMD" "$SA_TMP/good.snap" "$SA_TMP" || sa_fail "fuzz (see above)"

# A traced run's exit snapshot has points and a histogram: lying sections
# under a valid checksum are rejected with their one line.
sa_cmd run -o "$SA_TMP/traced" -- "$(sa_helper cli_prog)" 1
sa_expect_status cmd 0 "traced run"
python3 "$SA_SRC/cli_fuzz.py" "$SNAPALLOC_CMD" "$(ls "$SA_TMP/traced"/*.2.snap)" "$SA_TMP" --lies-only ||
    sa_fail "lying sections (see above)"
sa_pass
