#!/usr/bin/env bash
# Installs what Sluice needs to build, test and run locally, if it is missing:
# Debian packages through apt-get, and chdb-core (the modern ClickHouse engine used
# for format conformance tests) into the project's .venv. Safe to run repeatedly.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

packages=(
  pkg-config
  libhiredis-dev librdkafka-dev libcurl4-openssl-dev libzstd-dev liblz4-dev
  clickhouse-server clickhouse-client redis-server prometheus
  python3-venv curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  # The Debian packages try to start their own services; Sluice never uses those.
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in clickhouse-server redis-server prometheus; do
    "${sudo_cmd[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import chdb" >/dev/null 2>&1; then
  echo "install.sh: installing chdb-core into .venv"
  "$venv/bin/pip" install -q --disable-pip-version-check chdb-core
fi
