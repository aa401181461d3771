"""Options of the [conductor] group."""

from oslo_config import cfg

group = cfg.OptGroup('conductor', title='Options for the magnum-conductor '
                                        'service')

opts = [
    cfg.StrOpt('topic', default='magnum-conductor',
               help='The RPC topic the conductors listen on.'),
    cfg.IntOpt('periodic_interval', default=10, min=1,
               help='Seconds between two runs of the periodic tasks '
                    '(bay reconciler) and two heartbeats; the heartbeat '
                    'comes at least three times within service_down_time '
                    'whatever this is.'),
    cfg.IntOpt('service_down_time', default=60, min=1,
               help='Seconds without a heartbeat after which a service is '
                    'reported down (and its bays go to the other '
                    'conductors).'),
    cfg.IntOpt('rpc_call_timeout', default=60, min=1,
               help='Seconds magnum-api waits for a conductor to answer a '
                    'synchronous call (containers, pods, services, '
                    'replication controllers) before answering 503.'),
    cfg.IntOpt('hash_ring_reset_interval', default=10, min=0,
               help='Seconds magnum-api keeps its hash ring of the live '
                    'conductors (which one owns which bay) before reading '
                    'the heartbeats again. Conductors read it afresh at '
                    'every periodic run.'),
    cfg.IntOpt('redo_after', default=30, min=0,
               help='Seconds a bay must have been in progress, with its '
                    'provisioner showing no trace of the action, before the '
                    "owning conductor's reconciler drives the action itself "
                    '(its message was lost, e.g. while RabbitMQ restarted '
                    'or with a conductor that died).'),
    cfg.IntOpt('redo_workers', default=4, min=1,
               help='How many actions whose message was lost (see '
                    'redo_after) a conductor drives at once. They run beside '
                    'the reconciler, so a slow provisioner call never holds '
                    "up the other bays' status."),
    cfg.IntOpt('watch_workers', default=8, min=1,
               help='Threads that write what a provisioner\'s watch sees '
                    '(the capi provisioner\'s) to the bays this conductor '
                    'owns, one bay at a time each.'),
    cfg.IntOpt('rpc_retry', default=1, min=0,
               help='How many times magnum-api tries again to reach '
                    'RabbitMQ for one message. A cast that still fails is '
                    "finished by the bay's conductor from the database; a "
                    'call that fails is a 503.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
