"""What a new cluster takes from its template, and a new node group from
its cluster: the values a create leaves unset, the labels (the parent's,
or merged with the child's own), and the node groups every cluster starts
with.

A template's later change reaches no cluster: what a cluster takes is
copied into its row when it is created (an upgrade changes the template a
cluster runs: magnum/lifecycle/clusters.py).
"""

from oslo_config import cfg
from oslo_utils import uuidutils

from magnum.common import exception
from magnum.objects import baymodel as baymodel_obj

# The groups every cluster has, whose counts are the cluster's own
# ``master_count`` and ``node_count``.
DEFAULT_MASTER = 'default-master'
DEFAULT_WORKER = 'default-worker'

# What a bay (cluster) takes from its template when it has no value of its
# own:
# {cluster field: template field}.
INHERITED = {'keypair': 'keypair_id',
             'docker_volume_size': 'docker_volume_size',
             'master_flavor_id': 'master_flavor_id',
             'flavor_id': 'flavor_id',
             'fixed_network': 'fixed_network',
             'fixed_subnet': 'fixed_subnet',
             'floating_ip_enabled': 'floating_ip_enabled',
             'master_lb_enabled': 'master_lb_enabled'}


def prepare(context, values):
    """The BayModel of a new bay and its values with the defaults set.

    Shared by ``/v1/bays`` and ``/v1/clusters`` (the same rows).
    """
    try:
        baymodel = baymodel_obj.BayModel.get(context, values['baymodel_id'])
    except exception.BayModelNotFound as e:
        raise exception.InvalidParameterValue(field='baymodel_id',
                                              reason=str(e))
    if values.get('bay_create_timeout') is None:
        values['bay_create_timeout'] = cfg.CONF.bay.create_timeout
    if not values.get('name'):
        values['name'] = 'bay-%s' % uuidutils.generate_uuid()[:8]
    for name in ('node_count', 'master_count'):
        if values.get(name) is None:
            values[name] = 1
    return baymodel, values


def inherit(values, baymodel, merge_labels=False):
    """Fill the bay's own values from its template where unset."""
    for field, source in INHERITED.items():
        if values.get(field) is None:
            values[field] = baymodel[source]
    values['labels'] = labels(values.get('labels'), baymodel.labels,
                              merge_labels)
    return values


def labels(own, parents, merge=False):
    """The labels of a new child: its parent's where it gives none; with
    ``merge``, its parent's with its own over them; else its own."""
    if own is None:
        return dict(parents or {})
    if merge:
        return dict(parents or {}, **own)
    return own


def default_nodegroups(values):
    """The node groups a new bay of ``values`` is created with, their
    counts its own. NOTE: what they share with the bay (its uuid, project,
    user, status and time) the insert fills in: it is written with them,
    in one transaction (magnum/db/bays.py, ``create_bay``)."""
    groups = []
    for name, role, count in (
            (DEFAULT_MASTER, 'master', 'master_count'),
            (DEFAULT_WORKER, 'worker', 'node_count')):
        nodes = 1 if values.get(count) is None else values[count]
        groups.append({'uuid': uuidutils.generate_uuid(), 'name': name,
                       'role': role, 'is_default': True, 'node_count': nodes,
                       'min_node_count': min(nodes, 1)})
    return groups


def nodegroup(bay, template, values):
    """What a new extra node group of ``bay`` takes from it and from its
    ``template`` where ``values`` (its own) leave it unset: flavor, image,
    volume size and labels."""
    return {'flavor_id': values.get('flavor_id') or bay.flavor_id,
            'image_id': values.get('image_id') or template.image_id,
            'docker_volume_size': values.get('docker_volume_size')
            or bay.docker_volume_size,
            'labels': labels(values.get('labels'), bay.labels,
                             values.get('merge_labels'))}
