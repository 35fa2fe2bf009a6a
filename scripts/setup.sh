#!/usr/bin/env bash
# Installs everything ASF kit needs on a fresh Debian/Ubuntu machine (run as root), then builds.
# Safe to re-run: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# Debian packages: keep this list the single place they are named.
# debootstrap/umoci/skopeo: the daemonless image build and its tests.
# docker-registry/apache2-utils/openssl: the offline install tests (a real registry, htpasswd for basic
# auth, a self-signed certificate for a TLS registry).
# fonts-dejavu-core: the demos' make_sample.py draw their committed samples with DejaVu Sans.
# docker.io: the Compose engine suite (it starts a dockerd of its own; the package's service is not used).
# zsh/fish: the tests of asf completion's scripts for them.
# chromium: the console's browser tests (driven by puppeteer-core, which downloads no browser).
apt_packages=(python3 python3-venv g++ make debootstrap umoci skopeo docker-registry apache2-utils openssl fonts-dejavu-core docker.io zsh fish chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "npm ci"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

step "mmocr demo capability: Python environment with its model package"
bash examples/mmocr/setup.sh

step "layout demo capability: Python environment with its model package"
bash examples/layout/setup.sh

step "build"
npm run --silent build

step "native bridge (node-gyp) and the example C capability"
npm run --silent build:native

step "asf on PATH"
bash scripts/link-asf.sh
echo "setup done"
