"""Options of the [capi] group: the Cluster API provisioner.

Besides these, the group holds keystoneauth's session and auth options
(``auth_type``, ``auth_url``, ``username``...): Magnum's service
credentials, which delete a bay's application credential when the user who
made it is not behind the work (a delete by an admin, a delete finished by
another conductor). They need Keystone's admin role. The application
credential itself is always made with the token of the bay's owner.
"""

from oslo_config import cfg

from magnum.conf import service_auth

group = cfg.OptGroup('capi', title='Options for the capi provisioner')

opts = [
    cfg.StrOpt('kubeconfig',
               help='A kubeconfig file with Magnum\'s credentials for the '
                    'Cluster API management cluster (read by the conductor '
                    'only; keep it readable by the conductor alone). What '
                    'Magnum needs there: doc/source/admin/capi.rst. Unset, '
                    'the capi provisioner refuses bays and watches '
                    'nothing.'),
    cfg.StrOpt('context',
               help='The kubeconfig context to use; its current context '
                    'when unset.'),
    cfg.StrOpt('namespace_prefix', default='magnum-',
               regex=r'^[a-z0-9]([a-z0-9-]{0,20})$',
               help='Each project\'s Clusters live in the namespace '
                    '<prefix><project id> of the management cluster (an id '
                    'that would not make a valid name becomes a readable '
                    'part of it and a hash of all of it). Magnum creates '
                    'the namespace on first use and labels it with the '
                    'project id.'),
    cfg.StrOpt('class_namespace', default='magnum-system',
               help='The namespace of the ClusterClass (and its templates) '
                    'Magnum ships and installs itself; Clusters refer to it '
                    'across namespaces.'),
    cfg.StrOpt('cluster_class',
               help='The name of a ClusterClass of the operator\'s own in '
                    'class_namespace, used for new bays and upgrades '
                    'instead of the one Magnum ships (which is then not '
                    'installed). It must declare the variables of Magnum\'s '
                    'class.'),
    cfg.StrOpt('kube_version', default='v1.33.4',
               help='Kubernetes version of bays whose template\'s label '
                    'kube_tag names none (a full version, e.g. v1.33.4: '
                    'Cluster API needs one).'),
    cfg.StrOpt('clouds_auth_url',
               help='The Keystone URL written in each bay\'s clouds.yaml '
                    '(the one its machines and controllers reach); the '
                    'auth_url of this group\'s service credentials when '
                    'unset.'),
    cfg.StrOpt('region_name',
               help='The region written in each bay\'s clouds.yaml.'),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help='The endpoint interface written in each bay\'s '
                    'clouds.yaml.'),
    cfg.StrOpt('ca_file',
               help='A CA bundle written in each bay\'s cloud-credentials '
                    'Secret (key "cacert"): what the infrastructure '
                    'provider trusts for the cloud\'s endpoints.'),
    cfg.IntOpt('delete_timeout', default=3600, min=1,
               help='Seconds a bay delete may wait on the Cluster\'s '
                    'finalizers before it ends DELETE_FAILED with the '
                    'condition that blocks it. Deleting again carries on.'),
    cfg.BoolOpt('watch', default=True,
                help='Watch the management cluster for the status of the '
                     'bays this conductor owns (a change reaches the bay '
                     'within a second). Off, status comes from the '
                     'periodic reconcile pass alone.'),
    cfg.IntOpt('watch_timeout', default=300, min=10,
               help='Seconds a watch request stays open before it is '
                    'renewed from the last resourceVersion seen.'),
    cfg.FloatOpt('request_timeout', default=30.0, min=0.1,
                 help='Seconds to wait for the management cluster to answer '
                      'one request.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    service_auth.register(conf, group.name)


def list_opts():
    return {group: opts + service_auth.options()}
