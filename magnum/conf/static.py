"""Options of the [static] group: the static provisioner."""

from oslo_config import cfg

group = cfg.OptGroup('static', title='Options for the static provisioner')

opts = [
    cfg.FloatOpt('connect_timeout', default=10.0, min=0.1,
                 help='Seconds to wait for a static endpoint to answer.'),
    cfg.StrOpt('certificate_dir',
               help='Where the conductor delivers the certificates of '
                    'static bays, on its own host: <dir>/<bay uuid>/ca.crt, '
                    'server.crt and server.key (0600), written at create '
                    'and again at each CA rotation. Point the endpoint at '
                    'them (dockerd --tlsverify --tlscacert --tlscert '
                    '--tlskey; kube-apiserver --client-ca-file '
                    '--tls-cert-file --tls-private-key-file). When set, '
                    'the conductor speaks TLS with the bay\'s own client '
                    'certificate to tcp:// and https:// static endpoints '
                    'and checks them against the bay\'s CA; a create waits '
                    '(until bay_create_timeout) for the endpoint to '
                    'present the bay\'s server certificate. Unset, static '
                    'bays still get a CA (ca-show, ca-sign) but the '
                    'conductor reaches their endpoints as configured '
                    'elsewhere ([kubernetes] kubeconfig).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
