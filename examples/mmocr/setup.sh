#!/usr/bin/env bash
# Creates examples/mmocr/.venv with the OCR engine and its models (from PyPI wheels).
# The Python host runs wrapper.py with .venv/bin/python when that folder exists.
# Safe to re-run: does nothing when the venv already matches requirements.txt.
# Needs: python3 (3.11 or 3.12) with the venv module (Debian: python3-venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "mmocr: $venv is up to date"
  exit 0
fi

# The pinned wheels exist for CPython 3.11 and 3.12 (onnxruntime/shapely need >= 3.11,
# rapidocr-onnxruntime < 3.13): say so plainly instead of failing inside pip.
if ! "$python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)'; then
  echo "mmocr: needs Python 3.11 or 3.12, $python is $("$python" -V 2>&1); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "mmocr: creating $venv"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "mmocr: '$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
fi

# --no-deps: requirements.txt is the complete, pinned set (it swaps rapidocr's declared
# opencv-python for the headless build, which needs no libGL). Wheels only: no compilers.
echo "mmocr: installing requirements.txt into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -r "$here/requirements.txt"

# Prove the engine imports and its model files are on disk before calling it done.
"$venv/bin/python" - "$here" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from ocr_engine import Settings, model_files
files = model_files(Settings())
print("mmocr: models: " + ", ".join(f"{k}={v[0]} ({v[1]})" for k, v in sorted(files.items())))
EOF

echo "$want" >"$stamp"
echo "mmocr: ready ($venv)"
