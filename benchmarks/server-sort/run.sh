#!/usr/bin/env bash
# Server CPU per row for a 1M-row metrics insert into ClickHouse 18.16, with the rows in
# arrival order and pre-sorted by the table's ORDER BY key (what Sluice sends).
#
#   benchmarks/server-sort/run.sh [ROWS=1000000] [REPEATS=5]
#
# The same rows are encoded once each way (SluiceBenchmarks native-files), then POSTed as
# uncompressed Native to a private server with merges stopped. CPU is the server
# process's utime+stime from /proc/PID/stat around each INSERT, so the figure is the
# server's own work on the insert, whatever else the machine runs. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROWS=${1:-1000000}
REPEATS=${2:-5}
WORK=$(mktemp -d /tmp/sluice-server-sort.XXXXXX)
cleanup() { bash deploy/local/clickhouse.sh stop "$WORK/ch" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(free_port); TCP=$(free_port)
BIN=${SLUICE_BIN_DIR:-$ROOT/.build/release}
[ -x "$BIN/SluiceBenchmarks" ] || swift build -c release --product SluiceBenchmarks >/dev/null
"$BIN/SluiceBenchmarks" native-files "$WORK" "$ROWS"
bash deploy/local/clickhouse.sh start "$WORK/ch" "$HTTP" "$TCP" >/dev/null
PID=$(cat "$WORK/ch/pid" 2>/dev/null || cat "$WORK/ch/pid.launch")
ch() { curl -sS --fail-with-body "http://127.0.0.1:$HTTP/" --data-binary "$1"; }
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
echo "ClickHouse $(ch 'SELECT version()') pid $PID; $ROWS rows per insert; $REPEATS inserts each way"

COLUMNS='(tenant_id, metric_name, value, timestamp, timestamp_ms, `dimensions.key`, `dimensions.value`, `metadata.key`, `metadata.value`, _event_key, _ingested_at)'
for mode in unsorted sorted; do
  total=0
  for i in $(seq "$REPEATS"); do
    ch "DROP TABLE IF EXISTS default.m" >/dev/null
    ch "CREATE TABLE default.m (tenant_id String, metric_name String, value Float64, timestamp DateTime('UTC'), timestamp_ms UInt16,
        dimensions Nested(key String, value String), metadata Nested(key String, value String),
        _event_key FixedString(16), _ingested_at DateTime)
        ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (tenant_id, metric_name, timestamp)" >/dev/null
    ch "SYSTEM STOP MERGES" >/dev/null
    before=$(ticks); start=$(date +%s.%N)
    curl -sS --fail-with-body "http://127.0.0.1:$HTTP/?query=$(python3 -c "import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1]))" "INSERT INTO default.m $COLUMNS FORMAT Native")" \
      --data-binary "@$WORK/$mode.native" >/dev/null
    after=$(ticks); end=$(date +%s.%N)
    rows=$(ch "SELECT count() FROM default.m")
    [ "$rows" = "$ROWS" ] || { echo "expected $ROWS rows, got $rows"; exit 1; }
    cpu_us=$(python3 -c "print(($after - $before) / $HZ * 1e6 / $ROWS)")
    wall=$(python3 -c "print(round($end - $start, 3))")
    echo "$mode run $i: server CPU $(printf %.2f "$cpu_us") µs/row, wall ${wall}s"
    total=$(python3 -c "print($total + $cpu_us)")
  done
  echo "$mode mean: $(python3 -c "print(round($total / $REPEATS, 2))") server CPU-µs/row"
done
