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
1.10  a node group, and a cluster's workers, may have 0 nodes
      (min_node_count and node_count >= 0)
1.11 - 1.12  nothing more on this server (the bay era stays; credential
      rotation is served at every version); accepted for the clients
      that send them
1.13  clusters show ``cluster_id`` (their provisioner's id, what
      ``stack_id`` holds); ``stack_id`` stays, which magnum-auto-healer
      reads although it asks for ``latest``
1.14  node groups' ``node_labels`` and ``node_taints``
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
CLUSTER_ID = (1, 13)
NODE_LABELS = (1, 14)


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
