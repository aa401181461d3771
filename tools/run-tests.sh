#!/usr/bin/env bash
# Installs what the tests need and runs them all: unit tests (seconds, no
# network) and functional tests against real processes and services.
# Extra arguments go to pytest, e.g. tools/run-tests.sh -m "not docker", or
# "-n 2 --dist loadgroup --no-loadscope-reorder" for two pytest-xdist
# workers (see magnum/tests/conftest.py for which tests go together).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install.sh
tools/services.sh
exec .venv/bin/python -m pytest magnum/tests "$@"
