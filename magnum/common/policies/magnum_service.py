from oslo_policy import policy

from magnum.common.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='magnum-service:get_all', check_str=base.ADMIN,
        description='List the conductors and their heartbeats.',
        operations=[{'path': '/v1/mservices', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='magnum-service:get', check_str=base.ADMIN,
        description='Show one conductor and its heartbeat.',
        operations=[{'path': '/v1/mservices/{id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='magnum-service:update', check_str=base.ADMIN,
        description='Disable or enable a conductor (it leaves or joins the '
                    'hash ring that spreads the bays).',
        operations=[{'path': '/v1/mservices/{id}', 'method': 'PATCH'}]),
]


def list_rules():
    return rules
