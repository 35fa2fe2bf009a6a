#!/usr/bin/env bash
# Packs the static pause binary as a one-layer OCI image archive that `ctr images import` takes,
# so the cluster's sandbox image never comes from a registry. Usage: pause-image.sh OUT.tar IMAGE
set -euo pipefail
out=$1 name=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
gcc -Os -static -o "$work/rootfs/pause" "$here/pause.c" && strip "$work/rootfs/pause"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
diff_id=$(sha256sum <"$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"

blob() { # FILE -> "<hex> <size>", the file stored under blobs/sha256
  local hex; hex=$(sha256sum <"$1" | cut -d' ' -f1)
  cp "$1" "$work/oci/blobs/sha256/$hex"; echo "$hex $(stat -c %s "$1")"
}
read -r layer_hex layer_size < <(blob "$work/layer.tar.gz")
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" >"$work/config.json"
read -r config_hex config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config_hex" "$config_size" "$layer_hex" "$layer_size" >"$work/manifest.json"
read -r manifest_hex manifest_size < <(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
  "$manifest_hex" "$manifest_size" "$name" >"$work/oci/index.json"
tar --owner=0 --group=0 -C "$work/oci" -cf "$out" oci-layout index.json blobs
