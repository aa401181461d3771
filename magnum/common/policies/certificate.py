from oslo_policy import policy

from magnum.common.policies import base

_PATH = '/v1/certificates'


def _rule(action, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name='certificate:%s' % action, check_str=check,
        description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    _rule('get', base.ADMIN_OR_READER, 'GET', _PATH + '/{bay_ident}',
          'Show the CA certificate of a bay.'),
    _rule('create', base.ADMIN_OR_OWNER, 'POST', _PATH,
          'Sign a certificate signing request with a bay\'s CA.'),
    _rule('rotate_ca', base.ADMIN_OR_OWNER, 'PATCH', _PATH + '/{bay_ident}',
          'Rotate a bay\'s CA: new CA, server and client certificates; '
          'certificates of the old CA stop working.'),
    policy.DocumentedRuleDefault(
        name='bay:config', check_str=base.ADMIN_OR_OWNER,
        description='Get a ready kubeconfig or Docker TLS bundle for a '
                    'bay, around a fresh client certificate of its CA.',
        operations=[{'path': '/v1/bays/{bay_ident}/config',
                     'method': 'GET'}]),
]


def list_rules():
    return rules
