#!/usr/bin/env bash
# Creates DIR/.venv for a Python capability from its pinned requirements.txt, then proves the
# install by running CHECK (Python code) in the venv from inside DIR.
#
#   capability-venv.sh DIR NAME CHECK
#
# Safe to re-run: does nothing when the venv already matches requirements.txt (a stamp of its
# sha256 sits in the venv). Needs python3 (3.11 or 3.12: the shared onnxruntime/numpy pins) with
# the venv module (Debian: python3-venv); PYTHON=/path/to/python3.x picks another interpreter.
set -euo pipefail
dir="$(cd "$1" && pwd)"
name="$2"
check="$3"
venv="$dir/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$dir/requirements.txt" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$name: $venv is up to date"
  exit 0
fi

# The pinned wheels exist for CPython 3.11 and 3.12: say so plainly instead of failing inside pip.
if ! "$python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)'; then
  echo "$name: needs Python 3.11 or 3.12, $python is $("$python" -V 2>&1); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "$name: creating $venv"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "$name: '$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
fi

# --no-deps: requirements.txt is the complete, pinned set (packages declaring opencv-python get
# the headless build, which needs no libGL). Wheels only: no compilers.
echo "$name: installing requirements.txt into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -r "$dir/requirements.txt"

(cd "$dir" && "$venv/bin/python" -c "$check")

echo "$want" >"$stamp"
echo "$name: ready ($venv)"
