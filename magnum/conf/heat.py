"""Options of the [heat] group: the heat provisioner.

Besides these, the group holds keystoneauth's session and auth options
(``auth_type``, ``auth_url``, ``username``...): the service credentials the
conductor uses where no user is behind the work (the reconciler's one list
of every Magnum stack, which needs Heat's admin). Work a user asked for
(create, update, delete) runs with that user's token.
"""

from oslo_config import cfg

from magnum.conf import service_auth

group = cfg.OptGroup('heat', title='Options for the heat provisioner')

opts = [
    cfg.StrOpt('region_name',
               help='Region of the orchestration endpoint in the catalog.'),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help='Which endpoint of the orchestration service to use.'),
    cfg.ListOpt('environment_files', default=[],
                help='Heat environment files added to every bay stack, '
                     'after Magnum\'s own, e.g. a resource_registry that '
                     'maps a resource type to a site\'s provider template. '
                     'Files they name are sent along with them.'),
    cfg.StrOpt('stack_tag', default='magnum',
               help='Tag on every stack Magnum creates; the reconciler lists '
                    'the stacks with this tag, across projects, in one '
                    'paginated call per pass.'),
    cfg.StrOpt('default_cluster_distro', default='ubuntu',
               help='Distribution of the nodes when a BayModel names none '
                    '(cluster_distro). Families known: ubuntu and debian, '
                    'fedora, centos, rhel, rocky and almalinux.'),
    cfg.StrOpt('kube_version', default='v1.30',
               help='Kubernetes minor release installed on kubernetes bays '
                    'unless the BayModel\'s label kube_tag names one.'),
    cfg.BoolOpt('listen_notifications', default=True,
                help='Listen for Heat\'s notifications of stack changes '
                     '(orchestration.stack.*), so that a bay takes its '
                     'stack\'s new status within moments instead of at the '
                     'next reconcile pass. Heat sends them only with '
                     '[oslo_messaging_notifications] driver = messagingv2 '
                     'in heat.conf. Each conductor reads every notification '
                     'through a queue of its own (named '
                     'magnum-conductor-<host>), never taking them from '
                     'other consumers such as Ceilometer.'),
    cfg.StrOpt('notification_transport_url', secret=True,
               help='The messaging URL Heat sends its notifications to. '
                    'Default: Magnum\'s own notification transport '
                    '([oslo_messaging_notifications] transport_url, '
                    'itself [DEFAULT] transport_url by default).'),
    cfg.StrOpt('notification_exchange', default='heat',
               help='The exchange of Heat\'s notifications: heat.conf\'s '
                    '[DEFAULT] control_exchange.'),
    cfg.StrOpt('notification_topic', default='notifications',
               help='The topic of Heat\'s notifications: heat.conf\'s '
                    '[oslo_messaging_notifications] topics.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    service_auth.register(conf, group.name)


def list_opts():
    return {group: opts + service_auth.options()}
