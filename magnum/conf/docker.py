"""Options of the [docker] group: the conductor's Docker Engine client."""

from oslo_config import cfg

group = cfg.OptGroup('docker', title='Options for containers on Docker and '
                                     'Swarm bays')

opts = [
    cfg.FloatOpt('api_timeout', default=30.0, min=1.0,
                 help='Seconds to wait for a bay\'s Docker Engine to answer '
                      'one request (a stop waits stop_timeout longer).'),
    cfg.IntOpt('stop_timeout', default=10, min=0,
               help='Seconds a stopping container gets after SIGTERM before '
                    'the engine kills it (stop, reboot, and delete of a '
                    'running container).'),
    cfg.IntOpt('create_timeout', default=600, min=1,
               help='Seconds a container may stay Creating (pulling its '
                    'image) before the reconciler marks it Error, when no '
                    'conductor finishes it (e.g. one restarted mid-way).'),
    cfg.IntOpt('log_lines', default=1000, min=1,
               help='The most recent lines of a container\'s output that '
                    'GET /v1/containers/<ident>/logs returns.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
