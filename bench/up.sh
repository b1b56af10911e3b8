#!/usr/bin/env bash
# The cost of a no-op `pulumi up` of the local stack, against the engine's floor: an empty Pulumi program
# (Node.js, no resources) in the same backend, timed in the same script, alternating ABBA, median of 5.
# The local stack's up includes reading the live release at program time (preview and up alike).
# Prints per-run times, then the medians, then as its last line:
#   no-op up/engine floor ratio: R
#   bash bench/up.sh        (npm run bench:up)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNBOOK_BENCH_RUNS:-5}

[[ -d node_modules && -f dist/src/cli/main.js ]] || npm ci --no-audit --no-fund
bash test/e2e/toolchain/build.sh >/dev/null 2>&1 || bash test/e2e/toolchain/build.sh
# shellcheck disable=SC1090
source "$(bash test/e2e/sandbox/up.sh)"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$HOME/.release-runbook/pulumi-state}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-local-sandbox}
mkdir -p "${PULUMI_BACKEND_URL#file://}"

# The local stack, converged first: what is timed is an up that changes nothing.
bash scripts/run-local.sh up >/dev/null

# The floor: a Node.js program with no resources, in the same backend.
EMPTY=$(mktemp -d)
trap 'rm -rf "$EMPTY"' EXIT
cat >"$EMPTY/Pulumi.yaml" <<'YAML'
name: runbook-bench-empty
runtime: nodejs
YAML
echo 'module.exports = {};' >"$EMPTY/index.js"
ln -s "$PWD/node_modules" "$EMPTY/node_modules"
(cd "$EMPTY" && pulumi stack select --create bench-empty >/dev/null && pulumi up --yes --skip-preview >/dev/null)

now() { date +%s.%N; }
time_up() { # time_up DIR STACK -> seconds
  local start end
  start=$(now)
  (cd "$1" && pulumi up --yes --skip-preview -s "$2" >/dev/null)
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}'
}
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m}'; }

noop=() floor=()
for ((i = 1; i <= RUNS; i++)); do
  if ((i % 2)); then
    noop+=("$(time_up "$PWD" local)"); floor+=("$(time_up "$EMPTY" bench-empty)")
  else
    floor+=("$(time_up "$EMPTY" bench-empty)"); noop+=("$(time_up "$PWD" local)")
  fi
  printf 'run %d: no-op up %.2fs, empty program %.2fs\n' "$i" "${noop[-1]}" "${floor[-1]}"
done
noop_median=$(printf '%s\n' "${noop[@]}" | median)
floor_median=$(printf '%s\n' "${floor[@]}" | median)
echo "no-op up of the local stack (median of $RUNS): ${noop_median}s"
echo "empty program up, same backend (median of $RUNS): ${floor_median}s"
awk -v n="$noop_median" -v f="$floor_median" 'BEGIN {printf "no-op up/engine floor ratio: %.2f\n", n / f}'
