"""Options of the [certificates] group: each bay's CA and its keys."""

from oslo_config import cfg

group = cfg.OptGroup('certificates',
                     title='Bay certificate authorities and their keys')

opts = [
    cfg.StrOpt('encryption_key', secret=True,
               help='The key that encrypts the private keys of the bays\' '
                    'CAs, server and conductor certificates in the '
                    'database: any string of at least 32 characters (e.g. '
                    '`openssl rand -base64 32`), the same on every '
                    'conductor. Required when auth_strategy is keystone: '
                    'the conductor refuses to start without it. With '
                    'noauth (the all-in-one) a random key is made once in '
                    '$state_path/certificate-encryption.key.'),
    cfg.ListOpt('previous_encryption_keys', default=[], secret=True,
                help='Keys that encrypted rows before encryption_key did; '
                     'still read, never written. A row is written again '
                     'with encryption_key when its bay\'s CA is rotated.'),
    cfg.IntOpt('ca_validity_days', default=1825, min=1,
               help='How long a bay\'s CA certificate is valid (days).'),
    cfg.IntOpt('cert_validity_days', default=365, min=1,
               help='How long the bay\'s server certificate and the '
                    'conductor\'s client certificate are valid (days).'),
    cfg.IntOpt('signed_cert_validity_days', default=30, min=1,
               help='How long a certificate that POST /v1/certificates '
                    'signs, or that GET /v1/bays/<ident>/config issues, is '
                    'valid (days); never beyond its CA\'s own end.'),
    cfg.IntOpt('min_rsa_key_bits', default=2048, min=1024,
               help='The smallest RSA key a certificate signing request '
                    'may carry (EC keys must be on P-256, P-384 or '
                    'P-521).'),
    cfg.StrOpt('conductor_organization', default='magnum:conductors',
               help='The organization (O) of the client certificate the '
                    'conductor uses on a bay (its CN is "magnum"). '
                    'Kubernetes reads the CN as the user and the O as a '
                    'group: bind a ClusterRole with what Magnum needs to '
                    'the user "magnum" or to this group on the bay\'s API '
                    '(see doc/source/admin/certificates.rst). '
                    'system:masters would make the conductor an '
                    'administrator of every bay instead.'),
    cfg.StrOpt('config_organization', default='system:masters',
               help='The organization (O) of the client certificates '
                    'GET /v1/bays/<ident>/config issues (their CN is the '
                    'caller\'s user id): Kubernetes reads it as the group; '
                    'system:masters makes the caller an administrator of '
                    'the bay\'s Kubernetes.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
