#!/usr/bin/env bash
# A virtualenv with a real Nova (its compute API only) for the functional
# tests:
#   pip install nova gunicorn PyMySQL psycopg2-binary
#
#   tools/nova.sh                builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# magnum/tests/functional/cloud.py runs this script, then nova-manage and
# the compute API (nova.wsgi.osapi_compute under gunicorn) from the
# virtualenv, with the api-paste.ini installed at VENV/etc/nova.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" nova \
    'import nova.api.openstack.compute, nova.cmd.manage, pymysql, psycopg2' \
    nova gunicorn PyMySQL psycopg2-binary
