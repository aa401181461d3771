"""All of Magnum's configuration options, registered in one place.

Each option group lives in its own module with ``register_opts`` and
``list_opts``; this package registers them all on the global ``CONF``.
"""

from oslo_config import cfg
from oslo_log import log

from magnum.conf import opts

CONF = cfg.CONF

for _module in opts.MODULES:
    _module.register_opts(CONF)
# oslo.log's options ([DEFAULT] debug, log_file, ...) are used everywhere.
log.register_options(CONF)
