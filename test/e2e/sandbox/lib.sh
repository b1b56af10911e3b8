# shellcheck shell=bash disable=SC2034  # (variables for the scripts that source this)
# Shared by up.sh, reset.sh and down.sh (sourced, not run). Everything here binds to 127.0.0.1 only.
#
# Environment (all optional):
#   RUNBOOK_TOOLCHAIN_DIR      toolchain root (default ~/.cache/release-runbook/toolchain)
#   RUNBOOK_E2E_STATE          sandbox state dir (default /tmp/release-runbook-e2e): kubeconfig, logs/api.log,
#                              fixture pid/log, sandbox.env
#   RUNBOOK_E2E_CLUSTER, RUNBOOK_E2E_PORT_BASE   passed through to test/e2e/cluster/up.sh
#   RUNBOOK_E2E_FIXTURE_PORT   port of the Alexandria API fixture (default 18080)

SANDBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SANDBOX_DIR/../../.." && pwd)
TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
STATE=${RUNBOOK_E2E_STATE:-/tmp/release-runbook-e2e}
SANDBOX_ENV="$STATE/sandbox.env"
API_LOG="$STATE/logs/api.log"

FIXTURE_PORT=${RUNBOOK_E2E_FIXTURE_PORT:-18080}
FIXTURE_URL="http://127.0.0.1:$FIXTURE_PORT"
FIXTURE_PIDFILE="$STATE/fixture.pid"
FIXTURE_LOG="$STATE/fixture.log"
# The mode the fixture is started with; reset.sh restores the complete mode the fixture reported right after
# that start ($FIXTURE_MODE_FILE), so fields added to FixtureMode later are reset too.
FIXTURE_START_MODE='{"tier":"starter","adminExists":true}'
FIXTURE_MODE_FILE="$STATE/fixture-mode.json"

# test/services/postgres.sh's server and superuser.
PG_HOST=127.0.0.1
PG_PORT=55432
PG_ADMIN_USER=runbook_admin
PG_ADMIN_PASSWORD=runbook-test-pw
# "The Alexandria database" (test-only credentials).
APP_DB=alexandria
APP_ROLE=alexandria
APP_PASSWORD=alexandria-e2e-pw

NAMESPACE=alexandria
DB_SECRET=alexandria-db
REGISTRY=127.0.0.1:15000
IMAGE_REPOSITORIES=(alexandria/api alexandria/orchestrator alexandria/dashboard)
IMAGE_TAGS=(v1.4.0 v1.4.1 v1.5.0 broken)

log() { printf '[sandbox] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Times a step: step NAME CMD...
step() {
  local name=$1 t0=$EPOCHREALTIME
  shift
  "$@"
  log "$(awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%-10s %5.1fs", n, b - a }')"
}

source_toolchain() {
  [[ -f "$TOOLCHAIN/env.sh" ]] ||
    die "the e2e toolchain is not built ($TOOLCHAIN/env.sh missing): run 'bash test/e2e/toolchain/build.sh'"
  # shellcheck disable=SC1091
  source "$TOOLCHAIN/env.sh"
}

# ---- PostgreSQL -------------------------------------------------------------------------------
find_psql() {
  if command -v psql >/dev/null 2>&1; then command -v psql; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$dir" && -x "$dir/psql" ]] || die "psql not found (bash test/services/postgres.sh start installs PostgreSQL)"
  echo "$dir/psql"
}

# psql_admin DB [psql args...]: as the superuser over TCP; the password goes through the environment.
psql_admin() {
  local db=$1
  shift
  PGPASSWORD=$PG_ADMIN_PASSWORD PGCONNECT_TIMEOUT=5 PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ADMIN_USER" -d "$db" "$@"
}

ensure_app_role() {
  psql_admin postgres >/dev/null <<SQL
SELECT format('CREATE ROLE %I', '$APP_ROLE') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') \gexec
ALTER ROLE $APP_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$APP_PASSWORD';
SQL
}

