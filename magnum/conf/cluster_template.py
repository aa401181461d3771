"""Options of the [cluster_template] group: what a template may name."""

from oslo_config import cfg

group = cfg.OptGroup('cluster_template',
                     title='Options for cluster templates (BayModels)')

opts = [
    cfg.ListOpt('kubernetes_allowed_network_drivers',
                default=['flannel', 'calico'],
                help='The network drivers a kubernetes template may name, '
                     'among those kubernetes supports (flannel, calico, '
                     'cilium); "all" for every one of them.'),
    cfg.ListOpt('swarm_allowed_network_drivers', default=['all'],
                help='The network drivers a swarm or docker template may '
                     'name, among those they support (docker, flannel); '
                     '"all" for every one of them.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
