#!/usr/bin/env bash
# The local stack for `make run`: ClickHouse and Redis under .run/, on the ports that
# config/sluice.yaml expects.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/deploy/local"
run="$root/.run"
CLICKHOUSE_HTTP_PORT=${CLICKHOUSE_HTTP_PORT:-18123}
CLICKHOUSE_TCP_PORT=${CLICKHOUSE_TCP_PORT:-19000}
REDIS_PORT=${REDIS_PORT:-16379}

case "${1:-up}" in
up)
  "$here/clickhouse.sh" start "$run/clickhouse" "$CLICKHOUSE_HTTP_PORT" "$CLICKHOUSE_TCP_PORT"
  "$here/redis.sh" start "$run/redis" "$REDIS_PORT" yes
  ;;
down)
  "$here/redis.sh" stop "$run/redis"
  "$here/clickhouse.sh" stop "$run/clickhouse"
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
