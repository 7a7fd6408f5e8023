#!/bin/sh
# redis.sh - an unmodified Debian redis-server with snapalloc: the same
# deterministic command stream (strings of many sizes, some of 256 KiB,
# lists, hashes, sets, sorted sets, counters, appends and deletes) leaves
# exactly the same data set (DEBUG DIGEST) in a plain server, with the
# library preloaded, under tracing and under `snapalloc check`; under tracing
# redis-benchmark loads the server while a snapshot is taken by signal, the
# benchmark completes, `snapalloc show` reads the snapshot, and the data set
# built again after FLUSHALL still has the plain digest.  Every server
# exits normally on SHUTDOWN NOSAVE.
#
# What snapalloc sees: Debian's redis reports mem_allocator=jemalloc and
# links libjemalloc, but calls the unprefixed malloc/calloc/realloc/free/
# malloc_usable_size, which the preload resolves to snapalloc's (only
# mallctl, nallocx and malloc_stats_print still reach jemalloc), so every
# allocation of redis's zmalloc is traced: the snapshot's top sites are
# zmalloc's.
#
# The servers listen on 127.0.0.1 only, on a free port, in a temporary
# directory, never save, and are stopped (or killed) before the test ends.
set -eu${RD_DEBUG:+x}
. "$top_srcdir/tests/integration/lib.sh"
sa_init redis
for p in redis-server redis-cli redis-benchmark; do sa_need_program "$p"; done
PY=/usr/bin/python3
[ -x "$PY" ] || sa_skip "$PY is not installed"

RD_PIDS=
sa_at_exit rd_kill_all
# The first pid is timeout's, which passes TERM on to the server's group;
# the server itself, if known, is then killed outright.
rd_kill_all() {
    for rd_p in $RD_PIDS; do kill -TERM "$rd_p" 2>/dev/null || :; break; done
    for rd_p in $RD_PIDS; do kill -KILL "$rd_p" 2>/dev/null || :; done
}

# The deterministic command stream, in redis's wire protocol.
LC_ALL=C awk 'function cmd(n, a,   i, s) {
        s = "*" n "\r\n"
        for (i = 1; i <= n; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
        printf "%s", s
    }
    BEGIN {
        chars = "abcdefghijklmnopqrstuvwxyz0123456789"
        pool = chars; while (length(pool) < 300) pool = pool chars
        big = pool; while (length(big) < 262144) big = big big
        for (i = 1; i <= 20000; i++) {
            v = substr(pool, 1 + i % 30, 1 + (i * 37) % 270)
            a[1] = "SET"; a[2] = "str:" i; a[3] = v; cmd(3, a)
            if (i % 7 == 0) { a[1] = "RPUSH"; a[2] = "list:" i % 50; a[3] = v; cmd(3, a) }
            if (i % 5 == 0) { a[1] = "HSET"; a[2] = "hash:" i % 100; a[3] = "f" i; a[4] = v; cmd(4, a) }
            if (i % 11 == 0) { a[1] = "SADD"; a[2] = "set:" i % 30; a[3] = "m" i; cmd(3, a) }
            if (i % 13 == 0) { a[1] = "ZADD"; a[2] = "zset:" i % 20; a[3] = (i * 7) % 1000; a[4] = "m" i; cmd(4, a) }
            if (i % 3 == 0) { a[1] = "INCRBY"; a[2] = "counter:" i % 10; a[3] = i; cmd(3, a) }
            if (i % 17 == 0) { a[1] = "APPEND"; a[2] = "str:" i - 1; a[3] = v; cmd(3, a) }
            if (i % 19 == 0) { a[1] = "DEL"; a[2] = "str:" i - 5; cmd(2, a) }
            if (i % 23 == 0) { a[1] = "LPOP"; a[2] = "list:" i % 50; cmd(2, a) }
            if (i % 1000 == 0) { a[1] = "SET"; a[2] = "big:" i; a[3] = substr(big, 1 + i % 36, 200000 + i); cmd(3, a) }
            if (i % 3000 == 0) { a[1] = "DEL"; a[2] = "big:" i - 2000; cmd(2, a) }
        }
    }' </dev/null >"$SA_TMP/commands"

