#!/usr/bin/env bash
# Smoke test of the real engine built by build.sh: runs a trivial Pulumi TypeScript program with the pulumi
# CLI, the language host and the resource plugins of the toolchain, against a file backend, in a temp dir
# outside the repository (node_modules symlinked from the repository).
#
# The program registers one resource per provider that is installed in $TOOLCHAIN/pulumi-home:
#   random  -> random.RandomId          command -> command.local.Command
#   kubernetes (only with KUBECONFIG set to a reachable cluster, e.g. test/e2e/cluster/up.sh's) -> a ConfigMap
# and always a stack output, then runs `pulumi up` twice (the second must be a no-op) and `pulumi destroy`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../../.." && pwd)
TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
[[ -f "$TOOLCHAIN/env.sh" ]] || { echo "no $TOOLCHAIN/env.sh: run build.sh" >&2; exit 1; }
# shellcheck disable=SC1091
source "$TOOLCHAIN/env.sh"

WORK=$(mktemp -d /tmp/runbook-engine-verify.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/prog" "$WORK/backend"
ln -s "$REPO_ROOT/node_modules" "$WORK/prog/node_modules"

have_plugin() { compgen -G "$PULUMI_HOME/plugins/resource-$1-v*" >/dev/null; }
USE_RANDOM=false USE_COMMAND=false USE_K8S=false
have_plugin random && USE_RANDOM=true
have_plugin command && USE_COMMAND=true
if have_plugin kubernetes && [[ -n "${KUBECONFIG:-}" ]] && kubectl get --raw /readyz >/dev/null 2>&1; then
  USE_K8S=true
fi
echo "providers used: random=$USE_RANDOM command=$USE_COMMAND kubernetes=$USE_K8S" >&2

echo '{ "name": "engine-verify", "private": true, "main": "index.ts" }' >"$WORK/prog/package.json"
cat >"$WORK/prog/Pulumi.yaml" <<'EOF'
name: engine-verify
runtime:
  name: nodejs
  options:
    typescript: true
EOF
cat >"$WORK/prog/tsconfig.json" <<'EOF'
{ "compilerOptions": { "strict": true, "target": "es2020", "module": "commonjs", "types": ["node"] } }
EOF
cat >"$WORK/prog/index.ts" <<EOF
import * as pulumi from "@pulumi/pulumi";
export const hello = pulumi.output("engine-ok");
export let randomHex: pulumi.Output<string> | undefined;
export let commandStdout: pulumi.Output<string> | undefined;
export let configMapName: pulumi.Output<string> | undefined;
if ($USE_RANDOM) {
    const random = require("@pulumi/random");
    randomHex = new random.RandomId("id", { byteLength: 4 }).hex;
}
if ($USE_COMMAND) {
    const command = require("@pulumi/command");
    commandStdout = new command.local.Command("echo", { create: "echo command-ok" }).stdout;
}
if ($USE_K8S) {
    const k8s = require("@pulumi/kubernetes");
    configMapName = new k8s.core.v1.ConfigMap("cm", { data: { a: "b" } }).metadata.name;
}
EOF

export PULUMI_BACKEND_URL="file://$WORK/backend" PULUMI_CONFIG_PASSPHRASE=x
cd "$WORK/prog"
start=$SECONDS
pulumi stack init dev --non-interactive >&2
pulumi up --yes --non-interactive --skip-preview >&2
pulumi stack output --json | tee "$WORK/out1.json"
grep -q '"hello": "engine-ok"' "$WORK/out1.json"
if $USE_RANDOM; then grep -q '"randomHex": "[0-9a-f]\{8\}"' "$WORK/out1.json"; fi
if $USE_COMMAND; then grep -q '"commandStdout": "command-ok"' "$WORK/out1.json"; fi
if $USE_K8S; then grep -q '"configMapName": "cm-' "$WORK/out1.json"; fi
# A second up with nothing changed must change nothing.
pulumi preview --expect-no-changes --non-interactive >&2
pulumi destroy --yes --non-interactive --skip-preview >&2
echo "verify: OK in $((SECONDS - start))s (random=$USE_RANDOM command=$USE_COMMAND kubernetes=$USE_K8S)" >&2
