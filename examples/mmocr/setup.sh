#!/usr/bin/env bash
# Creates examples/mmocr/.venv with the OCR engine and its models (from PyPI wheels).
# The Python host runs wrapper.py with .venv/bin/python when that folder exists.
# Safe to re-run (see scripts/capability-venv.sh, which does the work for every Python example).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The check proves the engine imports and its model files are on disk.
exec bash "$here/../../scripts/capability-venv.sh" "$here" mmocr '
from ocr_engine import Settings, model_files
files = model_files(Settings())
print("mmocr: models: " + ", ".join(f"{k}={v[0]} ({v[1]})" for k, v in sorted(files.items())))
'
