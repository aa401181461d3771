"""Options of the [conductor] group."""

from oslo_config import cfg

group = cfg.OptGroup('conductor', title='Options for the magnum-conductor '
                                        'service')

opts = [
    cfg.StrOpt('topic', default='magnum-conductor',
               help='The RPC topic the conductors listen on.'),
    cfg.IntOpt('periodic_interval', default=10, min=1,
               help='Seconds between two runs of the periodic tasks '
                    '(heartbeat, bay reconciler).'),
    cfg.IntOpt('service_down_time', default=60, min=1,
               help='Seconds without a heartbeat after which a service is '
                    'reported down.'),
    cfg.IntOpt('rpc_call_timeout', default=60, min=1,
               help='Seconds magnum-api waits for a conductor to answer a '
                    'synchronous call (containers, pods, services, '
                    'replication controllers) before answering 503.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
