#!/usr/bin/env bash
# Installs Magnum and its test tools into .venv (created if missing).
# Safe to run again: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
LOG=.venv/install.log
{
    .venv/bin/pip install --upgrade pip &&
    .venv/bin/pip install -c upper-constraints.txt \
        -r requirements.txt -r test-requirements.txt &&
    .venv/bin/pip install --no-deps -e .
} >"$LOG" 2>&1 || { tail -n 40 "$LOG"; echo "install.sh: pip failed; see $LOG" >&2; exit 1; }
