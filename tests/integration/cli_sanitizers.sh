# cli_sanitizers.sh - the command (tools/ and the snapshot reader) built
# with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer, and
# the command's own tests (cli_*.sh, check_*.sh) run against that build.
# Any sanitizer report (written to a log, so that the tests' exact stderr
# checks are not what catches it) fails this test.  SKIP (77) when the
# compiler cannot build any sanitized program.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init cli_sanitizers

CC_SAN=${CC:-cc}
S=$top_srcdir
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# SKIP only when the compiler cannot build a sanitized program at all; a
# command that does not build is a failure.
printf 'int main(void) { return 0; }\n' >"$SA_TMP/probe.c"
if ! $CC_SAN $san "$SA_TMP/probe.c" -o "$SA_TMP/probe" 2>"$SA_TMP/cc.err"; then
    sa_skip "$CC_SAN cannot build with $san: $(tail -1 "$SA_TMP/cc.err")"
fi
# The command: tools/ and the reader library's sources.
if ! $CC_SAN $san -g -O1 -std=gnu11 -D_GNU_SOURCE -DHAVE_CONFIG_H -I"$top_builddir" \
        -I"$S/include" -I"$S/src" -DSNAPALLOC_LIBDIR='"/nonexistent"' \
        -I"$top_builddir/tools" "$S"/tools/*.c "$top_builddir/tools/profile.pb-c.c" \
        "$top_builddir/tools/html_assets.c" \
        "$S/src/format/read.c" "$S/src/leak/heur_names.c" \
        "$S/src/common/config_parse.c" "$S/src/common/config.c" -ldw -lelf -lprotobuf-c -lz -lstdc++ -lm \
        -o "$SA_TMP/snapalloc" 2>"$SA_TMP/cc.err"; then
    cat "$SA_TMP/cc.err"
    sa_fail "the command does not build with $san"
fi

# verify_asan_link_order: a test preloads libm into the command itself.
ASAN_OPTIONS="log_path=$SA_TMP/san:exitcode=86:verify_asan_link_order=0:detect_leaks=1"
UBSAN_OPTIONS="log_path=$SA_TMP/san:print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS UBSAN_OPTIONS
failed=""
for t in "$S"/tests/integration/cli_*.sh "$S"/tests/integration/check_*.sh; do
    name=$(basename "$t" .sh)
    [ "$name" != cli_sanitizers ] || continue
    rc=0
    SNAPALLOC_CMD=$SA_TMP/snapalloc sh "$t" >"$SA_TMP/$name.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        failed="$failed $name"
        echo "--- $name (exit $rc):"
        tail -15 "$SA_TMP/$name.log"
    fi
done
if ls "$SA_TMP" | grep -q '^san\.'; then
    for f in "$SA_TMP"/san.*; do echo "--- $f:"; head -40 "$f"; done
    sa_fail "sanitizer reports (above)"
fi
[ -z "$failed" ] || sa_fail "failed under the sanitizers:$failed"
sa_pass
