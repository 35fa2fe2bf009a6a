#!/usr/bin/env bash
# Installs the GPU driver and container toolkit packages a gpu-profile bundle carries (packages/),
# on the node it runs on: run it on every GPU node (sealos does so through a patch-type image).
# Each file is checked against the bundle's checksums first; .deb files go in with one dpkg -i,
# .run installers run with --silent. Re-running skips what is already installed.
# With --node NAME (and kubectl) it labels the node asf.io/gpu-driver=<version>, which install.sh's
# GPU preflight looks for.
set -euo pipefail

log() { printf 'install-driver: %s\n' "$*"; }
die() { printf 'install-driver: error: %s\n' "$*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="$here"
[ -f "$bundle/checksums" ] || bundle="$(dirname "$here")"
node=""
dry_run=0
state="${ASF_DRIVER_STATE_DIR:-/var/lib/asf/drivers}"

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) [ -n "${2:-}" ] || die "--bundle needs a folder"; bundle="$2"; shift 2 ;;
    --node) [ -n "${2:-}" ] || die "--node needs a node name"; node="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) echo "Usage: install-driver.sh [--bundle DIR] [--node NAME] [--dry-run]"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[ -d "$bundle/packages" ] || die "no packages/ in $bundle: this bundle carries no GPU packages (build it with --profile gpu)"
[ -f "$bundle/checksums" ] || die "no checksums in $bundle; cannot check the packages before installing them"
[ "$dry_run" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (it installs system packages)"

mapfile -t files < <(cd "$bundle" && find packages -type f \( -name '*.deb' -o -name '*.run' \) | sort)
[ "${#files[@]}" -gt 0 ] || die "packages/ in $bundle holds no .deb or .run files"

# Every package must be listed in checksums and match it before anything is installed.
for file in "${files[@]}"; do
  line="$(grep -E "^[0-9a-f]{64}  $file\$" "$bundle/checksums" || true)"
  [ -n "$line" ] || die "$file is not listed in $bundle/checksums; refusing to install an unchecked package"
  (cd "$bundle" && printf '%s\n' "$line" | sha256sum --quiet --strict -c - >/dev/null 2>&1) ||
    die "$file does not match its sha256 in checksums; copy the bundle again"
done
log "${#files[@]} packages match their checksums"

debs=()
for file in "${files[@]}"; do
  [[ "$file" == *.deb ]] || continue
  pkg="$(dpkg-deb -f "$bundle/$file" Package)"
  version="$(dpkg-deb -f "$bundle/$file" Version)"
  if [ "$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null || true)" = "$version" ]; then
    log "$pkg $version already installed"
  else
    debs+=("$bundle/$file")
  fi
done
if [ "${#debs[@]}" -gt 0 ]; then
  log "dpkg -i ${debs[*]}"
  [ "$dry_run" = 1 ] || dpkg -i "${debs[@]}" || die "dpkg -i failed (above); fix the cause and re-run"
fi

for file in "${files[@]}"; do
  [[ "$file" == *.run ]] || continue
  sum="$(sha256sum "$bundle/$file" | cut -d' ' -f1)"
  if [ -f "$state/$sum.done" ]; then log "$file already installed"; continue; fi
  log "sh $file --silent"
  [ "$dry_run" = 1 ] && continue
  sh "$bundle/$file" --silent || die "$file --silent failed (above); its log is usually /var/log/nvidia-installer.log"
  mkdir -p "$state" && : >"$state/$sum.done"
done

if [ -n "$node" ]; then
  version="installed"
  command -v nvidia-smi >/dev/null && version="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | sed -n 1p)"
  log "kubectl label node $node asf.io/gpu-driver=$version --overwrite"
  [ "$dry_run" = 1 ] || kubectl label node "$node" "asf.io/gpu-driver=$version" --overwrite ||
    die "labelling node $node failed; label it by hand: kubectl label node $node asf.io/gpu-driver=$version"
fi
log "done"
