#!/usr/bin/env bash
# Starts (or reuses) a local Kubernetes control plane for the e2e tests: kwokctl --runtime binary with
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the kwok controller, all from the
# toolchain built by test/e2e/toolchain/build.sh (nothing is downloaded), bound to 127.0.0.1, with one
# fake node. Pods become Ready at once, except pods with a container image ending in ":broken", which stay
# not Ready forever (so a `helm --wait/--atomic` rollout of them really fails). `kubectl logs <pod> -c api`
# returns the contents of $STATE/logs/api.log (kwok ClusterLogs), and likewise for the containers governance,
# assets, utils and keycloak of em-runtime's chart ($STATE/logs/<container>.log; container-log.sh appends).
#
# Idempotent: a running cluster is reused, a stopped one restarted, a broken one recreated.
# Prints the kubeconfig path on the last line of stdout (everything else goes to stderr).
#
# Environment:
#   RUNBOOK_TOOLCHAIN_DIR       toolchain root (default ~/.cache/release-runbook/toolchain)
#   RUNBOOK_E2E_STATE           state dir (default /tmp/release-runbook-e2e); kubeconfig at $STATE/kubeconfig
#   RUNBOOK_E2E_CLUSTER         kwok cluster name (default runbook-e2e)
#   RUNBOOK_E2E_PORT_BASE       ports used on 127.0.0.1 (default 26400): kube-apiserver BASE+43, etcd BASE+79
#                               and BASE+80, kwok controller BASE+47, controller-manager BASE+57,
#                               scheduler BASE+59 (kwokctl's own choice, from 32765 up, collided). The default
#                               lies below Linux's ephemeral range (32768-60999): there, any outgoing
#                               connection's source port can hold one of them and etcd fails to bind.
set -euo pipefail

TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
STATE=${RUNBOOK_E2E_STATE:-/tmp/release-runbook-e2e}
CLUSTER=${RUNBOOK_E2E_CLUSTER:-runbook-e2e}
PORT_BASE=${RUNBOOK_E2E_PORT_BASE:-26400}
APISERVER_PORT=$((PORT_BASE + 43))
KUBE_VERSION=1.33.13
NODE_NAME=kwok-node-0
BIN="$TOOLCHAIN/bin"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "$BIN/$b" ]] || die "$BIN/$b missing: run test/e2e/toolchain/build.sh first"
done

mkdir -p "$STATE/logs"
STATE=$(cd "$STATE" && pwd)
KUBECONFIG_PATH="$STATE/kubeconfig"
API_LOG="$STATE/logs/api.log"
# Containers whose logs `kubectl logs` serves from $STATE/logs/<container>.log (container-log.sh appends).
LOG_CONTAINERS="api governance assets utils keycloak"
for c in $LOG_CONTAINERS; do [[ -f "$STATE/logs/$c.log" ]] || : >"$STATE/logs/$c.log"; done

# kwokctl: keep all of its state under $STATE and never let it fetch anything.
export KWOK_WORKDIR="$STATE/kwok"
export KWOK_RUNTIME=binary
export KWOK_KUBE_VERSION="v$KUBE_VERSION"
export KWOK_ETCD_BINARY="$BIN/etcd"
export KWOK_KUBE_APISERVER_BINARY="$BIN/kube-apiserver"
export KWOK_KUBE_CONTROLLER_MANAGER_BINARY="$BIN/kube-controller-manager"
export KWOK_KUBE_SCHEDULER_BINARY="$BIN/kube-scheduler"
export KWOK_CONTROLLER_BINARY="$BIN/kwok"
export KWOK_KUBECTL_BINARY="$BIN/kubectl"
export KWOK_QUIET_PULL=true
mkdir -p "$KWOK_WORKDIR"
export PATH="$BIN:$PATH"

kctl() { kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }

api_ready() { [[ -f "$KUBECONFIG_PATH" ]] && kctl get --raw /readyz >/dev/null 2>&1; }
wait_api() {
  local i
  for i in $(seq 1 "$1"); do api_ready && return 0; sleep 1; done
  return 1
}

# A port taken by a listener or a live connection's local end makes its component fail after kwokctl's whole
# wait; say which one at once instead. TIME-WAIT leftovers (a cluster stopped moments ago) do not block the
# components, which listen with SO_REUSEADDR.
check_ports_free() {
  local port used
  for port in "$APISERVER_PORT" $((PORT_BASE + 79)) $((PORT_BASE + 80)) $((PORT_BASE + 47)) $((PORT_BASE + 57)) $((PORT_BASE + 59)); do
    used=$(ss -Htan exclude time-wait "( sport = :$port )" 2>/dev/null | head -n 1)
    [[ -z "$used" ]] || die "127.0.0.1:$port is in use ($used): stop what holds it, or set RUNBOOK_E2E_PORT_BASE to another base"
  done
}

