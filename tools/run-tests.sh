#!/usr/bin/env bash
# Installs what the tests need and runs them all: unit tests (seconds, no
# network) and functional tests against real processes and services.
#
# Three pytest-xdist workers share the run (MAGNUM_TEST_WORKERS=N for
# another number, 0 for one process): each functional module goes to one
# worker whole (the Heat bay and node-group modules and the fault test first,
# each on a worker of its own), unit tests one by one
# (magnum/tests/conftest.py). Extra arguments go to pytest,
# e.g. tools/run-tests.sh -m "not docker".
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install.sh
tools/services.sh
workers=${MAGNUM_TEST_WORKERS:-3}
xdist=()
if [ "$workers" -gt 0 ]; then
    xdist=(-n "$workers" --dist loadgroup --no-loadscope-reorder)
fi
exec .venv/bin/python -m pytest magnum/tests "${xdist[@]}" "$@"
