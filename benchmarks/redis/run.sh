#!/usr/bin/env bash
# End-to-end throughput of the Redis Streams input, next to the bare hiredis ceiling.
#
#   benchmarks/redis/run.sh [EVENTS]        (default 1000000; needs a release build)
#
# Starts a private redis-server and ClickHouse 18.16 on free loopback ports, pre-loads
# EVENTS metrics events into one stream with `sluice publish --to redis://...`, then:
#   1. raw:    rawloop.c (XREADGROUP COUNT 1000 + one XACK per reply, nothing else) drains
#              the stream with a group of its own: the ceiling for any Redis consumer here;
#   2. sluice: `sluice run` drains it with its own group into ClickHouse; the clock stops
#              when `SELECT count()` reaches EVENTS. Reported from process start (includes
#              start-up) and from the first row to the last (steady state).
# Everything (Redis, ClickHouse, Sluice) shares this machine's cores. Not part of `make test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
n=${1:-1000000}
bin=${SLUICE_BIN_DIR:-$root/.build/release}
sluice="$bin/sluice"
[ -x "$sluice" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d /tmp/sluice-bench-redis.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port); chport=$(free_port); chtcp=$(free_port); hport=$(free_port); qport=$(free_port)
sluice_pid=""
cleanup() {
  [ -n "$sluice_pid" ] && kill -9 "$sluice_pid" 2>/dev/null || true
  # KEEP_LOG=FILE keeps the daemon's log.
  [ -n "${KEEP_LOG:-}" ] && cp "$work/sluice.log" "$KEEP_LOG" 2>/dev/null || true
  "$root/deploy/local/redis.sh" stop "$work/redis" >/dev/null 2>&1 || true
  "$root/deploy/local/clickhouse.sh" stop "$work/clickhouse" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/rawloop" "$root/benchmarks/redis/rawloop.c" -lhiredis
"$root/deploy/local/redis.sh" start "$work/redis" "$rport" no >/dev/null
"$root/deploy/local/clickhouse.sh" start "$work/clickhouse" "$chport" "$chtcp" >/dev/null

cat > "$work/sluice.yaml" <<YAML
clickhouse:
  url: http://127.0.0.1:$chport
  database: bench
  compression: lz4
http:
  listen: 127.0.0.1:$hport
query:
  listen: 127.0.0.1:$qport
datasets:
  paths: [$root/config/datasets]
pipeline:
  batch:
    max_rows: ${MAX_ROWS:-200000}
    max_bytes: 64MiB
    max_age: 1s
  memory_budget: 512MiB
  decode_workers: ${DECODE_WORKERS:-2}
inputs:
  redis:
    url: redis://127.0.0.1:$rport
    streams: [bench]
    group: sluice
    consumer: bench
    batch_size: ${BATCH_SIZE:-1000}
logging:
  level: warning
YAML
"$sluice" migrate --config "$work/sluice.yaml" >/dev/null

echo "pre-loading $n events..."
"$sluice" publish --dataset metrics --count "$n" --to "redis://127.0.0.1:$rport/bench" --batch-size 1000 --concurrency 4 --quiet
redis-cli -p "$rport" XGROUP CREATE bench sluice 0 >/dev/null

"$work/rawloop" 127.0.0.1 "$rport" bench raw "${BATCH_SIZE:-1000}"; [ -n "${RAW_ONLY:-}" ] && exit 0

count() { curl -s "http://127.0.0.1:$chport/?query=SELECT%20count()%20FROM%20bench.metrics"; }
now() { date +%s.%N; }
start=$(now)
if [ -n "${PERF:-}" ]; then
  # PERF=1: sample the daemon with call graphs into benchmarks/out/redis-perf.data.
  mkdir -p "$root/benchmarks/out"
  perf record -F 999 -g -o "$root/benchmarks/out/redis-perf.data" -- "$sluice" run --config "$work/sluice.yaml" 2>"$work/sluice.log" &
else
  "$sluice" run --config "$work/sluice.yaml" 2>"$work/sluice.log" &
fi
sluice_pid=$!
first=""; first_rows=0
while :; do
  c=$(count)
  if [ -z "$first" ] && [ "${c:-0}" -gt 0 ]; then first=$(now); first_rows=$c; fi
  [ "${c:-0}" -ge "$n" ] && break
  if ! kill -0 "$sluice_pid" 2>/dev/null; then echo "sluice died:"; cat "$work/sluice.log"; exit 1; fi
  sleep 0.05
done
end=$(now)
python3 - "$n" "$start" "$first" "$end" "$first_rows" <<'PY'
import sys
n, start, first, end, first_rows = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"sluice: {n} events in {end-start:.2f} s from process start: {n/(end-start):.0f} events/s")
print(f"sluice: steady state {n-first_rows} events in {end-first:.2f} s (first row to last): {(n-first_rows)/(end-first):.0f} events/s")
PY
if [ -n "${PERF:-}" ]; then
  child=$(ps -o pid= --ppid "$sluice_pid" | tr -d ' ')
  [ -n "$child" ] && kill -TERM "$child"
else
  kill -TERM "$sluice_pid"
fi
wait "$sluice_pid" || true; sluice_pid=""
pending=$(redis-cli -p "$rport" XPENDING bench sluice | head -1)
# STATS=1: Redis's own time per command (raw loop and Sluice together).
[ -n "${STATS:-}" ] && redis-cli -p "$rport" INFO commandstats | grep -E 'xreadgroup|xack|xinfo|xautoclaim|xadd|xgroup' || true
echo "pending after graceful stop: $pending"
