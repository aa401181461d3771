#!/usr/bin/env bash
# A virtualenv with Horizon and the Magnum panel (magnum-ui) for the
# functional tests:
#   pip install horizon==27.0.0 magnum-ui==19.0.0 python-magnumclient==4.11.0
#
#   tools/horizon.sh             builds it unless a finished one is there;
#                                prints the virtualenv's path last
#
# python-magnumclient stays at 4.11.0: 5.0.0 drops the input_auth_token
# argument that magnum-ui passes, and every call of the panel then fails.
# magnum/tests/functional/horizon.py writes a manage.py and a
# local_settings.py of its own beside it (nothing in the virtualenv is
# changed), runs collectstatic and compress, and serves the dashboard.
set -euo pipefail
exec "$(dirname "$0")/service-venv.sh" horizon \
    'import openstack_dashboard.settings, magnum_ui.enabled, magnumclient.v1.client' \
    horizon==27.0.0 magnum-ui==19.0.0 python-magnumclient==4.11.0
