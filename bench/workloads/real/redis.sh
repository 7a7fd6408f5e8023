#!/bin/sh
# redis.sh - redis-server under redis-benchmark on loopback, as users drive it.
# The allocator under test is preloaded into both (the harness sets
# LD_PRELOAD); Debian's redis links jemalloc, whose own calls it keeps.
# BENCH_QUICK=1: 20k requests per test instead of 200k.
set -e
port=${REDIS_PORT:-16399}
n=200000; [ "${BENCH_QUICK:-0}" = 1 ] && n=20000
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize no --loglevel warning >"$dir/log" 2>&1 &
pid=$!
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "redis did not start" >&2; kill $pid; exit 1; }
    sleep 0.05
done
redis-benchmark -p "$port" -q -n "$n" -c 8 -d 200 -r 50000 -t set,get,lpush,lpop,sadd,hset >/dev/null
keys=$(redis-cli -p "$port" exists mylist)
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait $pid || true
rm -rf "$dir"
echo "RESULT redis $n ok $keys"
