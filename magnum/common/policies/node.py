from oslo_policy import policy

from magnum.common.policies import base

_PATH = '/v1/nodes'

rules = [
    policy.DocumentedRuleDefault(
        name='node:get_all', check_str=base.ADMIN_OR_READER,
        description='List the nodes of your project.',
        operations=[{'path': _PATH, 'method': 'GET'},
                    {'path': _PATH + '/detail', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='node:get', check_str=base.ADMIN_OR_READER,
        description='Show a node.',
        operations=[{'path': _PATH + '/{node_ident}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='node:create', check_str=base.ADMIN_OR_OWNER,
        description='Register a node by hand (python-magnumclient 1.1.0).',
        operations=[{'path': _PATH, 'method': 'POST'}]),
]


def list_rules():
    return rules
