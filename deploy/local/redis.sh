#!/usr/bin/env bash
# Starts or stops a private Redis 7 server on loopback.
#   redis.sh start DIR PORT [appendonly]   data, log and pid file under DIR
#   redis.sh stop DIR
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

case "$cmd" in
start)
  port=${3:?port}
  aof=${4:-no}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
    echo "redis already running (pid $(cat "$dir/pid"))"
    exit 0
  fi
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' \
    --appendonly "$aof" --appendfsync everysec \
    --daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
      echo "redis ready on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
      exit 0
    fi
    sleep 0.1
  done
  echo "redis did not answer PING within 10 s" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    if alive "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
  fi
  ;;
*)
  echo "usage: $0 start DIR PORT [appendonly] | stop DIR" >&2
  exit 2
  ;;
esac
