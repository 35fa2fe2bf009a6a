#!/usr/bin/env bash
# Creates examples/layout/.venv with onnxruntime and the layout model (from PyPI wheels).
# The Python host runs wrapper.py with .venv/bin/python when that folder exists.
# Safe to re-run (see scripts/capability-venv.sh, which does the work for every Python example).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The check proves the model file is where the engine looks and matches its pinned sha256.
exec bash "$here/../../scripts/capability-venv.sh" "$here" layout '
from layout_engine import Settings, verified_model
path, digest = verified_model(Settings())
print(f"layout: model {path} (sha256 {digest})")
'