# rd_cli ARGS...: redis-cli to the current server (reading no input).
rd_cli() {
    timeout 60 redis-cli -h 127.0.0.1 -p "$RD_PORT" "$@" </dev/null
}

# rd_start TAG [WRAPPER...]: start a server under WRAPPER (nothing, env
# LD_PRELOAD=..., snapalloc run ..., snapalloc check ...) on a free port;
# sets RD_PORT, RD_WRAP (the background job) and RD_PID (the server's pid).
rd_start() {
    rd_tag=$1; shift
    mkdir -p "$SA_TMP/$rd_tag.dir"
    RD_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
        || sa_fail "no free port on 127.0.0.1"
    # timeout puts the whole job in its own process group and ends it all.
    timeout "$SA_TIMEOUT" "$@" redis-server --port "$RD_PORT" --bind 127.0.0.1 \
        --save '' --appendonly no --dir "$SA_TMP/$rd_tag.dir" --daemonize no \
        --logfile "$SA_TMP/$rd_tag.log" --enable-debug-command local \
        </dev/null >"$SA_TMP/$rd_tag.out" 2>"$SA_TMP/$rd_tag.err" &
    RD_WRAP=$!
    RD_PIDS="$RD_PIDS $RD_WRAP"
    rd_i=0
    until [ "$(rd_cli PING 2>/dev/null)" = PONG ]; do
        rd_i=$((rd_i + 1))
        if [ $rd_i -ge 100 ] || ! kill -0 "$RD_WRAP" 2>/dev/null; then
            # (redis prints a configuration error first, a check its report last.)
            head -n 8 "$SA_TMP/$rd_tag.out" "$SA_TMP/$rd_tag.err" >&2 2>/dev/null || :
            tail -n 8 "$SA_TMP/$rd_tag.log" "$SA_TMP/$rd_tag.err" >&2 2>/dev/null || :
            rd_rc=running
            kill -0 "$RD_WRAP" 2>/dev/null || { rd_rc=0; wait "$RD_WRAP" || rd_rc=$?; }
            sa_fail "redis-server ($rd_tag) did not answer PING on 127.0.0.1:$RD_PORT (exit status: $rd_rc)"
        fi
        sleep 0.1
    done
    RD_PID=$(rd_cli INFO server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
    [ -n "$RD_PID" ] || sa_fail "no process_id in INFO server ($rd_tag)"
    RD_PIDS="$RD_PIDS $RD_PID"
}

# rd_stop TAG: SHUTDOWN NOSAVE, and the job's exit status into TAG.rc.
rd_stop() {
    rd_cli SHUTDOWN NOSAVE >/dev/null 2>&1 || :
    rd_i=0
    while kill -0 "$RD_WRAP" 2>/dev/null; do
        rd_i=$((rd_i + 1))
        [ $rd_i -lt 300 ] || { rd_kill_all; sa_fail "redis-server ($1) still running 30 s after SHUTDOWN NOSAVE"; }
        sleep 0.1
    done
    rd_rc=0
    wait "$RD_WRAP" || rd_rc=$?
    echo "$rd_rc" >"$SA_TMP/$1.rc"
    RD_PIDS=
}

# rd_load TAG: send the command stream, then the data set's digest and size
# go to TAG.digest.
rd_load() {
    timeout 120 redis-cli -h 127.0.0.1 -p "$RD_PORT" --pipe <"$SA_TMP/commands" >"$SA_TMP/$1.pipe" 2>&1 \
        || { cat "$SA_TMP/$1.pipe" >&2; sa_fail "redis-cli --pipe ($1) failed"; }
    grep -q 'errors: 0, replies: ' "$SA_TMP/$1.pipe" \
        || { cat "$SA_TMP/$1.pipe" >&2; sa_fail "redis-cli --pipe ($1): errors"; }
    { rd_cli DEBUG DIGEST; rd_cli DBSIZE; rd_cli GET counter:3; rd_cli STRLEN big:20000; } >"$SA_TMP/$1.digest"
}

rd_expect_digest() { # TAG
    cmp -s "$SA_TMP/plain.digest" "$SA_TMP/$1.digest" || {
        paste "$SA_TMP/plain.digest" "$SA_TMP/$1.digest" >&2
        sa_fail "the data set of run '$1' differs from the plain run's (digest, dbsize, a counter, a length)"
    }
}

# Plain: the reference digest.
rd_start plain
rd_load plain
rd_stop plain
sa_expect_status plain 0
[ "$(sed -n 2p "$SA_TMP/plain.digest")" -gt 19000 ] || sa_fail "plain: DBSIZE $(sed -n 2p "$SA_TMP/plain.digest")"
echo "$SA_NAME: plain: digest $(head -n 1 "$SA_TMP/plain.digest"), $(sed -n 2p "$SA_TMP/plain.digest") keys"

# Allocator only (its statistics at exit prove the preload took).
rd_start preload env LD_PRELOAD="$SNAPALLOC_LIB" SNAPALLOC_STATS=1
rd_load preload
rd_stop preload
sa_expect_status preload 0
rd_expect_digest preload
sa_expect_malloc_calls preload 100000

# Tracing, a snapshot by signal in the middle of redis-benchmark.
rd_start trace "$SNAPALLOC_CMD" run -o "$SA_SNAPS" --signal USR2 --
rd_load trace
rd_expect_digest trace
timeout 120 redis-benchmark -h 127.0.0.1 -p "$RD_PORT" -n 20000 -q -t set,get,lpush,lpop,incr,hset \
    -r 10000 -d 100 </dev/null >"$SA_TMP/bench.out" 2>&1 &
bench=$!
sleep 1
kill -USR2 "$RD_PID"
bench_rc=0
wait "$bench" || bench_rc=$?
tr '\r' '\n' <"$SA_TMP/bench.out" | grep -E '^[A-Z]+: [0-9.]+ requests per second' >"$SA_TMP/bench.sum" || :
[ "$bench_rc" = 0 ] || { tail -c 2000 "$SA_TMP/bench.out" >&2; sa_fail "redis-benchmark exited with $bench_rc"; }
for t in SET GET LPUSH LPOP INCR HSET; do
    grep -q "^$t: " "$SA_TMP/bench.sum" || sa_fail "redis-benchmark did not complete $t"
done
echo "$SA_NAME: trace: redis-benchmark completed $(wc -l <"$SA_TMP/bench.sum") tests"
sa_expect_eq "$(rd_cli FLUSHALL)" OK "FLUSHALL"
rd_load trace2
rd_expect_digest trace2
rd_stop trace
sa_expect_status trace 0
sig=$(ls "$SA_SNAPS"/*."$RD_PID".1.snap 2>/dev/null) || sa_fail "no snapshot taken on SIGUSR2: $(ls "$SA_SNAPS")"
ls "$SA_SNAPS"/*."$RD_PID".2.snap >/dev/null 2>&1 || sa_fail "no exit snapshot: $(ls "$SA_SNAPS")"
sa_cmd show "$sig"
sa_expect_status cmd 0 "snapalloc show $sig"
grep -q '^ *taken: .*trigger signal' "$(sa_out cmd)" \
    || sa_fail "the snapshot was not taken by the signal: $(grep trigger "$(sa_out cmd)")"
# redis's own allocations are traced: its zmalloc is the top call site.
grep -q '^zmalloc.*size=.*count=' "$(sa_out cmd)" \
    || { cat "$(sa_out cmd)" >&2; sa_fail "no zmalloc call site in the signal snapshot"; }
echo "$SA_NAME: trace: the snapshot taken on SIGUSR2:"
grep -E 'traced memory|^zmalloc' "$(sa_out cmd)" | head -n 3

# The leak check: a normal exit, the same data set; its verdict is logged.
rd_start check "$SNAPALLOC_CMD" check --report "$SA_TMP/check.json" --
rd_load check
rd_expect_digest check
rd_stop check
st=$(cat "$SA_TMP/check.rc")
prog=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["exit_status"])' "$SA_TMP/check.json") \
    || sa_fail "no JSON report of the check"
[ "$prog" = 0 ] || { sa_show check; sa_fail "under snapalloc check redis-server exited with $prog"; }
[ "$st" = 0 ] || [ "$st" = 23 ] || { sa_show check; sa_fail "snapalloc check exited with $st"; }
echo "$SA_NAME: check: status $st; $(sed -n '/^LEAK SUMMARY:/,$p' "$SA_TMP/check.err" | tr '\n' ';')"
sa_pass
