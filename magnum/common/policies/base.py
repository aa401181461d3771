"""Rules that the resource rules are built from.

Three roles, as Keystone's default roles imply each other: ``reader`` may
look, ``member`` may also change its project's rows, ``admin`` may do
anything in any project. ``admin_or_owner`` keeps its old name and means
an administrator or a member of the row's project.
"""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_OR_READER = 'rule:admin_or_reader'

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Who counts as an administrator.'),
    policy.RuleDefault('project_member',
                       'role:member and project_id:%(project_id)s',
                       description='A member of the project that owns the '
                                   'row.'),
    policy.RuleDefault('project_reader',
                       '(role:reader or role:member) and '
                       'project_id:%(project_id)s',
                       description='A reader (or member) of the project '
                                   'that owns the row.'),
    policy.RuleDefault('admin_or_owner',
                       'is_admin:True or rule:project_member',
                       description='Who may change a row: an administrator '
                                   'or a member of its project.'),
    policy.RuleDefault('admin_or_reader',
                       'is_admin:True or rule:project_reader',
                       description='Who may read a row: an administrator '
                                   'or a reader of its project.'),
    policy.RuleDefault('admin_api', 'rule:context_is_admin',
                       description='Operator-only API.'),
]


def list_rules():
    return rules
