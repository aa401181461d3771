#!/usr/bin/env bash
# A virtualenv with a real Glance (image API v2) for the functional tests:
#   pip install glance gunicorn psycopg2-binary
#
#   tools/glance.sh              builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# magnum/tests/functional/cloud.py runs this script, then glance-manage and
# the Glance API (glance.wsgi.api under gunicorn) from the virtualenv, with
# the glance-api-paste.ini installed at VENV/etc/glance.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" glance \
    'import glance.api.v2.router, glance.cmd.api, psycopg2' \
    glance gunicorn psycopg2-binary
