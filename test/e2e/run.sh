#!/usr/bin/env bash
# The end-to-end suite as CI runs it (.ci/run): when the toolchain of test/e2e/toolchain/build.sh is complete,
# starts two sandboxes (test/e2e/sandbox/up.sh: the default one, and a second with em-runtime), runs the e2e
# suites (what `npm run test:e2e` runs) with each one's sandbox.env in the environment, em-runtime's in the
# second beside the others in the first, always tears both down again (test/e2e/sandbox/down.sh; PostgreSQL,
# the registries and Redis keep running) and exits with the tests' status.
# When the toolchain is incomplete it prints, on stdout,
#   E2E SKIPPED: <what is missing>; build them with: bash test/e2e/toolchain/build.sh (cold build about N minutes)
# and exits 0: a skipped suite is reported as skipped, never as passed ("E2E PASSED" is printed only after
# the tests ran and passed).
#   bash test/e2e/run.sh
# Environment:
#   RUNBOOK_E2E_BUILD=1      run test/e2e/toolchain/build.sh first (a failed build fails this script)
#   RUNBOOK_E2E_KEEP=1       leave the sandbox up afterwards (to look around; down.sh stops it)
#   RUNBOOK_E2E_EM_STATE, RUNBOOK_E2E_EM_PORT_BASE, RUNBOOK_E2E_EM_FIXTURE_PORT   the second sandbox, in which
#                            em-runtime.e2e.test.ts runs beside the others (default /tmp/release-runbook-e2e-em,
#                            37400, 18081)
#   RUNBOOK_TOOLCHAIN_DIR, RUNBOOK_E2E_STATE, ...   see test/e2e/sandbox/lib.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
cd "$REPO_ROOT"
TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
# Wall time of a cold `build.sh` (empty Go module and build caches) on a 2-core CI machine.
COLD_BUILD_MINUTES=37

log() { printf '[e2e] %s\n' "$*" >&2; }

if [[ "${RUNBOOK_E2E_BUILD:-}" == 1 ]]; then
  log "RUNBOOK_E2E_BUILD=1: bash test/e2e/toolchain/build.sh"
  if ! bash "$HERE/toolchain/build.sh"; then
    echo "E2E FAILED: bash test/e2e/toolchain/build.sh failed (RUNBOOK_E2E_BUILD=1)"
    exit 1
  fi
fi

# ---- completeness: build.sh has no check mode, so look at what it produces -------------------
# Resource plugin versions: the exact pins of package.json (what the SDKs ask the engine for).
pinned_version() {
  # shellcheck disable=SC2016  # (JavaScript)
  node -e 'const p = require(process.argv[1]); const v = p.dependencies[process.argv[2]];
    if (!/^\d+\.\d+\.\d+$/.test(v || "")) { console.error(`${process.argv[2]}: no exact version in package.json`); process.exit(1); }
    console.log(v);' "$REPO_ROOT/package.json" "$1"
}

declare -A WHAT=(
  [kube-apiserver]=kubernetes [kube-controller-manager]=kubernetes [kube-scheduler]=kubernetes
  [kubectl]=kubectl [etcd]=etcd [kwok]=kwok [kwokctl]=kwok [helm]=helm
  [pulumi]=pulumi [pulumi-language-nodejs]=pulumi
)
COMPONENTS=() BINARIES=() OTHER=()
add() { # add ARRAY VALUE: once
  local -n arr=$1
  [[ " ${arr[*]-} " == *" $2 "* ]] || arr+=("$2")
}
# Binaries test/e2e/cluster/up.sh needs, then the engine's.
for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl pulumi pulumi-language-nodejs helm; do
  [[ -x "$TOOLCHAIN/bin/$b" ]] || { add COMPONENTS "${WHAT[$b]}"; add BINARIES "$b"; }
done
[[ -d "$TOOLCHAIN/kwok-stages" ]] || { add COMPONENTS kwok; add BINARIES kwok-stages/; }
[[ -f "$TOOLCHAIN/env.sh" ]] || OTHER+=("$TOOLCHAIN/env.sh")
PULUMI_HOME_DIR="$TOOLCHAIN/pulumi-home"
if [[ -f "$TOOLCHAIN/env.sh" ]]; then
  PULUMI_HOME_DIR=$(bash -c 'source "$1" && echo "$PULUMI_HOME"' _ "$TOOLCHAIN/env.sh")
fi
PLUGINS=()
for name in kubernetes command random; do
  version=$(pinned_version "@pulumi/$name")
  [[ -x "$PULUMI_HOME_DIR/plugins/resource-$name-v$version/pulumi-resource-$name" ]] || PLUGINS+=("$name $version")
done

