#!/usr/bin/env bash
# The main job on the local default: builds (or reuses) the real Pulumi engine and Kubernetes control plane,
# starts the local sandbox, and runs `pulumi up` of the `local` stack (Pulumi.local.yaml): preflight,
# snapshot, helm upgrade --atomic, verification. Run it again after changing Pulumi.local.yaml's image tags
# (v1.4.0, v1.4.1 and v1.5.0 exist in the local registry) to see an upgrade.
#   bash scripts/run-local.sh            # pulumi up -s local
#   bash scripts/run-local.sh preview    # pulumi preview --diff -s local
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-up}

[[ -d node_modules && -f dist/src/cli/main.js ]] || npm ci --no-audit --no-fund
bash test/e2e/toolchain/build.sh
# shellcheck disable=SC1090
source "$(bash test/e2e/sandbox/up.sh)"

# Local stack state stays on this machine; the passphrase only guards this test stack's (empty) secrets.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.release-runbook/pulumi-state}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-local-sandbox}
mkdir -p "${PULUMI_BACKEND_URL#file://}"
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
  *) echo "usage: bash scripts/run-local.sh [up|preview]" >&2; exit 2 ;;
esac
status=$?
curl -sf -X POST -H 'content-type: application/json' -d '{"adminExists":true}' "$RUNBOOK_E2E_FIXTURE_URL/__fixture/mode" >/dev/null || true
exit $status
