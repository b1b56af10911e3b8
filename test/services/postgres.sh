#!/usr/bin/env bash
# A PostgreSQL server of the tests' own: its own cluster on 127.0.0.1:55432 with scram password auth, so that
# the integration tests and the snapshot benchmark never touch a system cluster.
#   bash test/services/postgres.sh start|stop|status
# Idempotent: `start` installs Debian's postgresql when missing, creates the cluster once, starts it when it is
# not running, (re)creates the roles and waits until the server accepts connections.
#
# Environment (defaults: the shared test server):
#   RUNBOOK_PG_PORT      port on 127.0.0.1 (default 55432)
#   RUNBOOK_PG_STATE     directory of this server's data, socket and log (default ${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test})
# A second server, e.g. the e2e sandbox's em-runtime server, whose server-wide snapshots must not see the
# databases other tests create on the shared one at the same time:
#   RUNBOOK_PG_PORT=55433 RUNBOOK_PG_STATE=/tmp/release-runbook-test-em bash test/services/postgres.sh start
set -euo pipefail

STATE_DIR="${RUNBOOK_PG_STATE:-${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test}}"
DATA_DIR="$STATE_DIR/pg"
SOCKET_DIR="$STATE_DIR/pg-socket"
LOG_FILE="$STATE_DIR/pg.log"
PORT="${RUNBOOK_PG_PORT:-55432}"
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "postgres.sh: RUNBOOK_PG_PORT must be a port number, got '$PORT'" >&2; exit 2; }
ADMIN_ROLE=runbook_admin
ADMIN_PASSWORD=runbook-test-pw
APP_ROLE=runbook_app
APP_PASSWORD=app-test-pw

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$dir" && -x "$dir/initdb" ]] || return 1
  echo "$dir"
}

as_postgres() { runuser -u postgres -- "$@"; }

install_postgres() {
  pg_bin_dir >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and installing it needs root: run 'apt-get install postgresql' as root"
  echo "postgres.sh: installing Debian's postgresql package" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin_dir >/dev/null || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
}

is_running() {
  local bin="$1"
  [[ -f "$DATA_DIR/PG_VERSION" ]] && as_postgres "$bin/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

create_cluster() {
  local bin="$1"
  [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
  install -d -o postgres -g postgres -m 700 "$DATA_DIR"
  # Local socket connections use peer auth so this script administers the cluster as OS user postgres
  # without a password; TCP connections (everything the tests and the CLI do) need a scram password.
  as_postgres "$bin/initdb" -D "$DATA_DIR" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  cat >>"$DATA_DIR/postgresql.conf" <<CONF

# release-runbook test server
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
password_encryption = 'scram-sha-256'
shared_buffers = 256MB
max_wal_size = 4GB
max_connections = 100
CONF
}

start_server() {
  local bin="$1"
  is_running "$bin" && return 0
  install -d -o postgres -g postgres -m 755 "$SOCKET_DIR"
  touch "$LOG_FILE" && chown postgres:postgres "$LOG_FILE"
  as_postgres "$bin/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 start >/dev/null ||
    die "the server did not start; see $LOG_FILE"
}

wait_ready() {
  local bin="$1" i
  for i in $(seq 1 120); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" && return 0
    sleep 0.5
  done
  die "the server on 127.0.0.1:$PORT did not become ready within 60 s; see $LOG_FILE"
}

ensure_roles() {
  local bin="$1"
  as_postgres "$bin/psql" -q -X -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -d postgres >/dev/null <<SQL
SELECT format('CREATE ROLE %I', '$ADMIN_ROLE') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ADMIN_ROLE') \gexec
SELECT format('CREATE ROLE %I', '$APP_ROLE') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') \gexec
ALTER ROLE $ADMIN_ROLE WITH LOGIN SUPERUSER PASSWORD '$ADMIN_PASSWORD';
ALTER ROLE $APP_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$APP_PASSWORD';
SQL
}

cmd_start() {
  install_postgres
  local bin
  bin="$(pg_bin_dir)"
  create_cluster "$bin"
  start_server "$bin"
  wait_ready "$bin"
  ensure_roles "$bin"
  echo "postgres.sh: running on 127.0.0.1:$PORT (data $DATA_DIR, log $LOG_FILE)"
}

cmd_stop() {
  local bin
  bin="$(pg_bin_dir)" || { echo "postgres.sh: PostgreSQL is not installed; nothing to stop"; return 0; }
  if is_running "$bin"; then
    as_postgres "$bin/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null
    echo "postgres.sh: stopped"
  else
    echo "postgres.sh: not running"
  fi
}

cmd_status() {
  local bin
  bin="$(pg_bin_dir)" || { echo "postgres.sh: PostgreSQL is not installed"; return 3; }
  if is_running "$bin" && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "postgres.sh: running on 127.0.0.1:$PORT (data $DATA_DIR)"
  else
    echo "postgres.sh: not running; start it with 'bash test/services/postgres.sh start'"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: bash test/services/postgres.sh start|stop|status" >&2; exit 2 ;;
esac
