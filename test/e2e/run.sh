#!/usr/bin/env bash
# The end-to-end suite as CI runs it (.ci/run): when the toolchain of test/e2e/toolchain/build.sh is complete,
# starts the sandbox (test/e2e/sandbox/up.sh), runs `npm run test:e2e` with sandbox.env in the environment,
# always tears the sandbox down again (test/e2e/sandbox/down.sh; PostgreSQL and the registries keep running)
# and exits with the tests' status.
# When the toolchain is incomplete it prints, on stdout,
#   E2E SKIPPED: <what is missing>; build them with: bash test/e2e/toolchain/build.sh (cold build about N minutes)
# and exits 0: a skipped suite is reported as skipped, never as passed ("E2E PASSED" is printed only after
# the tests ran and passed).
#   bash test/e2e/run.sh
# Environment:
#   RUNBOOK_E2E_BUILD=1      run test/e2e/toolchain/build.sh first (a failed build fails this script)
#   RUNBOOK_E2E_KEEP=1       leave the sandbox up afterwards (to look around; down.sh stops it)
#   RUNBOOK_E2E_EM_RUNTIME=0 a sandbox without em-runtime (default 1: its server, chart and Secrets too, for
#                            em-runtime.e2e.test.ts; see test/e2e/sandbox/up.sh)
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
# shellcheck disable=SC2317  # (called from the EXIT trap)
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${RUNBOOK_E2E_KEEP:-}" == 1 ]]; then
    log "RUNBOOK_E2E_KEEP=1: sandbox left up (bash test/e2e/sandbox/down.sh stops it)"
  else
    bash "$HERE/sandbox/down.sh" || log "sandbox/down.sh failed"
  fi
  exit "$rc"
}
# On INT/TERM: stop the tests (their whole process group: npm does not get the signal to mocha through
# `sh -c`), then the EXIT trap tears down.
TEST_PID=
# shellcheck disable=SC2317  # (called from the INT/TERM traps)
on_signal() {
  if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
    kill -TERM -- "-$TEST_PID" 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  exit "$1"
}
trap teardown EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

log "starting the sandbox"
export RUNBOOK_E2E_EM_RUNTIME=${RUNBOOK_E2E_EM_RUNTIME:-1}
if ! SANDBOX_ENV=$(bash "$HERE/sandbox/up.sh" | tail -n 1) || [[ ! -f "$SANDBOX_ENV" ]]; then
  echo "E2E FAILED: test/e2e/sandbox/up.sh failed"
  exit 1
fi
# shellcheck disable=SC1090
source "$SANDBOX_ENV"
export RUNBOOK_E2E_SANDBOX_ENV="$SANDBOX_ENV"

log "npm run test:e2e"
# In the background and waited for, so that a signal reaches the traps at once (not after the tests).
# setsid: its own process group (TEST_PID is its id), for on_signal.
setsid npm run test:e2e &
TEST_PID=$!
status=0
wait "$TEST_PID" || status=$?
TEST_PID=
if [[ $status -eq 0 ]]; then echo "E2E PASSED"; else echo "E2E FAILED: npm run test:e2e exited with $status"; fi
exit "$status"
