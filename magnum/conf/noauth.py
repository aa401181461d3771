"""Options of the [noauth] group: identity when auth_strategy is noauth."""

from oslo_config import cfg

group = cfg.OptGroup('noauth', title='Identity used without Keystone')

opts = [
    cfg.StrOpt('project_id', default='default',
               help='Project of requests that send no X-Project-Id.'),
    cfg.StrOpt('user_id', default='default',
               help='User of requests that send no X-User-Id.'),
    cfg.ListOpt('roles', default=['admin', 'member', 'reader'],
                help='Roles of requests that send no X-Roles.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
