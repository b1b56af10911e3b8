#!/usr/bin/env bash
# Puts a running sandbox (test/e2e/sandbox/up.sh) back into its seeded state, for use between tests:
#   * uninstalls every Helm release in namespace alexandria (alexandria-ee and any other, in any state) and
#     waits until their pods are gone;
#   * re-applies namespace alexandria and Secret alexandria-db (a test may have changed the DSN);
#   * drops the alexandria database (terminating its connections) and re-seeds it from seed.sql;
#   * sets the Alexandria API fixture back to its start mode (tier starter, adminExists true, the rest the
#     fixture's defaults; its per-path request counters are not reset);
#   * replaces the api container log with the benign startup lines.
# Takes a few seconds. Prints nothing on stdout; exits non-zero when something could not be reset.
#   bash test/e2e/sandbox/reset.sh
#   bash test/e2e/sandbox/reset.sh --em-runtime   # em-runtime's instead (a sandbox up with RUNBOOK_E2E_EM_RUNTIME=1):
#       uninstalls the releases of namespace em-runtime, re-seeds its server's databases (every other database
#       there is dropped), re-applies its Secrets, the fixture's start mode and the services' benign logs
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WHAT=alexandria
case "${1:-}" in
  "") ;;
  --em-runtime) WHAT=em-runtime ;;
  *) echo "usage: bash test/e2e/sandbox/reset.sh [--em-runtime]" >&2; exit 2 ;;
esac

T0=$EPOCHREALTIME
[[ -f "$SANDBOX_ENV" ]] || die "no $SANDBOX_ENV: the sandbox is not up (run bash test/e2e/sandbox/up.sh)"
# shellcheck disable=SC1090
source "$SANDBOX_ENV"
FIXTURE_URL=${RUNBOOK_E2E_FIXTURE_URL:-$FIXTURE_URL}
cd "$REPO_ROOT"
PSQL=$(find_psql)

if [[ $WHAT == em-runtime ]]; then
  [[ "${RUNBOOK_E2E_EM_RUNTIME:-}" == 1 ]] ||
    die "this sandbox has no em-runtime: start it with RUNBOOK_E2E_EM_RUNTIME=1 bash test/e2e/sandbox/up.sh"
  step em-helm uninstall_em_releases
  step em-db ensure_em_databases --reset
  step em-k8s apply_em_k8s_objects
  step fixture reset_fixture_mode
  write_benign_em_logs
  log "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "em-runtime sandbox reset in %.1fs", b - a }')"
  exit 0
fi

uninstall_releases() {
  local releases rel
  releases=$(helm list -n "$NAMESPACE" -a -q 2>/dev/null) || die "helm list -n $NAMESPACE failed (is the cluster up?)"
  for rel in $releases; do
    log "helm uninstall $rel -n $NAMESPACE"
    if ! helm uninstall "$rel" -n "$NAMESPACE" --wait --timeout 60s >/dev/null; then
      # A release helm cannot uninstall (e.g. its record is corrupt): remove its objects and records by hand.
      log "helm uninstall $rel failed: deleting its objects and release records directly"
      kubectl delete deployment,replicaset,service,configmap -n "$NAMESPACE" \
        -l "app.kubernetes.io/instance=$rel" --wait=false >/dev/null || true
      kubectl delete secret -n "$NAMESPACE" -l "owner=helm,name=$rel" >/dev/null || true
    fi
  done
  if [[ -n "$releases" ]]; then
    # kwok deletes pods at once, but their ReplicaSets are garbage-collected after the Deployments.
    kubectl wait --for=delete pod --all -n "$NAMESPACE" --timeout=60s >/dev/null 2>&1 ||
      die "pods in namespace $NAMESPACE still there after 60s: $(kubectl get pods -n "$NAMESPACE" --no-headers 2>&1 | head -n 5)"
  fi
}

# The database (DROP DATABASE waits for a checkpoint) is reset alongside the cluster and fixture steps.
DB_OUT=$(mktemp)
step database ensure_app_db --reset >"$DB_OUT" 2>&1 &
DB_PID=$!
# Also on an early exit: no database reset keeps running behind the caller's back.
trap 'wait "$DB_PID" 2>/dev/null || true; rm -f "$DB_OUT"' EXIT
step helm uninstall_releases
step k8s apply_k8s_objects
step fixture reset_fixture_mode
write_benign_api_log
if ! wait "$DB_PID"; then cat "$DB_OUT" >&2; die "the alexandria database could not be reset"; fi
cat "$DB_OUT" >&2
log "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "sandbox reset in %.1fs", b - a }')"
