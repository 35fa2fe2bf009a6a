#!/usr/bin/env bash
# Creates .cache/tools-venv with the Python tools the chart tests use (kubernetes-validate, pinned
# in scripts/tools/requirements.txt, from PyPI). Prints the venv path. Safe to re-run: does nothing
# when the venv already matches requirements.txt. Needs python3 with the venv module.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.cache/tools-venv"
req="$root/scripts/tools/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$root/.cache"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv"
