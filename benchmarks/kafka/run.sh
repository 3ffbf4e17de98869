#!/usr/bin/env bash
# Kafka → ClickHouse throughput, Sluice next to ClickHouse 18.16's own Kafka table engine,
# on the same topic contents and the same target table. Not part of `make test`.
#
#   benchmarks/kafka/run.sh [EVENTS] [PARTITIONS]        (default 1000000 32)
#
# Env: SLUICE_BIN_DIR (default .build/release), KEEP=1 keeps the work directory,
#      PROFILE=1 records `perf` samples of Sluice's catch-up run,
#      ONLY=sluice|clickhouse|fresh|raw runs one measurement, CHUNK sets Sluice's
#      inputs.kafka.chunk_messages, CH_CONSUMERS the engine's kafka_num_consumers,
#      MAX_ROWS and DECODE_WORKERS set pipeline.batch.max_rows and
#      pipeline.decode_workers, MAX_WAIT (s) bounds each wait, KAFKA_PROPERTIES adds librdkafka properties
#      to Sluice's consumer ("a.b: v, c.d: w"), LOG_LEVEL sets Sluice's log level
#      (debug shows every pause and resume; KEEP=1 keeps the log), TRACE=1 writes
#      "seconds rows" at every count poll to trace-TABLE.txt in the work directory.
#
# Each line reports rows, wall time, and the CPU seconds (user + system, from /proc)
# that Sluice, ClickHouse and the mock cluster used meanwhile: the machine is shared,
# so wall time measures the neighbours too, CPU time much less.
#
# What is measured (see benchmarks/RESULTS.md, Kafka section):
# 1. sluice-catch-up: Sluice joins the group while the topic is empty, is frozen with
#    SIGSTOP, the topic is filled with EVENTS records, and Sluice is thawed. The time
#    from SIGCONT until ClickHouse holds EVENTS rows is the steady-state path: records
#    above the high watermark Sluice saw at assignment need no redelivery check.
# 2. sluice-fresh-group: a new group (and table) on a filled topic. Every record is
#    below the high watermark at assignment, so every event is also looked up in
#    ClickHouse before insert (the redelivery check after a rebalance or crash).
# 3. clickhouse-kafka-engine: a Kafka engine table + materialized view into the same
#    `metrics` table layout, created on a filled topic (auto.offset.reset=smallest
#    through config.d); time until EVENTS rows, or until the count stops growing.
# The topic is produced with lz4 compression and keyed records: the mock cluster keeps
# only ~5 MiB per partition (librdkafka 2.0.2), and compressed batches let a large
# backlog survive; each fill checks that the whole backlog was kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${SLUICE_BIN_DIR:-$ROOT/.build/release}
EVENTS=${1:-1000000}
PARTITIONS=${2:-32}
WORK=$(mktemp -d /tmp/sluice-kafka-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  bash deploy/local/clickhouse.sh stop "$WORK/ch" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
CH_HTTP=$(free_port); CH_TCP=$(free_port)
# ClickHouse 18.16's Kafka engine starts a new group at the log end (librdkafka's
# default); the measurement needs it to read the backlog, as Sluice does.
mkdir -p "$WORK/ch/config.d"
cat >"$WORK/ch/config.d/kafka.xml" <<'XML'
<?xml version="1.0"?>
<yandex><kafka><auto_offset_reset>smallest</auto_offset_reset></kafka></yandex>
XML
bash deploy/local/clickhouse.sh start "$WORK/ch" "$CH_HTTP" "$CH_TCP" >/dev/null
CH_PID=$(cat "$WORK/ch/pid" 2>/dev/null || cat "$WORK/ch/pid.launch")
ch() { curl -sS --fail-with-body "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }

# The mock cluster lives as long as its stdin (this script's fifo) stays open.
mkfifo "$WORK/mock.in"
"$BIN/sluice-kafka-mock" --brokers 3 --topic "live:$PARTITIONS" --topic "filled:$PARTITIONS" <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!; PIDS+=($MOCK_PID)
exec 9>"$WORK/mock.in"
for _ in $(seq 50); do grep -q bootstrap "$WORK/mock.out" && break; sleep 0.1; done
BROKERS=$(head -1 "$WORK/mock.out" | cut -d' ' -f2)
echo "mock cluster: $BROKERS; ClickHouse 18.16 on $CH_HTTP; $EVENTS events over $PARTITIONS partitions; work dir $WORK"

config() { # db group topic query-port http-port
  cat >"$WORK/$1.yaml" <<YAML
clickhouse: {url: "http://127.0.0.1:$CH_HTTP", database: $1, compression: lz4}
http: {listen: "127.0.0.1:$5"}
query: {listen: "127.0.0.1:$4"}
datasets: {paths: ["$ROOT/config/datasets"]}
pipeline:
  batch: {max_rows: ${MAX_ROWS:-200000}, max_bytes: 64MiB, max_age: 1s}
  memory_budget: 512MiB
  decode_workers: ${DECODE_WORKERS:-2}
inputs:
  kafka:
    brokers: "$BROKERS"
    topics: [$3]
    group: $2
    chunk_messages: ${CHUNK:-5000}
    properties: {${KAFKA_PROPERTIES:-}}
logging: {level: ${LOG_LEVEL:-info}}
YAML
  "$BIN/sluice" migrate --config "$WORK/$1.yaml" >/dev/null
}

wait_rows() { # table → prints "seconds rows": when the count reached EVENTS, or, if it
  # stops short (ClickHouse's Kafka engine has been seen to drop a record), when it last
  # grew, once it has not grown for longer than stream_flush_interval_ms (7.5 s)
  local deadline=$(( $(date +%s) + ${MAX_WAIT:-600} )) c last=-1 changed
  changed=$(now)
  while true; do
    c=$(ch "SELECT count() FROM $1")
    [ "${TRACE:-0}" = 1 ] && echo "$(echo "$(now) - $START" | bc) $c" >>"$WORK/trace-$1.txt"
    if [ "$c" -ge "$EVENTS" ]; then echo "$(echo "$(now) - $START" | bc) $c"; return 0; fi
    if [ "$c" != "$last" ]; then last=$c; changed=$(now); fi
    if [ "$c" -gt 0 ] && [ "$(echo "$(now) - $changed > 15" | bc)" = 1 ]; then
      echo "$(echo "$changed - $START" | bc) $c"; return 0
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "$1: only $c of $EVENTS rows after ${MAX_WAIT:-600} s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# CPU seconds (user + system) a process has used so far, from /proc.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_mark() { # pid... → remembers each one's CPU time now
  CPU_MARK=(); for p in "$@"; do CPU_MARK+=("$p:$(cpu "$p")"); done
}
cpu_since() { # prints "name=seconds" for each process marked, since the mark
  local out="" entry p before
  for entry in "${CPU_MARK[@]}"; do
    p=${entry%%:*}; before=${entry#*:}
    out+="$(printf '%s=%.2f ' "$(cat "/proc/$p/comm" 2>/dev/null || echo "$p")" "$(echo "$(cpu "$p") - $before" | bc -l)")"
  done
  echo "$out"
}

report() { # name seconds rows cpu-text
  printf '%-24s %8d rows in %6.2f s = %7.0f rows/s   cpu s: %s load %s\n' "$1" "$3" "$2" \
    "$(echo "$3 / $2" | bc -l)" "$4" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$WORK/results.txt"
}

measure() { # name table pid... : waits for the rows and reports time and CPU since START
  local r
  if r=$(wait_rows "$2"); then
    report "$1" ${r% *} ${r#* } "$(cpu_since)"
  else
    echo "$1 FAILED (see $WORK)" | tee -a "$WORK/results.txt"
  fi
}

fill() { # topic seed: produce EVENTS records, then make sure the mock kept all of them
  "$BIN/SluiceKafkaBench" prefill --brokers "$BROKERS" --topic "$1" --count "$EVENTS" --compression lz4 --seed "$2"
  local kept
  kept=$("$BIN/SluiceKafkaBench" watermarks --brokers "$BROKERS" --topic "$1" --partitions "$PARTITIONS" | awk '/^total/ {print $2}')
  if [ "$kept" != "$EVENTS" ]; then
    echo "the mock cluster kept $kept of $EVENTS records of $1 (it trims each partition to ~5 MiB); use more partitions" >&2
    exit 1
  fi
}

# 1. Sluice catching up on a backlog that arrived while it was frozen.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = sluice ]; then
  config catchup g_catchup live "$(free_port)" "$(free_port)"
  "$BIN/sluice" run --config "$WORK/catchup.yaml" 2>"$WORK/catchup.log" &
  SP=$!; PIDS+=($SP)
  for _ in $(seq 200); do grep -q "partitions assigned" "$WORK/catchup.log" && break; sleep 0.1; done
  kill -STOP "$SP"
  fill live 1
  cpu_mark "$SP" "$CH_PID" "$MOCK_PID"
  START=$(now); kill -CONT "$SP"
  if [ "${PROFILE:-0}" = 1 ]; then
    perf record -F 999 --call-graph "${PERF_CALLGRAPH:-fp}" -p "$SP" -o "$WORK/perf.data" -- sleep "${PROFILE_SECONDS:-4}" >/dev/null 2>&1 &
    PERF_PID=$!
  fi
  measure sluice-catch-up catchup.metrics
  kill "$SP"; wait "$SP" || true
  if [ "${PROFILE:-0}" = 1 ]; then
    wait "$PERF_PID" || true
    perf report -i "$WORK/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 | tee "$WORK/perf-threads.txt"
    perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45 | tee "$WORK/perf-symbols.txt"
  fi
fi

# The filled topic serves measurements 2 and 3.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = fresh ] || [ "$ONLY" = clickhouse ] || [ "$ONLY" = raw ]; then
  fill filled 2
fi

# 0. The ceiling: a bare librdkafka consumer draining the filled topic, nothing else.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = raw ]; then
  gcc -O2 -o "$WORK/rawconsume" benchmarks/kafka/rawconsume.c -lrdkafka
  "$WORK/rawconsume" "$BROKERS" filled "$EVENTS" | tee -a "$WORK/results.txt"
  # The same, with the consumer settings Sluice uses.
  "$WORK/rawconsume" "$BROKERS" filled "$EVENTS" group.id=g_raw_sluice partition.assignment.strategy=cooperative-sticky \
    queued.max.messages.kbytes=16384 statistics.interval.ms=10000 | sed 's/^raw-consumer/raw-consumer-sluice-settings/' | tee -a "$WORK/results.txt"
fi

# 2. Sluice, new group, every event checked against ClickHouse first.
if [ -z "${ONLY:-}" ] || [ "$ONLY" = fresh ]; then
  config fresh g_fresh filled "$(free_port)" "$(free_port)"
  START=$(now)
  "$BIN/sluice" run --config "$WORK/fresh.yaml" 2>"$WORK/fresh.log" &
  SP=$!; PIDS+=($SP)
  cpu_mark "$SP" "$CH_PID" "$MOCK_PID"
  measure sluice-fresh-group fresh.metrics
  kill "$SP"; wait "$SP" || true
fi

# 3. ClickHouse's Kafka engine into the same table layout (18.16 has no JSONExtract;
#    visitParamExtract* needs `"key":value` without spaces, which is what the events use).
if [ -z "${ONLY:-}" ] || [ "$ONLY" = clickhouse ]; then
  config engine g_unused filled "$(free_port)" "$(free_port)"
  # One String column per record; TabSeparated leaves the JSON as it is (the events
  # hold no tabs or backslashes), and kafka_row_delimiter ends each record's row.
  ch "CREATE TABLE engine.kafka_in (line String) ENGINE = Kafka SETTINGS kafka_broker_list = '$BROKERS', kafka_topic_list = 'filled', kafka_group_name = 'g_engine', kafka_format = 'TabSeparated', kafka_row_delimiter = '\n', kafka_num_consumers = ${CH_CONSUMERS:-1}"
  cpu_mark "$CH_PID" "$MOCK_PID"
  START=$(now)
  ch "CREATE MATERIALIZED VIEW engine.kafka_mv TO engine.metrics AS SELECT
        visitParamExtractString(line, 'tenantid') AS tenant_id,
        visitParamExtractString(line, 'metric_name') AS metric_name,
        visitParamExtractFloat(line, 'value') AS value,
        parseDateTimeBestEffort(substring(visitParamExtractString(line, 'timestamp'), 1, 19)) AS timestamp,
        toUInt16(substring(visitParamExtractString(line, 'timestamp'), 21, 3)) AS timestamp_ms,
        ['region', 'host'] AS \`dimensions.key\`,
        [visitParamExtractString(line, 'region'), visitParamExtractString(line, 'host')] AS \`dimensions.value\`,
        ['source'] AS \`metadata.key\`,
        ['synthetic'] AS \`metadata.value\`,
        toFixedString(unhex(substring(hex(cityHash64(visitParamExtractString(line, 'id'))), 1, 16)), 16) AS _event_key,
        now() AS _ingested_at
      FROM engine.kafka_in"
  measure clickhouse-kafka-engine engine.metrics
  ch "DROP TABLE engine.kafka_mv"; ch "DROP TABLE engine.kafka_in"
fi
echo "---"; cat "$WORK/results.txt"
