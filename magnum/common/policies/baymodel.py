from oslo_policy import policy

from magnum.common.policies import base

_PATH = '/v1/baymodels'


def _rule(action, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name='baymodel:%s' % action, check_str=check,
        description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    _rule('create', base.ADMIN_OR_OWNER, 'POST', _PATH,
          'Create a BayModel.'),
    _rule('get', base.ADMIN_OR_READER, 'GET', _PATH + '/{baymodel_ident}',
          'Show a BayModel.'),
    _rule('get_all', base.ADMIN_OR_READER, 'GET', _PATH,
          'List BayModels.'),
    _rule('get_all_all_projects', base.ADMIN, 'GET', _PATH,
          'List the BayModels of all projects.'),
    _rule('update', base.ADMIN_OR_OWNER, 'PATCH', _PATH + '/{baymodel_ident}',
          'Update a BayModel.'),
    _rule('delete', base.ADMIN_OR_OWNER, 'DELETE',
          _PATH + '/{baymodel_ident}', 'Delete a BayModel.'),
    _rule('publish', base.ADMIN, 'POST', _PATH,
          'Publish a BayModel (public=true), or change or delete a '
          'published one.'),
]


def list_rules():
    return rules
