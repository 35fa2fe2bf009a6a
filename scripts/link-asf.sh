#!/usr/bin/env bash
# Puts `asf` on PATH: a link named asf in BIN_DIR (default /usr/local/bin) to this checkout's
# bin/asf.js, so that the README's commands, the scaffold's hints and test.sh find it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=${1:-/usr/local/bin}
mkdir -p "$bin_dir"
ln -sfn "$root/bin/asf.js" "$bin_dir/asf"
case ":$PATH:" in
  *":$bin_dir:"*) echo "asf: $bin_dir/asf -> $root/bin/asf.js" ;;
  *) echo "asf: $bin_dir/asf -> $root/bin/asf.js ($bin_dir is not on PATH: add it)" ;;
esac
