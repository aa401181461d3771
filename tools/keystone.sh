#!/usr/bin/env bash
# A virtualenv with a real Keystone for the functional tests (not the
# project's .venv: Keystone pins its own oslo.* and SQLAlchemy).
#
#   tools/keystone.sh            builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# The virtualenv is
# ${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}/keystone-venv,
# made with ${MAGNUM_KEYSTONE_PYTHON:-python3} -m venv and
#   pip install keystone gunicorn psycopg2-binary
# (psycopg2-binary so Keystone can use the machine's PostgreSQL). A lock file
# (keystone-venv.lock, flock) keeps two test runs from building it at once; a
# marker file (.complete) written last tells a finished virtualenv from a
# half-built one, which is removed and built again.
#
# magnum/tests/functional/keystone.py runs this script and then
# keystone-manage and gunicorn from the virtualenv's bin directory.
set -euo pipefail

CACHE=${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}
VENV=$CACHE/keystone-venv
PYTHON=${MAGNUM_KEYSTONE_PYTHON:-python3}
REQUIREMENTS=(keystone gunicorn psycopg2-binary)

mkdir -p "$CACHE"
exec 9>"$VENV.lock"
flock 9

if [ ! -e "$VENV/.complete" ]; then
    rm -rf "$VENV"
    # NOTE: the variables of an activated venv would tie the new one to it.
    env -u VIRTUAL_ENV -u PYTHONHOME "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "${REQUIREMENTS[@]}" >&2
    "$VENV/bin/python" -c 'import keystone.server.wsgi, psycopg2' >&2
    "$VENV/bin/python" -m pip freeze --disable-pip-version-check \
        >"$VENV/.complete"
fi

echo "$VENV"
