#!/usr/bin/env bash
# Installs Magnum and its test tools into .venv (created if missing).
# Safe to run again: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements.txt -r test-requirements.txt
.venv/bin/pip install -q --no-deps -e .
