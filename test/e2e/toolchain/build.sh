#!/usr/bin/env bash
# Builds the "real engine" toolchain for the end-to-end tests from the Go module proxy:
#   pulumi CLI + nodejs language host, the kubernetes resource plugin, helm, kubectl, etcd,
#   kube-apiserver/-controller-manager/-scheduler, kwok/kwokctl, and SeaweedFS's weed (the S3-compatible
#   server test/services/s3.sh runs for the snapshot-store tests). (The command and random plugins cannot be
#   fetched through the module proxy reachable here: see README.md; component standin-providers installs
#   Node.js stand-ins for the two resource types the program uses.)
# Each component goes into $RUNBOOK_TOOLCHAIN_DIR/<component>-<version>/bin and is skipped when it is
# already there, so a warm run takes seconds. At the end $RUNBOOK_TOOLCHAIN_DIR/bin holds symlinks to
# every binary and $RUNBOOK_TOOLCHAIN_DIR/env.sh exports PATH, PULUMI_HOME and friends.
#
# Usage: test/e2e/toolchain/build.sh [component ...]    (default: all, in the order below)
#   components: kubernetes pulumi pulumi-kubernetes etcd kwok kubectl helm standin-providers seaweedfs
# Environment:
#   RUNBOOK_TOOLCHAIN_DIR   output root (default ~/.cache/release-runbook/toolchain)
#   RUNBOOK_GO_CACHE_DIR    GOMODCACHE/GOCACHE used for the build (default ~/.cache/release-runbook/go);
#                           can be deleted after a build, the binaries do not need it.
#   RUNBOOK_TOOLCHAIN_CLEAN_GO_CACHE=1  delete RUNBOOK_GO_CACHE_DIR after a build without failures (it
#                           grows to ~14 GB; a later rebuild of one component is then cold again)
#   GO                      go binary (default: go on PATH, else /usr/local/go/bin/go)
#   GOPROXY                 the Go module proxy (default: what `go env GOPROXY` gives)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
GO_CACHE_ROOT=${RUNBOOK_GO_CACHE_DIR:-$HOME/.cache/release-runbook/go}

# ---- versions (keep in step with package.json and the wrapper go.mod files) -------------------
PULUMI_VERSION=3.248.0                  # @pulumi/pulumi
PULUMI_COMMIT=dc7edd58bc13179f81b80983aab4eb7f74a01b41   # tag v3.248.0
COMMAND_VERSION=1.2.1                   # @pulumi/command
COMMAND_COMMIT=7f3eb6f3b77cd0fa3895ba437a695dd393f7dd25
K8S_PROVIDER_VERSION=4.32.0             # @pulumi/kubernetes
K8S_PROVIDER_COMMIT=a03ff6ba58d2f1ea68319dda4b2c982119489c71   # see README.md: not obtainable here
RANDOM_VERSION=4.21.2                   # @pulumi/random
HELM_VERSION=3.18.6                     # what the pulumi-kubernetes provider module built here requires
KUBE_VERSION=1.33.13                    # kube-apiserver, kube-controller-manager, kube-scheduler
ETCD_VERSION=3.5.21                     # what Kubernetes 1.33 requires
KWOK_VERSION=0.8.0
SEAWEEDFS_VERSION=0.0.0-20261109003541-7506e5f91cd6   # seaweedfs/go.mod (weed 4.53, commit 7506e5f91cd6)

ALL_COMPONENTS=(kubernetes pulumi pulumi-kubernetes etcd kwok kubectl helm standin-providers seaweedfs)

log() { printf '[toolchain] %s\n' "$*" >&2; }

find_go() {
  if [[ -n "${GO:-}" ]]; then echo "$GO"; return; fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  log "no go toolchain found (set GO=/path/to/go)"; exit 1
}