app_db_exists() {
  [[ "$(psql_admin postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$APP_DB'")" == 1 ]]
}

app_db_seeded() {
  [[ "$(psql_admin "$APP_DB" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'schema_migrations'" 2>/dev/null)" == 1 ]]
}

drop_app_db() {
  psql_admin postgres >/dev/null <<SQL
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$APP_DB' AND pid <> pg_backend_pid();
DROP DATABASE IF EXISTS $APP_DB WITH (FORCE);
SQL
}

# Creates the database (owned by the app role) and seeds it; the tables are created as the app role, so it
# owns them like an application that ran its own migrations.
create_and_seed_app_db() {
  psql_admin postgres -c "CREATE DATABASE $APP_DB OWNER $APP_ROLE" >/dev/null
  psql_admin "$APP_DB" -v app_role="$APP_ROLE" -f "$SANDBOX_DIR/seed.sql" >/dev/null
}

# ensure_app_db [--reset]: without --reset an existing seeded database is left as it is.
ensure_app_db() {
  ensure_app_role
  if [[ "${1:-}" == --reset ]] || ! app_db_exists || ! app_db_seeded; then
    drop_app_db
    create_and_seed_app_db
  fi
}

# ---- Kubernetes -------------------------------------------------------------------------------
# Namespace and the DSN Secret; the DSN goes to kubectl through a pipe (not argv, never printed).
apply_k8s_objects() {
  kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl create secret generic "$DB_SECRET" -n "$NAMESPACE" \
    --from-file=dsn=<(printf 'postgres://%s:%s@%s:%s/%s' "$APP_ROLE" "$APP_PASSWORD" "$PG_HOST" "$PG_PORT" "$APP_DB") \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

write_benign_api_log() {
  printf '%s\n' \
    'alexandria-api starting (tier=starter)' \
    'database: connected' \
    'migrations: schema version 1, nothing to apply' \
    'license: valid' \
    'listening on :8080' |
    bash "$REPO_ROOT/test/e2e/cluster/api-log.sh" --reset
}

# ---- the Alexandria API fixture ---------------------------------------------------------------
fixture_pid_alive() {
  [[ -f "$FIXTURE_PIDFILE" ]] && kill -0 "$(cat "$FIXTURE_PIDFILE")" 2>/dev/null
}

# Our fixture answers: its pid is alive and GET /__fixture/mode (which does not count as a /ready probe) is 200.
fixture_running() {
  fixture_pid_alive &&
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$FIXTURE_URL/__fixture/mode" || true)" == 200 ]]
}

start_fixture() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$FIXTURE_URL/" || true)
  [[ "$code" == 000 ]] || die "something that is not our fixture answers on $FIXTURE_URL (HTTP $code); stop it or set RUNBOOK_E2E_FIXTURE_PORT"
  (
    cd "$REPO_ROOT" || exit 1
    # setsid + every fd redirected: the fixture outlives this script and holds no pipe of whoever ran it.
    TS_NODE_TRANSPILE_ONLY=true setsid node -r ts-node/register test/fixtures/alexandria-api/server.ts \
      --host 127.0.0.1 --port "$FIXTURE_PORT" --mode "$FIXTURE_START_MODE" >"$FIXTURE_LOG" 2>&1 </dev/null &
    echo $! >"$FIXTURE_PIDFILE"
  )
  local i
  for i in $(seq 1 150); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$FIXTURE_URL/ready" || true)" == 200 ]]; then
      curl -sf --max-time 2 "$FIXTURE_URL/__fixture/mode" >"$FIXTURE_MODE_FILE"
      return 0
    fi
    fixture_pid_alive || break
    sleep 0.2
  done
  cat "$FIXTURE_LOG" >&2 || true
  die "the Alexandria API fixture did not answer $FIXTURE_URL/ready (log: $FIXTURE_LOG)"
}

