#!/usr/bin/env bash
# Starts (or reuses) the e2e sandbox, loopback only:
#   * the kwokctl control plane of test/e2e/cluster/up.sh (toolchain from test/e2e/toolchain/build.sh);
#   * test/services/postgres.sh (127.0.0.1:55432), test/services/registry.sh (127.0.0.1:15000/15001) and
#     test/services/redis.sh (127.0.0.1:16379);
#   * "the Alexandria database": database `alexandria` owned by login role `alexandria`, seeded by seed.sql
#     (schema_migrations at version 1; users, documents, events);
#   * tags v1.4.0 v1.4.1 v1.5.0 broken of alexandria/{api,orchestrator,dashboard} on 127.0.0.1:15000;
#   * namespace `alexandria` with Secret `alexandria-db` (key `dsn`: the alexandria role's DSN);
#   * benign startup lines in the log `kubectl logs -c api` serves ($STATE/logs/api.log);
#   * the Alexandria API fixture on 127.0.0.1:18080 (tier starter, adminExists true);
#   * with RUNBOOK_E2E_EM_RUNTIME=1 (test/e2e/run.sh sets it), em-runtime as its guide runs it: a PostgreSQL
#     server of its own on 127.0.0.1:55433 with databases keycloak, openfga, infisical, governance, assets and
#     utils (each owned by a role of its name; alembic_version in the three services'), the test chart
#     test/fixtures/charts/em-runtime pushed with `helm push` at 0.9.0, 0.10.0 and 0.11.0 to the auth registry
#     (oci://127.0.0.1:15001/charts/em-runtime), its images on 127.0.0.1:15000, namespace em-runtime with the
#     Secrets em-runtime-secrets (base-url: the fixture) and infisical-bootstrap-secret, and benign
#     governance/assets/utils/keycloak logs;
# and writes $STATE/sandbox.env (export lines: KUBECONFIG, PATH, PULUMI_HOME, RUNBOOK_E2E_*, ...), whose path
# is the last (and only) line of stdout; progress goes to stderr.
#
# Idempotent. A first run (no sandbox.env, i.e. after down.sh) also puts the database, the api log and the
# fixture mode into their seeded state; a later run only creates what is missing and leaves test state alone
# (use reset.sh for that).
#   bash test/e2e/sandbox/up.sh            # then: source "$(bash test/e2e/sandbox/up.sh | tail -n 1)"
# Environment: see lib.sh (RUNBOOK_E2E_STATE, RUNBOOK_TOOLCHAIN_DIR, RUNBOOK_E2E_FIXTURE_PORT, ...).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$EPOCHREALTIME
source_toolchain
mkdir -p "$STATE/logs"
STATE=$(cd "$STATE" && pwd)
SANDBOX_ENV="$STATE/sandbox.env" API_LOG="$STATE/logs/api.log"
FIXTURE_PIDFILE="$STATE/fixture.pid" FIXTURE_LOG="$STATE/fixture.log" FIXTURE_MODE_FILE="$STATE/fixture-mode.json"
export RUNBOOK_E2E_STATE="$STATE"
cd "$REPO_ROOT"

FRESH=false
[[ -f "$SANDBOX_ENV" ]] || FRESH=true
log "state $STATE ($([[ $FRESH == true ]] && echo 'new sandbox: seeding everything' || echo 'reusing, keeping test state'))"

# The cluster takes longest on a first start: bring it up in the background meanwhile.
CLUSTER_OUT=$(mktemp "$STATE/.cluster-up.XXXXXX")
bash "$REPO_ROOT/test/e2e/cluster/up.sh" >"$CLUSTER_OUT" &
CLUSTER_PID=$!
# On an early exit, let the cluster start finish rather than leave it half-created.
trap 'if kill -0 "$CLUSTER_PID" 2>/dev/null; then log "waiting for cluster/up.sh to finish"; wait "$CLUSTER_PID" || true; fi; rm -f "$CLUSTER_OUT"' EXIT

start_services() {
  bash "$REPO_ROOT/test/services/postgres.sh" start >&2
  bash "$REPO_ROOT/test/services/registry.sh" start >&2
  bash "$REPO_ROOT/test/services/redis.sh" start >&2
  if [[ $EM_RUNTIME == 1 ]]; then start_em_postgres; fi
}
step services start_services

PSQL=$(find_psql)
if [[ $FRESH == true ]]; then step database ensure_app_db --reset; else step database ensure_app_db; fi

