#!/usr/bin/env bash
# The main job on the local default: builds (or reuses) the real Pulumi engine and Kubernetes control plane,
# starts the local sandbox, and runs `pulumi up` of the `local` stack (Pulumi.local.yaml): preflight,
# snapshot, helm upgrade --atomic, verification. Run it again after changing Pulumi.local.yaml's image tags
# (v1.4.0, v1.4.1 and v1.5.0 exist in the local registry) to see an upgrade.
#   bash scripts/run-local.sh            # pulumi up -s local
#   bash scripts/run-local.sh preview    # pulumi preview --diff -s local
# em-runtime, as its guide runs it: the `em-local` stack (Pulumi.em-local.yaml) against the sandbox's
# em-runtime (its own PostgreSQL server, its chart in the auth registry as oci://127.0.0.1:15001/charts/em-runtime
# at 0.9.0, 0.10.0 and 0.11.0). Change chartVersion in Pulumi.em-local.yaml and run it again to see an upgrade.
#   bash scripts/run-local.sh em-runtime           # pulumi up -s em-local
#   bash scripts/run-local.sh em-runtime preview   # pulumi preview --diff -s em-local
set -euo pipefail
cd "$(dirname "$0")/.."
app=alexandria-ee
if [[ "${1:-}" == em-runtime ]]; then
  app=em-runtime
  shift
fi
action=${1:-up}
case "$action" in
  up | preview) ;;
  *) echo "usage: bash scripts/run-local.sh [em-runtime] [up|preview]" >&2; exit 2 ;;
esac

[[ -d node_modules && -f dist/src/cli/main.js ]] || npm ci --no-audit --no-fund
bash test/e2e/toolchain/build.sh
if [[ $app == em-runtime ]]; then export RUNBOOK_E2E_EM_RUNTIME=1; fi
# shellcheck disable=SC1090
source "$(bash test/e2e/sandbox/up.sh)"

# Local stack state stays on this machine.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.release-runbook/pulumi-state}
mkdir -p "${PULUMI_BACKEND_URL#file://}"

if [[ $app == em-runtime ]]; then
  # Pulumi.em-local.yaml holds the sandbox's test-only credentials encrypted with this passphrase.
  export PULUMI_CONFIG_PASSPHRASE=local-sandbox
  pulumi stack select --create em-local >/dev/null
  # The stack file with baseUrl set to this sandbox's fixture (the em-runtime-secrets base-url), in a private
  # copy: the repository's file is never rewritten.
  CONFIG="$RUNBOOK_E2E_STATE/Pulumi.em-local.yaml"
  (
    umask 077
    sed "s#^\(  release-runbook:baseUrl:\).*#\1 $RUNBOOK_E2E_FIXTURE_URL#" Pulumi.em-local.yaml >"$CONFIG"
  )
  release_in_cluster() { kubectl -n em-runtime get secrets -l owner=helm,name=em-runtime -o name | grep -q .; }
  # As for `local` below: start from the seeded state unless the stack manages the release it finds.
  if ! pulumi stack export -s em-local | grep -q 'kubernetes:helm.sh/v3:Release'; then
    bash test/e2e/sandbox/reset.sh --em-runtime
  elif ! release_in_cluster; then
    pulumi refresh --yes --skip-preview -s em-local --config-file "$CONFIG" >/dev/null
  fi
  case "$action" in
    up) exec pulumi up --yes --skip-preview -s em-local --config-file "$CONFIG" ;;
    preview) exec pulumi preview --diff -s em-local --config-file "$CONFIG" ;;
  esac
fi

# The passphrase only guards this test stack's (empty) secrets.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-local-sandbox}
pulumi stack select --create local >/dev/null

# The sandbox is this stack's alone: a release there that the stack does not manage (left by the e2e
# tests) would collide with the install, so start from the seeded state instead.
# And a release the stack manages but the sandbox lost (the e2e tests reset it) is forgotten by a refresh,
# so that this up installs it again.
release_in_cluster() { kubectl -n alexandria get secrets -l owner=helm,name=alexandria-ee -o name | grep -q .; }
if ! pulumi stack export -s local | grep -q 'kubernetes:helm.sh/v3:Release'; then
  bash test/e2e/sandbox/reset.sh
elif ! release_in_cluster; then
  pulumi refresh --yes --skip-preview -s local >/dev/null
fi

# The fixture stands in for the application: before the first install no admin exists yet.
if ! release_in_cluster; then
  curl -sf -X POST -H 'content-type: application/json' -d '{"adminExists":false}' \
    "$RUNBOOK_E2E_FIXTURE_URL/__fixture/mode" >/dev/null
fi

case "$action" in
  up) pulumi up --yes --skip-preview -s local ;;
  preview) pulumi preview --diff -s local ;;
esac
status=$?
curl -sf -X POST -H 'content-type: application/json' -d '{"adminExists":true}' "$RUNBOOK_E2E_FIXTURE_URL/__fixture/mode" >/dev/null || true
exit $status
