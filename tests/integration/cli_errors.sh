# cli_errors.sh - unreadable and corrupt input: missing file, directory,
# empty file, garbage, wrong version, and a real snapshot truncated at
# every byte offset or with random byte flips (cli_fuzz.py).  Each must
# give exit status 2 and exactly one stderr line "snapalloc: ...".
set -eu
. "$top_srcdir/tests/integration/cli_lib.sh"
cli_init cli_errors

"$MK" "$T/good.snap" small=3 pages=0 big=0 dup=0 wrap=0 rec=0 helper=0 >/dev/null ||
    fail "cli_mksnap failed"

for cmd in show diff; do
    extra=""
    [ $cmd = diff ] && extra="$T/good.snap"
    sa $cmd $extra "$T/missing.snap"
    expect_rc 2 "$cmd missing file"; expect_one_error "$cmd missing file"
    grep -q "missing.snap: No such file or directory" "$T/err" || fail "$cmd missing file: message"
    sa $cmd $extra "$T"
    expect_rc 2 "$cmd directory"; expect_one_error "$cmd directory"
    : >"$T/empty.snap"
    sa $cmd $extra "$T/empty.snap"
    expect_rc 2 "$cmd empty file"; expect_one_error "$cmd empty file"
    head -c 4096 /dev/urandom >"$T/garbage.snap"
    sa $cmd $extra "$T/garbage.snap"
    expect_rc 2 "$cmd garbage"; expect_one_error "$cmd garbage"
    grep -q "garbage.snap: " "$T/err" || fail "$cmd garbage: the message names the file"
done
# A device that never ends is rejected at once, not read until memory runs
# out.
sa show /dev/zero
expect_rc 2 "show /dev/zero"; expect_one_error "show /dev/zero"
grep -q "^snapalloc: /dev/zero: not a snapalloc snapshot$" "$T/err" || fail "show /dev/zero: message"
# Nothing printed on stdout before the error.
[ ! -s "$T/out" ] || fail "output printed before an input error"

# Version 99 in the header (u32 at offset 8).
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[8:12] = (99).to_bytes(4, "little")
open(sys.argv[2], "wb").write(b)' "$T/good.snap" "$T/v2.snap"
sa show "$T/v2.snap"
expect_rc 2 "wrong version"; expect_one_error "wrong version"
grep -q "version" "$T/err" || fail "wrong version: message does not say version"

# An unreadable file (unless we are root, who reads anything).
if [ "$(id -u)" != 0 ]; then
    cp "$T/good.snap" "$T/noperm.snap"; chmod 000 "$T/noperm.snap"
    sa show "$T/noperm.snap"
    expect_rc 2 "unreadable"; expect_one_error "unreadable"
fi

# The good file is fine, then every damaged variant is rejected.
sa show "$T/good.snap"
expect_rc 0 "good snapshot"
python3 "$SRC/cli_fuzz.py" "$SNAPALLOC_CMD" "$T/good.snap" "$T" || fail "fuzz (see above)"
exit 0
