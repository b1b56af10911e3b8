#!/usr/bin/env bash
# Two real OCI registries (Debian's docker-registry, distribution 2.8) on loopback for the tests:
#   127.0.0.1:15000  no auth
#   127.0.0.1:15001  htpasswd auth, user `ci`, password `ci-registry-pw`
# Usage: bash test/services/registry.sh start|stop|status
# Idempotent: `start` leaves running registries alone. State lives under ${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test}.
set -euo pipefail
# shellcheck source=test/services/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

STATE_DIR="${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test}"
OPEN_DIR="$STATE_DIR/registry"
AUTH_DIR="$STATE_DIR/registry-auth"
OPEN_ADDR="127.0.0.1:15000"
AUTH_ADDR="127.0.0.1:15001"
AUTH_USER="ci"
AUTH_PASSWORD="ci-registry-pw"

ensure_packages() {
  local missing=()
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "registry.sh: installing ${missing[*]}" >&2
    apt-get update -qq
    # The package's own service (on :5000) is not wanted; policy-rc.d keeps it from starting where it applies.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Writes a registry config: $1 directory, $2 listen address, $3 "auth" to require htpasswd.
write_config() {
  local dir="$1" addr="$2" mode="$3"
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: { level: warn }"
    echo "storage: { filesystem: { rootdirectory: $dir/data }, delete: { enabled: true } }"
    echo "http: { addr: $addr, secret: release-runbook-test-only }"
    if [ "$mode" = auth ]; then
      echo "auth: { htpasswd: { realm: release-runbook-test, path: $dir/htpasswd } }"
    fi
  } >"$dir/config.yml"
  if [ "$mode" = auth ]; then
    # The password goes through stdin, not argv (`ps` would show it).
    printf '%s' "$AUTH_PASSWORD" | htpasswd -Bi -c "$dir/htpasswd" "$AUTH_USER" 2>/dev/null
  fi
}

# HTTP status of GET /v2/ ("000" when nothing answers).
v2_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$1/v2/" || true
}

# Up means: our pid is alive and /v2/ answers as this registry should (200 open, 401 with auth).
is_up() {
  local dir="$1" addr="$2" expect="$3"
  [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && [ "$(v2_status "$addr")" = "$expect" ]
}

start_one() {
  local dir="$1" addr="$2" mode="$3" expect="$4"
  if is_up "$dir" "$addr" "$expect"; then
    echo "registry $addr: already running (pid $(cat "$dir/pid"))"
    return 0
  fi
  if [ "$(v2_status "$addr")" != "000" ]; then
    echo "registry.sh: something else answers on $addr; stop it first" >&2
    return 1
  fi
  write_config "$dir" "$addr" "$mode"
  setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 100); do
    if [ "$(v2_status "$addr")" = "$expect" ]; then
      echo "registry $addr: started (pid $(cat "$dir/pid"), data $dir/data)"
      return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "registry.sh: registry on $addr did not come up; log follows" >&2
  cat "$dir/registry.log" >&2 || true
  return 1
}

stop_one() {
  local dir="$1" addr="$2"
  if stop_pidfile "$dir/pid"; then
    echo "registry $addr: stopped"
  else
    echo "registry $addr: not running"
  fi
}

status_one() {
  local dir="$1" addr="$2" expect="$3"
  if is_up "$dir" "$addr" "$expect"; then
    echo "registry $addr: up (pid $(cat "$dir/pid"))"
  else
    echo "registry $addr: down"
    return 1
  fi
}

case "${1:-}" in
  start)
    ensure_packages
    start_one "$OPEN_DIR" "$OPEN_ADDR" open 200
    start_one "$AUTH_DIR" "$AUTH_ADDR" auth 401
    ;;
  stop)
    stop_one "$OPEN_DIR" "$OPEN_ADDR"
    stop_one "$AUTH_DIR" "$AUTH_ADDR"
    ;;
  status)
    rc=0
    status_one "$OPEN_DIR" "$OPEN_ADDR" 200 || rc=1
    status_one "$AUTH_DIR" "$AUTH_ADDR" 401 || rc=1
    exit "$rc"
    ;;
  *)
    echo "usage: bash test/services/registry.sh start|stop|status" >&2
    exit 2
    ;;
esac
