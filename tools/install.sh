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

# The boot scripts of the Heat templates are checked by shellcheck (a unit
# test): Debian's package, installed when missing and we are root (CI is);
# otherwise that test skips and says so.
if ! command -v shellcheck >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] \
        && command -v apt-get >/dev/null 2>&1; then
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck ||
      { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }
    } >>"$LOG" 2>&1 || echo "install.sh: could not install shellcheck" >&2
fi
