"""Options of the [database] group (oslo.db's own options)."""

from oslo_db import options as db_options

_DEFAULT_CONNECTION = 'sqlite:///$state_path/magnum.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf, connection=_DEFAULT_CONNECTION)


def list_opts():
    # NOTE: oslo.db lists these itself (namespace oslo.db); we only change
    # the default connection, through opts.set_defaults.
    return {}
