#!/usr/bin/env bash
# Starts or stops a private ClickHouse server (Debian's 18.16) on loopback.
#   clickhouse.sh start DIR HTTP_PORT TCP_PORT   data, logs and pid file under DIR
#   clickhouse.sh stop DIR
# Used by `make run` (DIR=.run/clickhouse) and by the test fixture (a temp DIR and
# free ports per test run).
set -euo pipefail

# A process that exited but was not yet reaped by its parent is a zombie: kill -0 still
# succeeds on it, so check its state too.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}
cmd=${1:?start|stop}
dir=${2:?data directory}
server=/usr/sbin/clickhouse-server

case "$cmd" in
start)
  http_port=${3:?http port}
  tcp_port=${4:?tcp port}
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
    echo "clickhouse already running (pid $(cat "$dir/pid"))"
    exit 0
  fi
  cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
    <readonly><readonly>1</readonly></readonly>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/error.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <keep_alive_timeout>30</keep_alive_timeout>
  <merge_tree><parts_to_throw_insert>600</parts_to_throw_insert></merge_tree>
</yandex>
XML
  nohup "$server" --config-file="$dir/config.xml" --pid-file="$dir/pid" >"$dir/log/stdout.log" 2>&1 &
  echo $! > "$dir/pid.launch"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$http_port/ping" >/dev/null 2>&1; then
      echo "clickhouse ready on 127.0.0.1:$http_port (pid $(cat "$dir/pid" 2>/dev/null || cat "$dir/pid.launch"))"
      exit 0
    fi
    if ! alive "$(cat "$dir/pid.launch")"; then
      echo "clickhouse exited during start-up; see $dir/log" >&2
      tail -20 "$dir/log/error.log" "$dir/log/stdout.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "clickhouse did not answer /ping within 30 s" >&2
  exit 1
  ;;
stop)
  for f in "$dir/pid" "$dir/pid.launch"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if alive "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  ;;
*)
  echo "usage: $0 start DIR HTTP_PORT TCP_PORT | stop DIR" >&2
  exit 2
  ;;
esac
