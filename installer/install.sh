#!/usr/bin/env bash
# Installs ASF kit from this extracted offline bundle onto an existing Kubernetes cluster: it runs
# the bundle's own `asf` executable (bin/asf: no Node.js needed), so every option is asf's.
#
#   install.sh [install|upgrade] --registry HOST:PORT | --serve-registry [ADDR]   [options]
#   install.sh uninstall [--purge-registry]
#   install.sh status [--registry HOST:PORT] [--gateway URL]
#   install.sh check       the post-install check again (each capability's sample, through helm test)
#
# `install.sh --help` (or `bin/asf install --help`) lists every option.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

action=install
case "${1:-}" in install|upgrade|uninstall|status|check) action="$1"; shift ;; esac

asf="$here/bin/asf"
if [ ! -x "$asf" ]; then
  # A source checkout (installer/install.sh): its asf, run by Node.js.
  asf="$here/../bin/asf.js"
  [ -f "$asf" ] || { echo "install.sh: error: $here/bin/asf not found; the bundle is incomplete (copy it again)" >&2; exit 1; }
fi

# This folder is the bundle, unless --bundle names another (the last one given counts).
bundle=()
[ -d "$here/registry" ] && bundle=(--bundle "$here")
# Hints name the command the user typed to re-run the check.
export ASF_INSTALLER_COMMAND="$0"
exec "$asf" "$action" ${bundle[@]+"${bundle[@]}"} "$@"
