#!/usr/bin/env bash
# Appends stdin, line by line, to the file kwok serves as the logs of every container named "api"
# ($RUNBOOK_E2E_STATE/logs/api.log), in the CRI log format kwok requires
# ("<RFC3339Nano time> stdout F <line>"; plain text lines make `kubectl logs` fail with
# "unsupported log format"). With --reset the file is emptied first.
#   printf 'migration 42 applied\nready\n' | test/e2e/cluster/api-log.sh
set -euo pipefail
STATE=${RUNBOOK_E2E_STATE:-/tmp/release-runbook-e2e}
LOG="$STATE/logs/api.log"
mkdir -p "$STATE/logs"
if [[ "${1:-}" == "--reset" ]]; then : >"$LOG"; fi
while IFS= read -r line || [[ -n "$line" ]]; do
  printf '%s stdout F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$line"
done >>"$LOG"