write_config() {
  # Stages: kwok's own defaults (node-initialize, node-heartbeat-with-lease, pod-complete, pod-delete and
  # pod-ready, copied by build.sh from the kwok module) with pod-ready restricted to pods without a
  # ":broken" image, plus pod-broken for those: Running, container waiting in CrashLoopBackOff, never Ready.
  local stages="$TOOLCHAIN/kwok-stages"
  [[ -d "$stages" ]] || die "$stages missing: run test/e2e/toolchain/build.sh kwok"
  {
    cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: v$KUBE_VERSION
  bindAddress: 127.0.0.1
  kubeApiserverPort: $APISERVER_PORT
  etcdPort: $((PORT_BASE + 79))
  etcdPeerPort: $((PORT_BASE + 80))
  kwokControllerPort: $((PORT_BASE + 47))
  kubeControllerManagerPort: $((PORT_BASE + 57))
  kubeSchedulerPort: $((PORT_BASE + 59))
  quietPull: true
  disableKubeScheduler: false
  disableKubeControllerManager: false
---
EOF
    cat "$stages/node-initialize.yaml"; echo '---'
    cat "$stages/node-heartbeat-with-lease.yaml"; echo '---'
    cat "$stages/pod-complete.yaml"; echo '---'
    cat "$stages/pod-delete.yaml"; echo '---'
    # pod-ready, with one more selector term.
    awk '{ print } /^    matchExpressions:$/ && !done {
      print "    - cel:"
      print "        expression: >-"
      print "          !self.spec.containers.exists(c, c.image.endsWith(\":broken\"))"
      done = 1 }' "$stages/pod-ready.yaml"
    cat <<'EOF'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-broken
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
    - cel:
        expression: >-
          self.spec.containers.exists(c, c.image.endsWith(":broken"))
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodScheduled
      - lastTransitionTime: {{ $now | Quote }}
        message: 'containers with unready status'
        reason: ContainersNotReady
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        message: 'containers with unready status'
        reason: ContainersNotReady
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 5
        state:
          waiting:
            reason: CrashLoopBackOff
            message: 'back-off restarting failed container (kwok stage pod-broken)'
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
EOF
    # One log file per container name: Alexandria's api, and em-runtime's services and Keycloak.
    local container
    for container in $LOG_CONTAINERS; do
      cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: $container-logs
spec:
  selector: {}
  logs:
  - containers:
    - $container
    logsFile: $STATE/logs/$container.log
    follow: true
EOF
    done
  } >"$STATE/kwokctl.yaml"
}

cluster_exists() { kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

ensure_node() {
  kctl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
}

wait_node_ready() {
  local i
  for i in $(seq 1 120); do
    if kctl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready" { found = 1 } END { exit !found }'; then
      return 0
    fi
    sleep 1
  done
  kctl get nodes -o wide >&2 || true
  die "no Ready node after 120s"
}

start_cluster() {
  local start=$SECONDS
  write_config
  if cluster_exists; then
    # The cluster's own kubeconfig (same server and credentials) stands in for a deleted $KUBECONFIG_PATH.
    if [[ ! -f "$KUBECONFIG_PATH" && -f "$KWOK_WORKDIR/clusters/$CLUSTER/kubeconfig.yaml" ]]; then
      cp "$KWOK_WORKDIR/clusters/$CLUSTER/kubeconfig.yaml" "$KUBECONFIG_PATH"
    fi
    if api_ready; then
      log "cluster $CLUSTER already running"
      return 0
    fi
    log "cluster $CLUSTER exists but is not serving: restarting it"
    if kwokctl start cluster --name "$CLUSTER" --timeout 120s --wait 120s >&2 && wait_api 60; then
      log "restarted in $((SECONDS - start))s"
      return 0
    fi
    log "restart failed: deleting and recreating"
    kwokctl delete cluster --name "$CLUSTER" >&2 || true
  fi
  check_ports_free
  log "creating cluster $CLUSTER (kube-apiserver on 127.0.0.1:$APISERVER_PORT)"
  kwokctl create cluster --name "$CLUSTER" --config "$STATE/kwokctl.yaml" \
    --kubeconfig "$KUBECONFIG_PATH" --wait 120s --timeout 180s >&2
  log "created in $((SECONDS - start))s"
}

start_cluster
if ! wait_api 30; then
  for f in "$KWOK_WORKDIR/clusters/$CLUSTER"/logs/*.log; do
    [[ -f "$f" ]] && { log "---- tail $f"; tail -n 5 "$f" >&2; }
  done
  die "kube-apiserver not reachable with $KUBECONFIG_PATH"
fi
ensure_node
wait_node_ready
log "ready: KUBECONFIG=$KUBECONFIG_PATH (api container logs come from $API_LOG)"
echo "$KUBECONFIG_PATH"
