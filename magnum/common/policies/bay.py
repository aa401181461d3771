from oslo_policy import policy

from magnum.common.policies import base

_PATH = '/v1/bays'


def _rule(action, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name='bay:%s' % action, check_str=check,
        description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    _rule('create', base.ADMIN_OR_OWNER, 'POST', _PATH, 'Create a bay.'),
    _rule('get', base.ADMIN_OR_READER, 'GET', _PATH + '/{bay_ident}',
          'Show a bay.'),
    _rule('get_all', base.ADMIN_OR_READER, 'GET', _PATH, 'List bays.'),
    _rule('get_all_all_projects', base.ADMIN, 'GET', _PATH,
          'List the bays of all projects.'),
    _rule('update', base.ADMIN_OR_OWNER, 'PATCH', _PATH + '/{bay_ident}',
          'Update (scale) a bay.'),
    _rule('delete', base.ADMIN_OR_OWNER, 'DELETE', _PATH + '/{bay_ident}',
          'Delete a bay.'),
    _rule('action:get_all', base.ADMIN_OR_READER, 'GET',
          _PATH + '/{bay_ident}/actions',
          "List a bay's actions: what was done to it, by whom, how it "
          'ended.'),
    _rule('action:get', base.ADMIN_OR_READER, 'GET',
          _PATH + '/{bay_ident}/actions/{action_uuid}',
          "Show one of a bay's actions."),
]


def list_rules():
    return rules
