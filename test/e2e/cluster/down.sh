#!/usr/bin/env bash
# Stops and deletes the local control plane started by up.sh (idempotent: nothing to do is not an error).
# Keeps $STATE/logs; removes the kubeconfig and kwok's cluster state.
# Same environment as up.sh: RUNBOOK_TOOLCHAIN_DIR, RUNBOOK_E2E_STATE, RUNBOOK_E2E_CLUSTER.
set -euo pipefail

TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
STATE=${RUNBOOK_E2E_STATE:-/tmp/release-runbook-e2e}
CLUSTER=${RUNBOOK_E2E_CLUSTER:-runbook-e2e}

log() { printf '[cluster] %s\n' "$*" >&2; }

export KWOK_WORKDIR="$STATE/kwok"
KWOKCTL="$TOOLCHAIN/bin/kwokctl"

if [[ -x "$KWOKCTL" && -d "$KWOK_WORKDIR/clusters/$CLUSTER" ]]; then
  log "deleting cluster $CLUSTER"
  "$KWOKCTL" delete cluster --name "$CLUSTER" >&2 || log "kwokctl delete cluster failed; cleaning up by hand"
fi

# Whatever kwokctl could not stop: processes recorded in the cluster's pid files.
if [[ -d "$KWOK_WORKDIR/clusters/$CLUSTER/pids" ]]; then
  for pidfile in "$KWOK_WORKDIR/clusters/$CLUSTER"/pids/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      log "stopping leftover pid $pid ($(basename "$pidfile" .pid))"
      kill "$pid" 2>/dev/null || true
    fi
  done
fi
rm -rf "$KWOK_WORKDIR/clusters/$CLUSTER" "$STATE/kubeconfig" "$STATE/kwokctl.yaml"
log "cluster $CLUSTER is down"
