#!/usr/bin/env bash
# A Redis server of the tests' own (Debian's redis-server) on 127.0.0.1:16379, password `redis-test-pw`, so the
# companion-backup tests never touch a system Redis. Its data lives under the test state directory.
#   bash test/services/redis.sh start|stop|status
# Idempotent: `start` installs redis-server when missing and leaves a running server alone.
set -euo pipefail
# shellcheck source=test/services/pidfile.sh
source "$(dirname "$0")/pidfile.sh"

STATE_DIR="${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test}"
DIR="$STATE_DIR/redis"
PORT=16379
PASSWORD=redis-test-pw

die() { echo "redis.sh: $*" >&2; exit 1; }

ensure_package() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  [[ "$(id -u)" == 0 ]] || die "redis-server is not installed and installing it needs root: run 'apt-get install redis-server' as root"
  echo "redis.sh: installing Debian's redis-server" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
}

ping() { REDISCLI_AUTH="$PASSWORD" redis-cli -h 127.0.0.1 -p "$PORT" --no-auth-warning ping 2>/dev/null | grep -qx PONG; }

is_up() { [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null && ping; }

start() {
  ensure_package
  if is_up; then
    echo "redis 127.0.0.1:$PORT: already running (pid $(cat "$DIR/pid"))"
    return 0
  fi
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  # The password is given in a config file, not on redis-server's command line where ps would show it.
  cat >"$DIR/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
protected-mode yes
requirepass $PASSWORD
dir $DIR
dbfilename dump.rdb
save ""
appendonly no
daemonize yes
pidfile $DIR/pid
logfile $DIR/redis.log
CONF
  chmod 600 "$DIR/redis.conf"
  redis-server "$DIR/redis.conf"
  for _ in $(seq 1 100); do
    if ping; then
      echo "redis 127.0.0.1:$PORT: started (pid $(cat "$DIR/pid"))"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$DIR/redis.log" >&2 || true
  die "redis-server did not answer on 127.0.0.1:$PORT within 10 s"
}

stop() {
  stop_pidfile "$DIR/pid" || true
  echo "redis 127.0.0.1:$PORT: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_up; then echo "redis 127.0.0.1:$PORT: up"; else echo "redis 127.0.0.1:$PORT: down"; exit 1; fi ;;
  *) die "usage: bash test/services/redis.sh start|stop|status" ;;
esac