join() { local IFS=,; local s="$*"; echo "${s//,/, }"; }
PARTS=()
[[ ${#COMPONENTS[@]} -eq 0 ]] || PARTS+=("build.sh components $(join "${COMPONENTS[@]}") (no $(join "${BINARIES[@]}") in $TOOLCHAIN/bin)")
[[ ${#PLUGINS[@]} -eq 0 ]] || PARTS+=("Pulumi resource plugins $(join "${PLUGINS[@]}") (not installed in $PULUMI_HOME_DIR/plugins)")
[[ ${#OTHER[@]} -eq 0 ]] || PARTS+=("$(join "${OTHER[@]}")")
if [[ ${#PARTS[@]} -gt 0 ]]; then
  PARTS_TEXT=$(printf '%s; ' "${PARTS[@]}")
  echo "E2E SKIPPED: the e2e toolchain is incomplete, missing ${PARTS_TEXT%; }; build them with: bash test/e2e/toolchain/build.sh (cold build about $COLD_BUILD_MINUTES minutes)"
  exit 0
fi

# ---- run --------------------------------------------------------------------------------------
# Two sandboxes side by side, each with its own control plane and fixture: the Alexandria suites in the default
# one, em-runtime's in a second (its databases are on their own PostgreSQL server already). Each run is mostly
# waiting on the engine and the API server, so together they take about as long as the longer one alone.
EM_SANDBOX=(
  RUNBOOK_E2E_STATE="${RUNBOOK_E2E_EM_STATE:-/tmp/release-runbook-e2e-em}" RUNBOOK_E2E_CLUSTER=runbook-e2e-em
  RUNBOOK_E2E_PORT_BASE="${RUNBOOK_E2E_EM_PORT_BASE:-37400}" RUNBOOK_E2E_FIXTURE_PORT="${RUNBOOK_E2E_EM_FIXTURE_PORT:-18081}"
  RUNBOOK_E2E_EM_RUNTIME=1
)
EM_SPEC=test/e2e/em-runtime.e2e.test.ts
ALEXANDRIA_SPECS=()
for f in test/e2e/*.e2e.test.ts; do [[ $f == "$EM_SPEC" ]] || ALEXANDRIA_SPECS+=("$f"); done
MOCHA=(npx mocha --no-config -r ts-node/register --extension ts --timeout 900000 --exit)
EM_LOG=$(mktemp)

# shellcheck disable=SC2317  # (called from the EXIT trap)
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${RUNBOOK_E2E_KEEP:-}" == 1 ]]; then
    log "RUNBOOK_E2E_KEEP=1: sandboxes left up (bash test/e2e/sandbox/down.sh stops the first; the em-runtime one: ${EM_SANDBOX[*]} bash test/e2e/sandbox/down.sh)"
  else
    RUNBOOK_E2E_EM_RUNTIME=0 bash "$HERE/sandbox/down.sh" || log "sandbox/down.sh failed"
    env "${EM_SANDBOX[@]}" bash "$HERE/sandbox/down.sh" || log "sandbox/down.sh (em-runtime) failed"
  fi
  rm -f "$EM_LOG"
  exit "$rc"
}
# On INT/TERM: stop the tests (their whole process groups), then the EXIT trap tears down.
TEST_PIDS=()
# shellcheck disable=SC2317  # (called from the INT/TERM traps)
on_signal() {
  local pid
  for pid in "${TEST_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  exit "$1"
}
trap teardown EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# One after the other: a new sandbox seeds the shared `alexandria` database and pushes the shared images.
log "starting the em-runtime sandbox"
if ! EM_ENV=$(env "${EM_SANDBOX[@]}" bash "$HERE/sandbox/up.sh" | tail -n 1) || [[ ! -f "$EM_ENV" ]]; then
  echo "E2E FAILED: test/e2e/sandbox/up.sh (em-runtime) failed"
  exit 1
fi
log "starting the sandbox"
if ! SANDBOX_ENV=$(RUNBOOK_E2E_EM_RUNTIME=0 bash "$HERE/sandbox/up.sh" | tail -n 1) || [[ ! -f "$SANDBOX_ENV" ]]; then
  echo "E2E FAILED: test/e2e/sandbox/up.sh failed"
  exit 1
fi

# Each suite in its own process group (setsid; its pid is the group's id, for on_signal), its sandbox's
# environment sourced in its own shell. em-runtime's output is printed when it ends, after the other's.
log "em-runtime suite (in the background, output below at the end): $EM_SPEC"
setsid bash -c 'source "$1" && export RUNBOOK_E2E_SANDBOX_ENV="$1" && shift && exec "$@"' _ "$EM_ENV" \
  "${MOCHA[@]}" "$EM_SPEC" >"$EM_LOG" 2>&1 &
EM_PID=$!
TEST_PIDS+=("$EM_PID")
log "Alexandria suites: ${ALEXANDRIA_SPECS[*]}"
setsid bash -c 'source "$1" && export RUNBOOK_E2E_SANDBOX_ENV="$1" && shift && exec "$@"' _ "$SANDBOX_ENV" \
  "${MOCHA[@]}" "${ALEXANDRIA_SPECS[@]}" &
TEST_PIDS+=("$!")
status=0
wait "$!" || status=$?
em_status=0
wait "$EM_PID" || em_status=$?
TEST_PIDS=()
log "em-runtime suite output:"
cat "$EM_LOG"
if [[ $status -eq 0 && $em_status -eq 0 ]]; then
  echo "E2E PASSED"
else
  echo "E2E FAILED: the Alexandria suites exited with $status, em-runtime's with $em_status"
  status=1
fi
exit "$status"
