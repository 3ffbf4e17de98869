#!/usr/bin/env bash
# Starts or stops a private Redis 7 server on loopback.
#   redis.sh start DIR PORT [appendonly]   data, log and pid file under DIR
#   redis.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}

case "$cmd" in
start)
  port=${3:?port}
  aof=${4:-no}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
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
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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
