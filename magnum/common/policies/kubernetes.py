"""Pods, services and replication controllers on a bay's Kubernetes.

The objects live in Kubernetes, in the caller's project namespace of the
bay; the target of every rule is the bay's project. Readers list and show,
members change, administrators may do anything.
"""

from oslo_policy import policy

from magnum.common.policies import base

# rule prefix -> (path, what the objects are called)
KINDS = {
    'pod': ('/v1/pods', 'pods'),
    'service': ('/v1/services', 'services'),
    'rc': ('/v1/rcs', 'replication controllers'),
}


def _rules(prefix, path, plural):
    item = path + '/{ident}/{bay_ident}'

    def rule(action, check, method, where, description):
        return policy.DocumentedRuleDefault(
            name='%s:%s' % (prefix, action), check_str=check,
            description=description,
            operations=[{'path': where, 'method': method}])

    return [
        rule('create', base.ADMIN_OR_OWNER, 'POST', path,
             'Create %s in a bay.' % plural),
        rule('get', base.ADMIN_OR_READER, 'GET', item,
             'Show one of the %s of a bay.' % plural),
        rule('get_all', base.ADMIN_OR_READER, 'GET',
             path + '?bay_ident={bay_ident}', 'List the %s of a bay.'
             % plural),
        rule('update', base.ADMIN_OR_OWNER, 'PATCH', item,
             'Change one of the %s of a bay.' % plural),
        rule('delete', base.ADMIN_OR_OWNER, 'DELETE', item,
             'Delete one of the %s of a bay.' % plural),
    ]


rules = [r for prefix, (path, plural) in sorted(KINDS.items())
         for r in _rules(prefix, path, plural)]


def list_rules():
    return rules
