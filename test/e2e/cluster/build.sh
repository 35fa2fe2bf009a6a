#!/usr/bin/env bash
# Builds the test cluster's binaries into the version-keyed cache: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl from the k8s.io/kubernetes
# Go module, and a CoreDNS with only the plugins the cluster uses. A no-op when the cache has them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
mkdir -p "$CLUSTER_BIN"
k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
staging_version=0.${KUBE_VERSION#1.}        # k8s.io/api etc. are published as v0.<minor>.<patch>
work=$CLUSTER_CACHE/src

built() { for c in "${k8s_cmds[@]}" coredns; do [ -x "$CLUSTER_BIN/$c" ] || return 1; done; }
if built; then echo "cluster binaries: cached in $CLUSTER_BIN"; exit 0; fi
command -v go >/dev/null || { echo "build.sh: Go is not on PATH; Kubernetes $KUBE_VERSION needs Go 1.24 or newer to build" >&2; exit 1; }

# k8s.io/kubernetes replaces its staging modules with ./staging paths that a module download lacks;
# a wrapper module points each at its published version instead.
mkdir -p "$work/kubernetes" "$work/coredns"
cd "$work/kubernetes"
if ! grep -qs "k8s.io/kubernetes v$KUBE_VERSION" go.mod; then
  upstream_mod=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    printf 'module asfkit/cluster\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$KUBE_VERSION"
    awk '/=> .\/staging/ {print $1}' "$upstream_mod" | while read -r m; do printf '\t%s => %s v%s\n' "$m" "$m" "$staging_version"; done
    printf ')\n'
  } >go.mod.new
  mv go.mod.new go.mod
fi
# Without the version stamps the server reports v0.0.0-master and helm/kubectl version checks fail.
minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=2026-01-01T00:00:00Z"
done
pkgs=(); for c in "${k8s_cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
echo "building ${k8s_cmds[*]} v$KUBE_VERSION (first run on this machine: ~15 min on 2 cores)"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}"

cd "$work/coredns"
cat >main.go <<'GO'
// A CoreDNS with only the plugins the test cluster's Corefile uses.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() { dnsserver.Directives = []string{"bind", "ready", "errors", "cache", "kubernetes"} }

func main() { coremain.Run() }
GO
# k8s.io/* pinned to the cluster's release so the Go build cache is shared with the build above.
printf 'module asfkit/coredns\n\ngo 1.24.0\n\nrequire (\n\tgithub.com/coredns/coredns v%s\n\tk8s.io/api v%s\n\tk8s.io/apimachinery v%s\n\tk8s.io/client-go v%s\n)\n' \
  "$COREDNS_VERSION" "$staging_version" "$staging_version" "$staging_version" >go.mod
echo "building coredns $COREDNS_VERSION"
GOFLAGS=-mod=mod go mod tidy
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$work/out/coredns" .

# Publish all seven at once: an interrupted build never leaves a cache that looks complete.
for c in "${k8s_cmds[@]}" coredns; do mv "$work/out/$c" "$CLUSTER_BIN/$c"; done
echo "cluster binaries: built into $CLUSTER_BIN"