stop_fixture() {
  if fixture_pid_alive; then
    local pid
    pid=$(cat "$FIXTURE_PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    log "fixture (pid $pid) stopped"
  fi
  rm -f "$FIXTURE_PIDFILE"
}

# Puts the running fixture back to the mode it was started with.
reset_fixture_mode() {
  [[ -s "$FIXTURE_MODE_FILE" ]] || die "$FIXTURE_MODE_FILE missing: run test/e2e/sandbox/up.sh"
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' --data-binary "@$FIXTURE_MODE_FILE" \
    "$FIXTURE_URL/__fixture/mode" >/dev/null || die "POST $FIXTURE_URL/__fixture/mode failed (is the fixture running? up.sh starts it)"
}

# ---- em-runtime (RUNBOOK_E2E_EM_RUNTIME=1) -------------------------------------------------------
# em-runtime's databases live on a PostgreSQL server of their own: its snapshot is server-wide (pg_dumpall's
# scope: every database and role), and the shared server on 55432 holds whatever other tests create meanwhile.
EM_RUNTIME=${RUNBOOK_E2E_EM_RUNTIME:-0}
EM_PG_PORT=${RUNBOOK_E2E_EM_PG_PORT:-55433}
EM_PG_STATE=${RUNBOOK_E2E_EM_PG_STATE:-/tmp/release-runbook-test-em}
EM_NAMESPACE=em-runtime
EM_RELEASE=em-runtime
# Keycloak, OpenFGA and Infisical keep their own schemas; the three services run Alembic (alembic_version).
EM_INFRA_DATABASES=(keycloak openfga infisical)
EM_SERVICE_DATABASES=(governance assets utils)
# Each database's owner role has the database's name and the password "<name>-e2e-pw" (test-only).
EM_CHART_DIR="$REPO_ROOT/test/fixtures/charts/em-runtime"
# Every version is the same chart packaged with --version/--app-version V; the appVersion pins the images.
EM_CHART_VERSIONS=(0.9.0 0.10.0 0.11.0)
# test/services/registry.sh's auth registry and its test-only login.
CHART_REGISTRY=127.0.0.1:15001
CHART_REGISTRY_USER=ci
CHART_REGISTRY_PASSWORD=ci-registry-pw
EM_CHART="oci://$CHART_REGISTRY/charts/em-runtime"
EM_IMAGE_REPOSITORIES=(em-runtime/governance em-runtime/assets em-runtime/utils)
EM_INFRA_IMAGES=(em-runtime/keycloak:26.0 em-runtime/openfga:1.8 em-runtime/postgresql:16 em-runtime/redis:7)
EM_LOG_CONTAINERS=(governance assets utils keycloak)

start_em_postgres() {
  RUNBOOK_PG_PORT=$EM_PG_PORT RUNBOOK_PG_STATE=$EM_PG_STATE bash "$REPO_ROOT/test/services/postgres.sh" start >&2
}

# psql_em DB [psql args...]: psql_admin against em-runtime's server.
psql_em() {
  PG_PORT=$EM_PG_PORT psql_admin "$@"
}

em_db_seeded() {
  local db
  for db in "${EM_SERVICE_DATABASES[@]}"; do
    [[ "$(psql_em "$db" -tAc "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'" 2>/dev/null)" == 1 ]] || return 1
  done
  for db in "${EM_INFRA_DATABASES[@]}"; do
    [[ "$(psql_em postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" == 1 ]] || return 1
  done
}

# Drops every database of the server but postgres and the templates (what a restore test may have left
# too: kept and scratch copies), then creates and seeds em-runtime's six, each owned by its role.
seed_em_databases() {
  local db
  psql_em postgres >/dev/null <<'SQL'
SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database
 WHERE datname NOT IN ('postgres', 'template0', 'template1') \gexec
SQL
  for db in "${EM_INFRA_DATABASES[@]}" "${EM_SERVICE_DATABASES[@]}"; do
    psql_em postgres >/dev/null <<SQL
SELECT format('CREATE ROLE %I', '$db') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$db') \gexec
ALTER ROLE "$db" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$db-e2e-pw';
CREATE DATABASE "$db" OWNER "$db";
SQL
  done
  for db in "${EM_INFRA_DATABASES[@]}"; do psql_em "$db" -v svc="$db" -f "$SANDBOX_DIR/em-infra-seed.sql" >/dev/null; done
  for db in "${EM_SERVICE_DATABASES[@]}"; do psql_em "$db" -v svc="$db" -f "$SANDBOX_DIR/em-seed.sql" >/dev/null; done
}

# ensure_em_databases [--reset]
ensure_em_databases() {
  if [[ "${1:-}" == --reset ]] || ! em_db_seeded; then seed_em_databases; fi
}

# The namespace and the two Secrets the guide backs up, created by the operator before the install:
# em-runtime-secrets (base-url: the fixture, which stands in for em-runtime's gateway; each service's DSN)
# and infisical-bootstrap-secret. Values go to kubectl through private files, never argv.
apply_em_k8s_objects() {
  local svc dir dsn_files=()
  kubectl create namespace "$EM_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  dir=$(mktemp -d)
  (
    umask 077
    printf '%s' "$FIXTURE_URL" >"$dir/base-url"
    for svc in "${EM_SERVICE_DATABASES[@]}"; do
      printf 'postgresql://%s:%s@%s:%s/%s' "$svc" "$svc-e2e-pw" "$PG_HOST" "$EM_PG_PORT" "$svc" >"$dir/$svc-dsn"
    done
    printf '%s' 'infisical-e2e-bootstrap-token' >"$dir/token"
  )
  for svc in "${EM_SERVICE_DATABASES[@]}"; do dsn_files+=("--from-file=$svc-dsn=$dir/$svc-dsn"); done
  kubectl create secret generic em-runtime-secrets -n "$EM_NAMESPACE" --from-file=base-url="$dir/base-url" \
    "${dsn_files[@]}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl create secret generic infisical-bootstrap-secret -n "$EM_NAMESPACE" --from-file=token="$dir/token" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  rm -rf "$dir"
}

# The services' startup lines: Alembic finds nothing to apply. The failed-migration mode appends its own.
write_benign_em_logs() {
  local svc
  for svc in "${EM_SERVICE_DATABASES[@]}"; do
    printf '%s\n' \
      "em-runtime $svc starting" \
      "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl." \
      "INFO  [alembic.runtime.migration] Will assume transactional DDL." \
      "$svc: migrations up to date" \
      "Uvicorn running on http://0.0.0.0:8000" |
      bash "$REPO_ROOT/test/e2e/cluster/container-log.sh" "$svc" --reset
  done
  printf '%s\n' 'Keycloak 26.0 on JVM started' 'Listening on: http://0.0.0.0:8080' |
    bash "$REPO_ROOT/test/e2e/cluster/container-log.sh" keycloak --reset
}

# helm_chart_login CONFIG: a login to the chart registry in a registry config of its own (the password on stdin).
helm_chart_login() {
  printf '%s' "$CHART_REGISTRY_PASSWORD" |
    helm registry login "$CHART_REGISTRY" --registry-config "$1" --username "$CHART_REGISTRY_USER" --password-stdin --plain-http >/dev/null 2>&1 ||
    die "helm registry login $CHART_REGISTRY failed (is test/services/registry.sh running?)"
}

# Packages the em-runtime test chart at every version missing from the auth registry and pushes it there
# with `helm push`, through a temporary registry config (never the operator's, never argv).
push_em_charts() {
  local dir version missing=()
  dir=$(mktemp -d)
  chmod 700 "$dir"
  helm_chart_login "$dir/registry.json"
  for version in "${EM_CHART_VERSIONS[@]}"; do
    helm show chart "$EM_CHART" --version "$version" --registry-config "$dir/registry.json" --plain-http >/dev/null 2>&1 ||
      missing+=("$version")
  done
  for version in "${missing[@]}"; do
    log "helm push em-runtime $version to $EM_CHART"
    helm package "$EM_CHART_DIR" --version "$version" --app-version "$version" -d "$dir" >/dev/null
    helm push "$dir/em-runtime-$version.tgz" "oci://$CHART_REGISTRY/charts" --registry-config "$dir/registry.json" --plain-http >/dev/null 2>&1 ||
      { rm -rf "$dir"; die "helm push em-runtime $version to oci://$CHART_REGISTRY/charts failed"; }
  done
  rm -rf "$dir"
}

# The images the chart's versions name, so that a registry check of them passes (no image build needed).
push_em_images() {
  local refs=() repo version ref code
  for repo in "${EM_IMAGE_REPOSITORIES[@]}"; do
    for version in "${EM_CHART_VERSIONS[@]}"; do refs+=("$repo:$version"); done
  done
  refs+=("${EM_INFRA_IMAGES[@]}")
  local missing=()
  for ref in "${refs[@]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -I \
      -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/${ref%:*}/manifests/${ref##*:}" || true)
    [[ "$code" == 200 ]] || missing+=("$ref")
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register "$SANDBOX_DIR/push-images.ts" "$REGISTRY" "${missing[@]}" >&2
}

uninstall_em_releases() {
  local releases rel
  releases=$(helm list -n "$EM_NAMESPACE" -a -q 2>/dev/null) || return 0
  for rel in $releases; do
    log "helm uninstall $rel -n $EM_NAMESPACE"
    helm uninstall "$rel" -n "$EM_NAMESPACE" --wait --timeout 60s >/dev/null ||
      kubectl delete secret -n "$EM_NAMESPACE" -l "owner=helm,name=$rel" >/dev/null || true
  done
  if [[ -n "$releases" ]]; then
    kubectl delete deployment --all -n "$EM_NAMESPACE" --wait=false >/dev/null 2>&1 || true
    kubectl wait --for=delete pod --all -n "$EM_NAMESPACE" --timeout=60s >/dev/null 2>&1 ||
      die "pods in namespace $EM_NAMESPACE still there after 60s"
  fi
}
