#!/usr/bin/env bash
# HTTP batch ingest → ClickHouse 18.16, end to end, everything on this machine's cores:
# ClickHouse, the daemon and the load generator (`sluice publish`).
#
#   benchmarks/http/run.sh [EVENTS=1000000] [BATCH=5000] [CONCURRENCY=16]
#
# The request bodies are generated first (`sluice publish --to file://`) and replayed with
# curl, CONCURRENCY requests in flight: generating JSON costs about as much CPU as
# ingesting it, and the generator must not be what is measured. Events/s is EVENTS
# divided by the time from the first request until ClickHouse holds EVENTS rows; every
# request is answered only once its rows are durable, so this is the acknowledged rate.
# Not part of `make test`. Env: SLUICE_BIN_DIR (default .build/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${SLUICE_BIN_DIR:-$ROOT/.build/release}
EVENTS=${1:-1000000}
BATCH=${2:-5000}
CONCURRENCY=${3:-16}
WORK=$(mktemp -d /tmp/sluice-http-bench.XXXXXX)
DAEMON=""
cleanup() {
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
  bash deploy/local/clickhouse.sh stop "$WORK/ch" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CH_HTTP=$(free_port); CH_TCP=$(free_port); APP=$(free_port); SIDE=$(free_port)
bash deploy/local/clickhouse.sh start "$WORK/ch" "$CH_HTTP" "$CH_TCP" >/dev/null
ch() { curl -sS --fail-with-body "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }
cat >"$WORK/sluice.yaml" <<YAML
clickhouse: {url: "http://127.0.0.1:$CH_HTTP", database: bench, compression: lz4}
http: {listen: "127.0.0.1:$APP", max_body_bytes: 64MiB}
query: {listen: "127.0.0.1:$SIDE"}
datasets: {paths: ["$ROOT/config/datasets"]}
pipeline:
  batch: {max_rows: 200000, max_bytes: 64MiB, max_age: 250ms}
  memory_budget: 512MiB
logging: {level: warning}
YAML
"$BIN/sluice" migrate --config "$WORK/sluice.yaml" >/dev/null 2>&1
"$BIN/sluice" run --config "$WORK/sluice.yaml" 2>"$WORK/daemon.log" &
DAEMON=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SIDE/health/ready" >/dev/null && break; sleep 0.1; done
"$BIN/sluice" publish --dataset metrics --count "$EVENTS" --to "file://$WORK/bodies" --batch-size "$BATCH" --quiet >/dev/null
echo "ClickHouse $(ch 'SELECT version()'); $EVENTS metrics events ($(du -sh "$WORK/bodies" | cut -f1) of JSON), batches of $BATCH, $CONCURRENCY requests in flight"
start=$(date +%s.%N)
ls "$WORK"/bodies/*.json | xargs -P "$CONCURRENCY" -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
  -H 'Content-Type: application/cloudevents-batch+json' -H 'Expect:' --data-binary @{} "http://127.0.0.1:$APP/v1/events" | sort | uniq -c | sed 's/^/  HTTP status count: /'
until [ "$(ch "SELECT count() FROM bench.metrics")" -ge "$EVENTS" ]; do sleep 0.05; done
end=$(date +%s.%N)
rows=$(ch "SELECT count() FROM bench.metrics")
python3 -c "print(f'{$rows} rows in {$end - $start:.2f}s: {$rows / ($end - $start):,.0f} events/s end to end')"
curl -s "http://127.0.0.1:$SIDE/metrics" | grep -E '^sluice_(events_(received|inserted|duplicate|dead_lettered)_total)' | sed 's/^/  /'
