#!/usr/bin/env bash
# A virtualenv with a real Neutron (neutron-server's API) for the functional
# tests:
#   pip install neutron gunicorn PyMySQL
#
#   tools/neutron.sh             builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# magnum/tests/functional/cloud.py runs this script, then neutron-db-manage
# and the networking API (neutron.wsgi.api under gunicorn) from the
# virtualenv, with the api-paste.ini installed at VENV/etc/neutron.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" neutron \
    'import neutron.server, neutron.plugins.ml2.plugin, pymysql' \
    neutron gunicorn PyMySQL
