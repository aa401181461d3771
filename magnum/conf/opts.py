"""The list of options for oslo-config-generator."""

import collections

from magnum.conf import api
from magnum.conf import bay
from magnum.conf import capi
from magnum.conf import certificates
from magnum.conf import cloud_checks
from magnum.conf import cluster_template
from magnum.conf import conductor
from magnum.conf import database
from magnum.conf import default
from magnum.conf import docker
from magnum.conf import heat
from magnum.conf import kubernetes
from magnum.conf import noauth
from magnum.conf import quotas
from magnum.conf import static

MODULES = (default, api, bay, capi, certificates, cloud_checks,
           cluster_template, conductor, database, docker, heat, kubernetes,
           noauth, quotas, static)


def list_opts():
    grouped = collections.defaultdict(list)
    for module in MODULES:
        for group, opts in module.list_opts().items():
            grouped[group].extend(opts)
    return sorted(grouped.items(), key=lambda item: str(item[0]))


def set_defaults(conf=None):
    """oslo-config-generator's hook: defaults Magnum changes in libraries.

    NOTE: it changes the option objects themselves, which is what the
    generator reads; the services' live configuration gets the same default
    from magnum.conf.database.
    """
    from oslo_config import cfg
    from oslo_db import options as db_options
    cfg.set_defaults(db_options.database_opts,
                     connection=database._DEFAULT_CONNECTION)
