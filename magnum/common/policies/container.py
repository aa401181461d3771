from oslo_policy import policy

from magnum.common.policies import base

_PATH = '/v1/containers'
_ITEM = _PATH + '/{container_ident}'


def _rule(action, check, method, path, description):
    return policy.DocumentedRuleDefault(
        name='container:%s' % action, check_str=check,
        description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    _rule('create', base.ADMIN_OR_OWNER, 'POST', _PATH,
          'Create a container on a Docker or Swarm bay.'),
    _rule('get', base.ADMIN_OR_READER, 'GET', _ITEM, 'Show a container.'),
    _rule('get_all', base.ADMIN_OR_READER, 'GET', _PATH,
          'List containers.'),
    _rule('get_all_all_projects', base.ADMIN, 'GET', _PATH,
          'List the containers of all projects.'),
    _rule('delete', base.ADMIN_OR_OWNER, 'DELETE', _ITEM,
          'Delete a container (a running one is stopped first).'),
    _rule('start', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/start',
          'Start a container.'),
    _rule('stop', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/stop',
          'Stop a container.'),
    _rule('reboot', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/reboot',
          'Restart a container.'),
    _rule('pause', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/pause',
          'Pause a container.'),
    _rule('unpause', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/unpause',
          'Unpause a container.'),
    _rule('logs', base.ADMIN_OR_READER, 'GET', _ITEM + '/logs',
          'Read the output of a container.'),
    _rule('execute', base.ADMIN_OR_OWNER, 'PUT', _ITEM + '/execute',
          'Run a command in a running container.'),
]


def list_rules():
    return rules
