"""The microversion a request asked for, and what each version adds.

The version middleware (magnum.api.middleware.version) negotiates the
``OpenStack-API-Version: container-infra X.Y`` header; handlers read the
result here and branch inside themselves (never two copies of a handler).

1.1   the v1 API (no header: what the 2.x clients get)
1.3   ``?rollback=True`` on cluster changes
1.4   ``/v1/stats``
1.7   ``POST /v1/clusters/<ident>/actions/resize``
1.8   ``POST /v1/clusters/<ident>/actions/upgrade``
1.9   ``/v1/clusters/<ident>/nodegroups``
1.10  a node group may have 0 nodes (min_node_count and node_count >= 0)
1.11 - 1.13  nothing more on this server; accepted for the clients that
      send them (magnum-ui sends 1.13, python-magnumclient ``latest``)
"""

import pecan

from magnum.api.middleware import version as api_version
from magnum.common import exception

ROLLBACK = (1, 3)
STATS = (1, 4)
RESIZE = (1, 7)
UPGRADE = (1, 8)
NODEGROUPS = (1, 9)
EMPTY_NODEGROUPS = (1, 10)


def current():
    return pecan.request.environ.get('magnum.api_version',
                                     api_version.MIN_VERSION)


def at_least(version):
    return current() >= version


def require(version, what):
    if not at_least(version):
        raise exception.NotSupportedInVersion(
            what=what, needed=api_version.as_string(version),
            asked=api_version.as_string(current()))


def allows_empty_nodegroups():
    """Whether the request's version lets a node group have 0 nodes (a
    plain value for the rules of magnum/lifecycle/nodegroups.py)."""
    return at_least(EMPTY_NODEGROUPS)