push_images() {
  local missing=() repo tag code
  for repo in "${IMAGE_REPOSITORIES[@]}"; do
    for tag in "${IMAGE_TAGS[@]}"; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -I \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/$repo/manifests/$tag" || true)
      [[ "$code" == 200 ]] || missing+=("$repo:$tag")
    done
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  log "pushing ${#missing[@]} tag(s) to $REGISTRY"
  TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register "$SANDBOX_DIR/push-images.ts" "$REGISTRY" "${missing[@]}" >&2
}
step images push_images
if [[ $EM_RUNTIME == 1 ]]; then
  if [[ $FRESH == true ]]; then step em-db ensure_em_databases --reset; else step em-db ensure_em_databases; fi
  step em-charts push_em_charts
  step em-images push_em_images
fi

ensure_fixture() {
  if fixture_running; then
    if [[ $FRESH == true ]]; then reset_fixture_mode; fi
  else
    stop_fixture # a stale pid file
    start_fixture
    log "fixture started (pid $(cat "$FIXTURE_PIDFILE"), log $FIXTURE_LOG)"
  fi
}
step fixture ensure_fixture

wait_cluster() {
  wait "$CLUSTER_PID" || die "test/e2e/cluster/up.sh failed (see the [cluster] lines above)"
  KUBECONFIG=$(tail -n 1 "$CLUSTER_OUT")
  [[ -f "$KUBECONFIG" ]] || die "test/e2e/cluster/up.sh printed no kubeconfig path"
  export KUBECONFIG
}
step cluster wait_cluster
step k8s apply_k8s_objects
if [[ $FRESH == true || ! -s "$API_LOG" ]]; then write_benign_api_log; fi
if [[ $EM_RUNTIME == 1 ]]; then
  step em-k8s apply_em_k8s_objects
  if [[ $FRESH == true || ! -s "$STATE/logs/governance.log" ]]; then write_benign_em_logs; fi
fi

# ---- sandbox.env ------------------------------------------------------------------------------
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
write_env() {
  local tmp="$SANDBOX_ENV.tmp.$$" name path_rest
  # PATH: toolchain first, then the rest without repeats of it (up.sh may run under a sourced sandbox.env).
  path_rest=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$TOOLCHAIN/bin" | paste -sd: -)
  PATH="$TOOLCHAIN/bin${path_rest:+:$path_rest}"
  (
    umask 077
    {
      echo "# Written by test/e2e/sandbox/up.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); test-only credentials."
      echo "# Every line is: export NAME='value' (single-quoted, nothing to expand)."
      # Everything the toolchain's env.sh exports (PATH, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK, ...).
      for name in $(sed -n 's/^export \([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$TOOLCHAIN/env.sh"); do
        echo "export $name=$(q "${!name}")"
      done
      echo "export KUBECONFIG=$(q "$KUBECONFIG")"
      echo "export RUNBOOK_E2E_STATE=$(q "$STATE")"
      echo "export RUNBOOK_E2E_FIXTURE_URL=$(q "$FIXTURE_URL")"
      echo "export RUNBOOK_E2E_API_LOG=$(q "$API_LOG")"
      echo "export RUNBOOK_E2E_ADMIN_DSN=$(q "postgres://$PG_ADMIN_USER:$PG_ADMIN_PASSWORD@$PG_HOST:$PG_PORT/$APP_DB")"
      echo "export RUNBOOK_E2E_NAMESPACE=$(q "$NAMESPACE")"
      echo "export RUNBOOK_E2E_DB_SECRET=$(q "$DB_SECRET")"
      echo "export RUNBOOK_E2E_REGISTRY=$(q "$REGISTRY")"
      echo "export RUNBOOK_E2E_CHART=$(q "$REPO_ROOT/test/fixtures/charts/alexandria-ee")"
      if [[ $EM_RUNTIME == 1 ]]; then
        echo "export RUNBOOK_E2E_EM_RUNTIME='1'"
        echo "export RUNBOOK_E2E_EM_ADMIN_DSN=$(q "postgres://$PG_ADMIN_USER:$PG_ADMIN_PASSWORD@$PG_HOST:$EM_PG_PORT/postgres")"
        echo "export RUNBOOK_E2E_EM_NAMESPACE=$(q "$EM_NAMESPACE")"
        echo "export RUNBOOK_E2E_EM_CHART=$(q "$EM_CHART")"
        echo "export RUNBOOK_E2E_EM_CHART_VERSIONS=$(q "${EM_CHART_VERSIONS[*]}")"
        echo "export RUNBOOK_E2E_CHART_REGISTRY_USER=$(q "$CHART_REGISTRY_USER")"
        echo "export RUNBOOK_E2E_CHART_REGISTRY_PASSWORD=$(q "$CHART_REGISTRY_PASSWORD")"
      fi
    } >"$tmp"
  )
  mv "$tmp" "$SANDBOX_ENV"
}
write_env
log "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "sandbox up in %.1fs", b - a }')"
echo "$SANDBOX_ENV"
