"""Options of the [api] group: the REST server."""

from oslo_config import cfg

group = cfg.OptGroup('api', title='Options for the magnum-api service')

opts = [
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Address the API server listens on.'),
    cfg.PortOpt('port', default=9511,
                help='Port the API server listens on.'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Number of API worker processes.'),
    cfg.IntOpt('threads', default=1, min=1,
               help='Threads per API worker. With more than one, workers '
                    'use threads and keep connections alive.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='The most items a collection returns in one response.'),
    cfg.IntOpt('idempotency_window', default=86400, min=0,
               help='Seconds during which a cluster or bay create repeated '
                    'with the same Idempotency-Key header by the same '
                    'project answers with the bay the first request made '
                    'instead of creating another. 0 turns the header off '
                    '(it is then ignored).'),
    cfg.StrOpt('api_paste_config', default='api-paste.ini',
               help='The paste configuration file of the API pipeline, '
                    'looked up next to the configuration files, then in '
                    'the installed etc/magnum.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
