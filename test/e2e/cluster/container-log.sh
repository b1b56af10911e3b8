#!/usr/bin/env bash
# Appends stdin, line by line, to the file kwok serves as the logs of every container named CONTAINER
# ($RUNBOOK_E2E_STATE/logs/CONTAINER.log; up.sh serves api, and em-runtime's governance, assets, utils and
# keycloak), in the CRI log format kwok requires ("<RFC3339Nano time> stdout F <line>"; plain text lines make
# `kubectl logs` fail with "unsupported log format"). With --reset the file is emptied first.
#   printf 'alembic: upgrade 0001 -> 0002\n' | test/e2e/cluster/container-log.sh governance
set -euo pipefail
CONTAINER=${1:-}
[[ "$CONTAINER" =~ ^[a-z0-9-]+$ ]] || { echo "usage: container-log.sh CONTAINER [--reset] < lines" >&2; exit 2; }
STATE=${RUNBOOK_E2E_STATE:-/tmp/release-runbook-e2e}
LOG="$STATE/logs/$CONTAINER.log"
mkdir -p "$STATE/logs"
if [[ "${2:-}" == "--reset" ]]; then : >"$LOG"; fi
while IFS= read -r line || [[ -n "$line" ]]; do
  printf '%s stdout F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$line"
done >>"$LOG"
