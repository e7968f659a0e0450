#!/usr/bin/env bash
# Creates (or reuses) the extrawest-ocpi peer's own virtualenv and installs requirements.txt into it.
# Usage: setup.sh [VENV_DIR]   (default: $EXTRAWEST_VENV or /tmp/volthub-extrawest-venv)
# Idempotent: skips pip when the venv's `pip freeze` already equals requirements.txt. Prints the venv's python.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${EXTRAWEST_VENV:-/tmp/volthub-extrawest-venv}}"
req="$here/requirements.txt"

norm() { grep -v -e '^#' -e '^[[:space:]]*$' | tr 'A-Z_' 'a-z-' | sort; }
installed() { "$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null | norm; }

if [ -x "$venv/bin/python" ] && [ "$(installed)" = "$(norm <"$req")" ]; then
  echo "$venv/bin/python"
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
"$venv/bin/python" -c 'import py_ocpi, uvicorn'
echo "$venv/bin/python"
