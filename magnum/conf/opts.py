"""The list of options for oslo-config-generator."""

import collections

from magnum.conf import api
from magnum.conf import bay
from magnum.conf import conductor
from magnum.conf import database
from magnum.conf import default
from magnum.conf import noauth
from magnum.conf import static

MODULES = (default, api, bay, conductor, database, noauth, static)


def list_opts():
    grouped = collections.defaultdict(list)
    for module in MODULES:
        for group, opts in module.list_opts().items():
            grouped[group].extend(opts)
    return sorted(grouped.items(), key=lambda item: str(item[0]))


def set_defaults(conf=None):
    """Hook for oslo-config-generator: defaults Magnum changes in libraries."""
    from oslo_db import options as db_options
    from oslo_config import cfg
    db_options.set_defaults(conf or cfg.CONF,
                            connection=database._DEFAULT_CONNECTION)
