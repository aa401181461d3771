"""Options of the [static] group: the static provisioner."""

from oslo_config import cfg

group = cfg.OptGroup('static', title='Options for the static provisioner')

opts = [
    cfg.FloatOpt('connect_timeout', default=10.0, min=0.1,
                 help='Seconds to wait for a static endpoint to answer.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
