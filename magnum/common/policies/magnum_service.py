from oslo_policy import policy

from magnum.common.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='magnum-service:get_all', check_str=base.ADMIN,
        description='List the conductors and their heartbeats.',
        operations=[{'path': '/v1/mservices', 'method': 'GET'}]),
]


def list_rules():
    return rules
