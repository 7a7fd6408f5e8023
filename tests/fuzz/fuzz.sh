# fuzz.sh - a bounded libFuzzer run (30 s, fixed seed) of the snapshot
# reader and the report path (tests/fuzz/fuzz_snapshot.c), built with
# clang -fsanitize=fuzzer,address,undefined and seeded with real snapshots
# that cli_mksnap writes through the library's writer (a traced program's
# snapshot names libc and the loader, whose debug information makes each
# run 30x slower).  A crash, a
# sanitizer report, a leak or a rejection without a reason fails the test
# (the input that did it is printed as hex).  SKIP (77) without clang or
# its libFuzzer.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
sa_init fuzz
MK=$(sa_helper cli_mksnap)

S=$top_srcdir
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || sa_skip "no clang (apt-get install clang)"
# SKIP only when clang cannot build a libFuzzer program at all; a harness
# that does not build is a failure.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)(d && n) * 0; }\n' \
    >"$SA_TMP/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$SA_TMP/probe.c" -o "$SA_TMP/probe" 2>"$SA_TMP/cc.err"; then
    sa_skip "$CLANG cannot build a libFuzzer program (apt-get install libclang-rt-14-dev): $(tail -1 "$SA_TMP/cc.err")"
fi
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 \
        -std=gnu11 -D_GNU_SOURCE -DHAVE_CONFIG_H -I"$top_builddir" -I"$S/include" -I"$S/src" \
        -I"$S/tools" -I"$top_builddir/tools" "$S/tests/fuzz/fuzz_snapshot.c" "$S/tools/report.c" "$S/tools/model.c" \
        "$S/tools/out_text.c" "$S/tools/out_json.c" "$S/tools/out_collapsed.c" \
        "$S/tools/out_pprof.c" "$top_builddir/tools/profile.pb-c.c" \
        "$S/tools/out_html.c" "$top_builddir/tools/html_assets.c" \
        "$S/tools/symbolize.c" "$S/tools/intern.c" "$S/tools/fold.c" "$S/src/format/read.c" "$S/src/leak/heur_names.c" \
        "$S/src/common/config_parse.c" -ldw -lelf -lprotobuf-c -lz -lstdc++ -lm -o "$SA_TMP/fuzz" 2>"$SA_TMP/cc.err"; then
    cat "$SA_TMP/cc.err"
    sa_fail "the harness does not build"
fi

mkdir "$SA_TMP/corpus"
"$MK" "$SA_TMP/corpus/default.snap" >/dev/null || sa_fail "cli_mksnap"
"$MK" "$SA_TMP/corpus/mixed.snap" small=3 pages=1 big=0 dup=2 wrap=1 rec=1 helper=2 gone=1 inl=2 \
    >/dev/null || sa_fail "cli_mksnap mixed"
"$MK" "$SA_TMP/corpus/one.snap" small=1 pages=0 big=0 dup=0 wrap=0 rec=0 helper=0 >/dev/null ||
    sa_fail "cli_mksnap one"
# The logical files inside the containers, for mutations past zlib.
for f in "$SA_TMP"/corpus/*.snap; do
    python3 -c 'import sys, zlib
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(zlib.decompress(b[24:]))' "$f" "${f%.snap}.logical" ||
        sa_fail "inflating $f"
done

rc=0
ASAN_OPTIONS=detect_leaks=1 "$SA_TMP/fuzz" -seed=1 -max_total_time=30 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$SA_TMP/" -print_final_stats=1 "$SA_TMP/corpus" >"$SA_TMP/fuzz.log" 2>&1 || rc=$?
grep -E '^(stat::number_of_executed_units|Done)' "$SA_TMP/fuzz.log" || :
if [ $rc -ne 0 ]; then
    grep -E 'ERROR|runtime error|SUMMARY|#[0-9]+ ' "$SA_TMP/fuzz.log" | head -40
    for f in "$SA_TMP"/crash-* "$SA_TMP"/leak-* "$SA_TMP"/timeout-* "$SA_TMP"/oom-*; do
        [ -e "$f" ] && { echo "--- $f"; od -A d -t x1 "$f" | head -20; }
    done
    sa_fail "the fuzzer found a problem (exit $rc)"
fi
sa_pass
