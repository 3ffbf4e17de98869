#!/usr/bin/env bash
# Query latency benchmark: a private ClickHouse 18.16 (deploy/local/clickhouse.sh) with
# 10,000,000 raw `metrics` rows over 30 days, then timed side-port requests.
#   benchmarks/query/run.sh [rows=10000000] [iterations=300]
# Not part of `make test`. Results: benchmarks/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
rows=${1:-10000000}
iterations=${2:-300}
dir="$(mktemp -d /tmp/sluice-query-bench.XXXXXX)"
port=$(( 20000 + RANDOM % 20000 ))
cleanup() { bash "$root/deploy/local/clickhouse.sh" stop "$dir/ch" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
bash "$root/deploy/local/clickhouse.sh" start "$dir/ch" "$port" "$((port + 1))"
cd "$root"
swift build -c release --product SluiceQueryBenchmark
.build/release/SluiceQueryBenchmark "http://127.0.0.1:$port" bench "$rows" "$iterations" load
# Let background merges of the load settle, so the query phase measures steady state.
sleep 20
.build/release/SluiceQueryBenchmark "http://127.0.0.1:$port" bench "$rows" "$iterations" query
