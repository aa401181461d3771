"""Options of the [cloud_checks] group: what the API checks in the cloud
before it writes a template or a bay (magnum/lifecycle/cloud.py)."""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_config import types

group = cfg.OptGroup(
    'cloud_checks',
    title='Checks of templates and bays against the cloud',
    help='What a cluster template or a cluster names in the cloud (its '
         'image, flavors, keypair and networks) is looked up with the '
         "caller's token in the services of the caller's catalog before "
         'anything is written; a name that is not found is a 400 naming the '
         'field. A service missing from the catalog is not checked (the log '
         'says so once).')

CHECKS = ('image', 'flavor', 'keypair', 'network')

opts = [
    cfg.ListOpt('checks', default=list(CHECKS),
                item_type=types.String(choices=CHECKS),
                help='The checks made: image (Glance: the image exists and '
                     'has an os_distro property), flavor (Nova: the flavor '
                     'and the master flavor exist), keypair (Nova: the '
                     "caller's keypair exists), network (Neutron: the "
                     'external network exists and is external, the fixed '
                     'network and subnet exist). Empty: no check at all.'),
    cfg.StrOpt('interface', default='public',
               choices=('public', 'internal', 'admin'),
               help='The endpoints of the catalog the checks call.'),
    cfg.StrOpt('region_name',
               help='The region of the endpoints the checks call (the only '
                    'one of each service when unset).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    # cafile, insecure, timeout...: how the checks reach the services.
    ks_loading.register_session_conf_options(conf, group.name)


def list_opts():
    return {group: opts + ks_loading.get_session_conf_options()}