setup_go_env() {
  GO=$(find_go)
  export GOMODCACHE="$GO_CACHE_ROOT/mod"
  export GOCACHE="$GO_CACHE_ROOT/build"
  export CGO_ENABLED=0
  export GOTOOLCHAIN=local
  export GOFLAGS="-buildvcs=false"
  # The checksum database behind the proxy does not (yet) know some of these module versions
  # (lookups answer 404); the wrapper modules' committed go.sum files pin the hashes instead.
  export GOSUMDB=off
  # The module proxy is the machine's own (GOPROXY, else the go env file, else go's built-in default).
  GOPROXY=$("$GO" env GOPROXY)
  export GOPROXY
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# component_done DIR BIN... : true when every listed binary exists under DIR/bin.
component_done() {
  local dir=$1; shift
  [[ -f "$dir/.complete" ]] || return 1
  local b
  for b in "$@"; do [[ -x "$dir/bin/$b" ]] || return 1; done
}

# Times a component build; skips it when done. run_component NAME VERSION FUNC BIN...
declare -A TIMES=()
run_component() {
  local name=$1 version=$2 fn=$3; shift 3
  local dir="$TOOLCHAIN/$name-$version"
  if component_done "$dir" "$@"; then
    log "$name $version: present in $dir, skipped"
    TIMES[${CURRENT:-$name}]="cached"
    return 0
  fi
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp/bin"
  local start=$SECONDS
  log "$name $version: building into $dir"
  if "$fn" "$tmp/bin" "$version"; then
    rm -rf "$dir"; mv "$tmp" "$dir"; touch "$dir/.complete"
    TIMES[${CURRENT:-$name}]="$((SECONDS - start))s"
    log "$name $version: built in $((SECONDS - start))s ($(du -sh "$dir" | cut -f1))"
  else
    TIMES[${CURRENT:-$name}]="FAILED after $((SECONDS - start))s"
    log "$name $version: FAILED after $((SECONDS - start))s"
    rm -rf "$tmp"
    FAILED+=("$name")
  fi
}

# go_build_in MODULE_DIR OUT LDFLAGS PKG : go build -trimpath inside a module directory.
go_build_in() {
  local moddir=$1 out=$2 ldflags=$3 pkg=$4
  log "  go build $pkg"
  (cd "$moddir" && "$GO" build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$pkg")
}

# ---- components ------------------------------------------------------------------------------
build_kubernetes() {
  local out=$1 v=$2 vx
  vx="-X k8s.io/component-base/version.gitVersion=v$v -X k8s.io/component-base/version.gitMajor=${v%%.*}"
  vx+=" -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  vx+=" -X k8s.io/component-base/version.gitTreeState=clean"
  vx+=" -X k8s.io/client-go/pkg/version.gitVersion=v$v -X k8s.io/client-go/pkg/version.gitMajor=${v%%.*}"
  vx+=" -X k8s.io/client-go/pkg/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go_build_in "$HERE/kubernetes" "$out/$c" "$vx" "k8s.io/kubernetes/cmd/$c" || return 1
  done
}

build_kubectl() {
  local out=$1 v=$2 vx
  vx="-X k8s.io/component-base/version.gitVersion=v$v -X k8s.io/component-base/version.gitMajor=${v%%.*}"
  vx+=" -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  vx+=" -X k8s.io/client-go/pkg/version.gitVersion=v$v -X k8s.io/client-go/pkg/version.gitMajor=${v%%.*}"
  vx+=" -X k8s.io/client-go/pkg/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  go_build_in "$HERE/kubernetes" "$out/kubectl" "$vx" "k8s.io/kubernetes/cmd/kubectl" || return 1
}

build_etcd() {
  local out=$1 v=$2
  go_build_in "$HERE/etcd" "$out/etcd" "" "go.etcd.io/etcd/server/v3" || return 1
}

build_kwok() {
  local out=$1 v=$2
  local vx="-X sigs.k8s.io/kwok/pkg/consts.Version=v$v -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v$KUBE_VERSION"
  go_build_in "$HERE/kwok" "$out/kwok" "$vx" "sigs.k8s.io/kwok/cmd/kwok" || return 1
  go_build_in "$HERE/kwok" "$out/kwokctl" "$vx" "sigs.k8s.io/kwok/cmd/kwokctl" || return 1
  # kwok's default Stage manifests, which test/e2e/cluster/up.sh combines with its own.
  local moddir
  moddir=$(cd "$HERE/kwok" && "$GO" list -m -f '{{.Dir}}' sigs.k8s.io/kwok) || return 1
  mkdir -p "$out/../stages"
  cp "$moddir"/kustomize/stage/node/fast/node-initialize.yaml \
    "$moddir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$moddir"/kustomize/stage/pod/fast/pod-ready.yaml "$moddir"/kustomize/stage/pod/fast/pod-complete.yaml \
    "$moddir"/kustomize/stage/pod/fast/pod-delete.yaml "$out/../stages/"
  chmod u+w "$out"/../stages/*
}

build_helm() {
  local out=$1 v=$2
  local vx="-X helm.sh/helm/v3/internal/version.version=v$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  vx+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  go_build_in "$HERE/helm" "$out/helm" "$vx" "helm.sh/helm/v3/cmd/helm" || return 1
}

# weed: SeaweedFS in one binary; test/services/s3.sh runs `weed server -s3` on loopback.
build_seaweedfs() {
  local out=$1 v=$2
  go_build_in "$HERE/seaweedfs" "$out/weed" "-X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${v##*-}" \
    "github.com/seaweedfs/seaweedfs/weed" || return 1
}

build_pulumi() {
  local out=$1 v=$2
  go_build_in "$HERE/pulumi" "$out/pulumi" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" || return 1
  # Language host: the Go pulumi-language-nodejs cannot be fetched (see README.md); use the Node.js one here.
  install -m 0755 "$HERE/language-host/pulumi-language-nodejs" "$out/pulumi-language-nodejs"
  # Script shims the CLI distribution ships next to pulumi (dynamic providers, policy packs), taken from
  # the sdk module at the same version.
  local sdkdir f
  sdkdir=$(cd "$HERE/pulumi" && "$GO" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3) || return 1
  for f in "$sdkdir"/nodejs/dist/pulumi-*; do
    case "$f" in *.cmd) continue ;; esac
    install -m 0755 "$f" "$out/$(basename "$f")"
  done
}

# pulumi-resource-kubernetes: the provider go:embeds files generated from its schema.json; they are not in
# the module zip, so the wrapper module (with its own copy of the provider's main.go) is copied into a build
# directory and the files are generated there with the provider's own generate.go.
build_pulumi_kubernetes() {
  local out=$1 v=$2 build="$TOOLCHAIN/.build/pulumi-kubernetes-$2"
  rm -rf "$build"; mkdir -p "$build/gen"
  cp "$HERE/pulumi-kubernetes/go.mod" "$HERE/pulumi-kubernetes/go.sum" "$HERE/pulumi-kubernetes/main.go" "$build/"
  local modpath moddir
  modpath=$(cd "$build" && "$GO" list -m -f '{{.Path}}@{{.Version}}' github.com/pulumi/pulumi-kubernetes/provider/v4) || return 1
  moddir=$(cd "$build" && "$GO" mod download -json "$modpath" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return 1
  [[ -n "$moddir" ]] || { log "cannot locate $modpath in the module cache"; return 1; }
  log "  generating schema-embed.json from $modpath"
  cp "$moddir/cmd/pulumi-resource-kubernetes/generate.go" "$moddir/cmd/pulumi-resource-kubernetes/schema.json" \
    "$moddir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$build/gen/"
  chmod -R u+w "$build"
  (cd "$build/gen" && VERSION="$v" "$GO" run ./generate.go) || return 1
  mv "$build/gen/schema-embed.json" "$build/gen/terraform-mapping-embed.json" "$build/"
  rm -rf "$build/gen"
  go_build_in "$build" "$out/pulumi-resource-kubernetes" \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$v" . || return 1
  rm -rf "$build"
}

# ---- standin-providers: Node.js stand-ins for the command and random plugins ------------------------------
# The proxy refuses github.com/pulumi/pulumi-command/provider (@v/list 403, @v/v1.2.1.info 404) and
# github.com/pulumi/pulumi-random/provider/v4 (v4.13.0-v4.21.2 403), so the real plugins cannot be built here.
# standin-providers/standin-provider implements command:local:Command and random:index/randomId:RandomId (see
# its header and README.md); it is copied as pulumi-resource-command and pulumi-resource-random (it picks its
# provider by that name) into $TOOLCHAIN/standin-providers-<sha256 of the script>/bin, so an edited script is
# a new component version, and install_standin_providers (called by finalize) puts both into the plugin cache
# as command $COMMAND_VERSION and random $RANDOM_VERSION, the versions the npm SDKs ask for.
STANDIN_SRC="$HERE/standin-providers/standin-provider"
STANDIN_VERSION=$(sha256sum "$STANDIN_SRC" | cut -c1-12)

build_standin_providers() {
  local out=$1 sdk name
  # The SDK fallback for programs whose work directory has no node_modules: this checkout's @pulumi/pulumi.
  sdk=$(cd "$HERE/../../.." && pwd)/node_modules/@pulumi/pulumi
  [[ -f "$sdk/package.json" ]] || sdk=""
  for name in command random; do
    sed "s|^const BUILD_SDK_DIR = \"\";|const BUILD_SDK_DIR = \"$sdk\";|" "$STANDIN_SRC" >"$out/pulumi-resource-$name" || return 1
    chmod 0755 "$out/pulumi-resource-$name"
  done
  # Builds of earlier versions of the script are of no further use.
  local old
  for old in "$TOOLCHAIN"/standin-providers-*; do
    [[ "$old" == "$TOOLCHAIN/standin-providers-$STANDIN_VERSION"* ]] || rm -rf "$old"
  done
}

install_standin_providers() {
  local dir="$TOOLCHAIN/standin-providers-$STANDIN_VERSION" spec name version bin
  [[ -f "$dir/.complete" ]] || return 0
  if [[ ! -x "$pulumi" ]]; then
    log "standin-providers: no $pulumi yet, plugins not installed (build component pulumi)"
    return 0
  fi
  for spec in "command $COMMAND_VERSION" "random $RANDOM_VERSION"; do
    read -r name version <<<"$spec"
    bin="$dir/bin/pulumi-resource-$name"
    if cmp -s "$bin" "$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"; then continue; fi
    log "installing stand-in plugin resource $name $version into $PULUMI_HOME"
    "$pulumi" plugin install resource "$name" "$version" --file "$bin" --reinstall >&2 || FAILED+=("plugin-$name")
  done
}
# ---- end of standin-providers ------------------------------------------------------------------------------

# Links every built binary into $TOOLCHAIN/bin, installs the resource plugins into the plugin cache of
# $TOOLCHAIN/pulumi-home and writes $TOOLCHAIN/env.sh.
finalize() {
  local start=$SECONDS d f
  mkdir -p "$TOOLCHAIN/bin"
  for d in "$TOOLCHAIN/kubernetes-$KUBE_VERSION" "$TOOLCHAIN/kubectl-$KUBE_VERSION" "$TOOLCHAIN/etcd-$ETCD_VERSION" \
    "$TOOLCHAIN/kwok-$KWOK_VERSION" "$TOOLCHAIN/helm-$HELM_VERSION" "$TOOLCHAIN/pulumi-$PULUMI_VERSION" \
    "$TOOLCHAIN/seaweedfs-$SEAWEEDFS_VERSION"; do
    [[ -f "$d/.complete" ]] || continue
    for f in "$d"/bin/*; do ln -sfn "$f" "$TOOLCHAIN/bin/$(basename "$f")"; done
  done
  if [[ -d "$TOOLCHAIN/kwok-$KWOK_VERSION/stages" ]]; then
    ln -sfn "$TOOLCHAIN/kwok-$KWOK_VERSION/stages" "$TOOLCHAIN/kwok-stages"
  fi

  export PULUMI_HOME="$TOOLCHAIN/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true
  mkdir -p "$PULUMI_HOME"
  local pulumi="$TOOLCHAIN/pulumi-$PULUMI_VERSION/bin/pulumi" spec name version bin
  for spec in "kubernetes $K8S_PROVIDER_VERSION" "command $COMMAND_VERSION" "random $RANDOM_VERSION"; do
    read -r name version <<<"$spec"
    bin="$TOOLCHAIN/pulumi-resource-$name-$version/bin/pulumi-resource-$name"
    [[ -x "$pulumi" && -x "$bin" ]] || continue
    if cmp -s "$bin" "$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"; then continue; fi
    log "installing plugin resource $name $version into $PULUMI_HOME"
    "$pulumi" plugin install resource "$name" "$version" --file "$bin" >&2 || FAILED+=("plugin-$name")
  done
  install_standin_providers   # standin-providers section above

  cat >"$TOOLCHAIN/env.sh" <<EOF
# Generated by test/e2e/toolchain/build.sh: source it to use the e2e toolchain.
export RUNBOOK_TOOLCHAIN_DIR="$TOOLCHAIN"
export PATH="$TOOLCHAIN/bin:\$PATH"
export PULUMI_HOME="$TOOLCHAIN/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
EOF
  TIMES[finalize]="$((SECONDS - start))s"
}

main() {
  setup_go_env
  mkdir -p "$TOOLCHAIN"
  local comps=("$@")
  [[ ${#comps[@]} -gt 0 ]] || comps=("${ALL_COMPONENTS[@]}")
  FAILED=()
  local total_start=$SECONDS c
  log "toolchain dir: $TOOLCHAIN; go: $("$GO" version); GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE"
  for c in "${comps[@]}"; do
    CURRENT=$c
    case "$c" in
      kubernetes) run_component kubernetes "$KUBE_VERSION" build_kubernetes kube-apiserver kube-controller-manager kube-scheduler ;;
      kubectl) run_component kubectl "$KUBE_VERSION" build_kubectl kubectl ;;
      etcd) run_component etcd "$ETCD_VERSION" build_etcd etcd ;;
      kwok) run_component kwok "$KWOK_VERSION" build_kwok kwok kwokctl ;;
      seaweedfs) run_component seaweedfs "$SEAWEEDFS_VERSION" build_seaweedfs weed ;;
      finalize) ;;
      helm) run_component helm "$HELM_VERSION" build_helm helm ;;
      pulumi) run_component pulumi "$PULUMI_VERSION" build_pulumi pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs ;;
      pulumi-kubernetes) run_component pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION" build_pulumi_kubernetes pulumi-resource-kubernetes ;;
      standin-providers) run_component standin-providers "$STANDIN_VERSION" build_standin_providers pulumi-resource-command pulumi-resource-random ;;
      *) log "unknown component: $c"; exit 2 ;;
    esac
  done
  finalize
  [[ " ${comps[*]} " == *" finalize "* ]] || comps+=(finalize)
  log "---- wall time per component ----"
  for c in "${comps[@]}"; do log "$(printf '%-18s %s' "$c" "${TIMES[$c]:-?}")"; done
  log "total: $((SECONDS - total_start))s"
  if [[ ${#FAILED[@]} -gt 0 ]]; then log "FAILED: ${FAILED[*]}"; return 1; fi
  if [[ "${RUNBOOK_TOOLCHAIN_CLEAN_GO_CACHE:-}" == 1 ]]; then
    log "removing $GO_CACHE_ROOT"
    chmod -R u+w "$GO_CACHE_ROOT" 2>/dev/null || true
    rm -rf "$GO_CACHE_ROOT"
  fi
}

main "$@"; exit $?
