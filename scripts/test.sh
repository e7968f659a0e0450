#!/usr/bin/env bash
# Sets up a virtualenv, installs volthub with its test tools, and runs every check and test:
# ruff, mypy, and pytest (SQLite and PostgreSQL; end-to-end against a real server).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'

# PostgreSQL: the local service if it runs or can be started; otherwise the tests start a
# throwaway cluster from the installed binaries, and fail (never skip) if that is impossible.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
