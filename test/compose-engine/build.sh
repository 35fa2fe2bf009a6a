#!/usr/bin/env bash
# Builds Docker Compose v2 from its Go module (through the Go module proxy) into the version-keyed
# cache of versions.sh and prints the binary's path. A no-op when the cache has it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/versions.sh"
if [ -x "$COMPOSE_BIN" ]; then echo "$COMPOSE_BIN"; exit 0; fi
command -v go >/dev/null || { echo "build.sh: Go is not on PATH; Compose $COMPOSE_VERSION needs Go to build" >&2; exit 1; }
work=$COMPOSE_CACHE/src/compose-$COMPOSE_VERSION
mkdir -p "$work" "$(dirname "$COMPOSE_BIN")"
cd "$work"
# A main package of a dependency builds from a small module that requires it (-mod=mod fills go.sum).
if ! grep -qs "github.com/docker/compose/v2 v$COMPOSE_VERSION" go.mod; then
  upstream_mod=$(GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@v$COMPOSE_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  # Its go.mod pins forks with replace directives; a requiring module must repeat them.
  { printf 'module asfkit/compose\n\ngo 1.22\n\nrequire github.com/docker/compose/v2 v%s\n\n' "$COMPOSE_VERSION"
    sed -n '/^replace/,/^)/p; /^replace [^(]/p' "$upstream_mod/go.mod" | awk '!seen[$0]++'
  } >go.mod.new
  mv go.mod.new go.mod
fi
echo "building docker compose $COMPOSE_VERSION (first run on this machine: a few minutes on 2 cores)" >&2
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=v$COMPOSE_VERSION" \
  -o "$COMPOSE_BIN.tmp" github.com/docker/compose/v2/cmd >&2
# Published in one step: an interrupted build never leaves a binary that looks complete.
mv "$COMPOSE_BIN.tmp" "$COMPOSE_BIN"
echo "$COMPOSE_BIN"
