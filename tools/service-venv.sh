#!/usr/bin/env bash
# A virtualenv of its own for an OpenStack service the functional tests run
# for real (not the project's .venv: each service pins its own oslo.* and
# SQLAlchemy).
#
#   tools/service-venv.sh NAME CHECK REQUIREMENT...
#
# builds ${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}/NAME-venv with
# ${MAGNUM_SERVICE_PYTHON:-python3} -m venv and `pip install REQUIREMENT...`
# unless a finished one is there, checks it with `python -c CHECK`, and
# prints its path last. A lock file (NAME-venv.lock, flock) keeps two test
# runs from building it at once; a marker file (.complete, the pip freeze)
# written last tells a finished virtualenv from a half-built one, which is
# removed and built again.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 NAME CHECK REQUIREMENT..." >&2; exit 2; }
NAME=$1
CHECK=$2
shift 2
CACHE=${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}
VENV=$CACHE/$NAME-venv
PYTHON=${MAGNUM_SERVICE_PYTHON:-${MAGNUM_KEYSTONE_PYTHON:-python3}}

mkdir -p "$CACHE"
exec 9>"$VENV.lock"
flock 9

if [ ! -e "$VENV/.complete" ]; then
    rm -rf "$VENV"
    # NOTE: the variables of an activated venv would tie the new one to it.
    env -u VIRTUAL_ENV -u PYTHONHOME "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "$@" >&2
    "$VENV/bin/python" -c "$CHECK" >&2
    "$VENV/bin/python" -m pip freeze --disable-pip-version-check \
        >"$VENV/.complete"
fi

echo "$VENV"
