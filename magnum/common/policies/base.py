"""Rules that the resource rules are built from."""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_OR_READER = 'rule:admin_or_reader'

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Who counts as an administrator.'),
    policy.RuleDefault('admin_or_owner',
                       'is_admin:True or project_id:%(project_id)s',
                       description='An administrator or a member of the '
                                   'project that owns the row.'),
    policy.RuleDefault('admin_or_reader',
                       'is_admin:True or project_id:%(project_id)s',
                       description='Who may read a row.'),
    policy.RuleDefault('admin_api', 'rule:context_is_admin',
                       description='Operator-only API.'),
]


def list_rules():
    return rules
