#!/usr/bin/env bash
# A virtualenv with a real Keystone for the functional tests:
#   pip install keystone gunicorn psycopg2-binary
# (psycopg2-binary so Keystone can use the machine's PostgreSQL).
#
#   tools/keystone.sh            builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# magnum/tests/functional/keystone.py runs this script and then
# keystone-manage and gunicorn from the virtualenv's bin directory.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" keystone \
    'import keystone.server.wsgi, psycopg2' \
    keystone gunicorn psycopg2-binary
