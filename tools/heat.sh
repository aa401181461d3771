#!/usr/bin/env bash
# A virtualenv with a real Heat (engine and API) for the functional tests:
#   pip install openstack-heat gunicorn psycopg2-binary
#
#   tools/heat.sh                builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# magnum/tests/functional/heat.py runs this script, then heat-manage,
# heat-engine and the Heat API (heat.wsgi.api under gunicorn) from the
# virtualenv, with the api-paste.ini installed at VENV/etc/heat.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" heat \
    'import heat.api.openstack.wsgi, heat.engine.service, psycopg2' \
    openstack-heat gunicorn psycopg2-binary
