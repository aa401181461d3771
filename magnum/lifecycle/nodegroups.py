"""Node groups and their verbs: create, resize, update, upgrade, delete.

Every cluster has ``default-master`` and ``default-worker``, whose counts
are the cluster's ``master_count`` and ``node_count`` (the bay row holds
them); extra worker groups are rows of their own. Each group is a part of
its cluster, so a change to a group is a change to the cluster: each verb
checks its rules, then starts its action through ``actions.start`` (the
cluster's status UPDATE_IN_PROGRESS, in one transaction that refuses a busy
or locked cluster) and returns it; the caller casts it.

The rules that depend on the API version take a plain value:
``allow_empty``, whether a group may have 0 nodes.
"""

import re

from oslo_utils import uuidutils

from magnum.common import exception
from magnum.lifecycle import actions
from magnum.lifecycle import cloud
from magnum.lifecycle import inheritance
from magnum.lifecycle import provisioning
from magnum.objects import node as node_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states

DEFAULT_MASTER = inheritance.DEFAULT_MASTER
DEFAULT_WORKER = inheritance.DEFAULT_WORKER
# The bounds an autoscaler reads; a PATCH may change them alone.
LIMITS = ('min_node_count', 'max_node_count')
# What a group's nodes register with (API 1.14): a change reaches the
# provisioner (Heat's boot configuration, Cluster API's MachineDeployment).
REGISTRATION = ('node_labels', 'node_taints')
TAINT_EFFECTS = nodegroup_obj.TAINT_EFFECTS

# Kubernetes' syntax: a name (63 at most), a DNS subdomain prefix.
_NAME = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$')
_PREFIX = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?'
                     r'(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
# The kubernetes.io labels a kubelet may set on its own node (the
# NodeRestriction admission plugin refuses any other of those prefixes).
_KUBELET_LABELS = frozenset((
    'kubernetes.io/hostname', 'kubernetes.io/instance-type',
    'kubernetes.io/os', 'kubernetes.io/arch',
    'beta.kubernetes.io/instance-type', 'beta.kubernetes.io/os',
    'beta.kubernetes.io/arch', 'failure-domain.beta.kubernetes.io/zone',
    'failure-domain.beta.kubernetes.io/region',
    'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
    'node.kubernetes.io/instance-type'))
_KUBELET_PREFIXES = ('kubelet.kubernetes.io/', 'node.kubernetes.io/')


def _key_problem(key):
    """Why ``key`` is no Kubernetes label or taint key (None: it is)."""
    prefix, _, name = key.rpartition('/')
    if not _NAME.match(name):
        return ('%r: a key is a name of 1 to 63 letters, digits, "-", "_" '
                'and ".", starting and ending with a letter or digit, '
                'after an optional "prefix/"' % key)
    if '/' in key and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        return '%r: its prefix must be a DNS subdomain' % key
    return None


def check_node_labels(labels):
    """Refuse (a 400 naming the label) what kubelet's ``--node-labels``
    would refuse."""
    for key, value in (labels or {}).items():
        field = 'node_labels.%s' % key
        problem = _key_problem(key)
        if problem:
            raise exception.InvalidParameterValue(field=field,
                                                  reason=problem)
        prefix = key.rpartition('/')[0]
        restricted = (prefix in ('kubernetes.io', 'k8s.io')
                      or prefix.endswith(('.kubernetes.io', '.k8s.io')))
        if restricted and key not in _KUBELET_LABELS and not key.startswith(
                _KUBELET_PREFIXES):
            raise exception.InvalidParameterValue(
                field=field, reason='%r: a node may not label itself in '
                                    'the kubernetes.io and k8s.io '
                                    'namespaces but with node.kubernetes.io/'
                                    ', kubelet.kubernetes.io/ and a few '
                                    'well-known labels' % key)
        if value and not _NAME.match(value):
            raise exception.InvalidParameterValue(
                field=field, reason='%r: a value is empty or 1 to 63 '
                                    'letters, digits, "-", "_" and ".", '
                                    'starting and ending with a letter or '
                                    'digit' % value)


def check_node_taints(taints):
    """Refuse (a 400 naming the taint) what is not [{key, value, effect}]
    as kubelet's ``--register-with-taints`` takes it; returns the taints
    with each value given ("" where none was)."""
    checked = []
    for index, taint in enumerate(taints or ()):
        field = 'node_taints.%d' % index
        unknown = sorted(set(taint) - {'key', 'value', 'effect'})
        if unknown:
            raise exception.InvalidParameterValue(
                field=field, reason='unknown field %s; a taint has key, '
                                    'value and effect' % unknown[0])
        if not taint.get('key'):
            raise exception.InvalidParameterValue(
                field=field + '.key', reason='a taint needs a key')
        problem = _key_problem(taint['key'])
        if problem:
            raise exception.InvalidParameterValue(field=field + '.key',
                                                  reason=problem)
        value = taint.get('value') or ''
        if value and not _NAME.match(value):
            raise exception.InvalidParameterValue(
                field=field + '.value', reason='%r: a value is empty or 1 '
                                               'to 63 letters, digits, '
                                               '"-", "_" and "."' % value)
        if taint.get('effect') not in TAINT_EFFECTS:
            raise exception.InvalidParameterValue(
                field=field + '.effect', reason='%r is not one of %s'
                % (taint.get('effect'), ', '.join(TAINT_EFFECTS)))
        checked.append({'key': taint['key'], 'value': value,
                        'effect': taint['effect']})
    return checked


def check_registration(role, values):
    """The node labels and taints in ``values`` checked for a group of
    ``role``; returns {name: value} of those given (taints normalized).
    Masters take none: they register before any group exists."""
    given = {name: values[name] for name in REGISTRATION if name in values}
    if role == 'master':
        for name, value in given.items():
            if value:
                raise exception.InvalidParameterValue(
                    field=name, reason='the masters of a cluster take no '
                                       'node labels or taints')
        return {}
    if 'node_labels' in given:
        check_node_labels(given['node_labels'])
    if 'node_taints' in given:
        given['node_taints'] = check_node_taints(given['node_taints'])
    return given


def check_counts(node_count, minimum, maximum, allow_empty=False):
    """Refuse counts out of their bounds (a 400 naming the count): below
    0, or below 1 unless ``allow_empty``; a maximum below the minimum; a
    node count outside them. None: not given."""
    floor = 0 if allow_empty else 1
    for name, value in (('node_count', node_count),
                        ('min_node_count', minimum)):
        if value is not None and value < floor:
            raise exception.InvalidParameterValue(
                field=name, reason='%s is below %d (0 needs API version '
                                   '1.10)' % (value, floor))
    if maximum is not None and minimum is not None and maximum < minimum:
        raise exception.InvalidParameterValue(
            field='max_node_count', reason='%s is below min_node_count %s'
                                           % (maximum, minimum))
    if node_count is not None and minimum is not None and (
            node_count < minimum):
        raise exception.InvalidParameterValue(
            field='node_count', reason='%s is below the group\'s '
                                       'min_node_count %s'
                                       % (node_count, minimum))
    if node_count is not None and maximum is not None and (
            node_count > maximum):
        raise exception.InvalidParameterValue(
            field='node_count', reason='%s is above the group\'s '
                                       'max_node_count %s'
                                       % (node_count, maximum))


def servers_of(bay, group, names):
    """The server ids of ``names`` (server ids, node names or node UUIDs),
    each a server of ``group``; a 400 naming nodes_to_remove otherwise."""
    if not names:
        return []
    nodes = node_obj.Node.of_bay(bay.uuid)
    ids = []
    for index, name in enumerate(names):
        found = [n for n in nodes if name in (n.server_id, n.name, n.uuid)]
        if not found:
            raise exception.InvalidParameterValue(
                field='nodes_to_remove.%d' % index,
                reason='%s is no server of this cluster' % name)
        # NOTE: rows recorded before node groups reached the stack have no
        # group: a master or a node of the default groups.
        owner = found[0].nodegroup or (
            DEFAULT_MASTER if found[0].type == 'master' else DEFAULT_WORKER)
        if owner != group.name:
            raise exception.InvalidParameterValue(
                field='nodes_to_remove.%d' % index,
                reason='%s is a server of node group %s, not %s'
                       % (name, owner, group.name))
        if found[0].server_id not in ids:
            ids.append(found[0].server_id)
    return ids


def create(context, bay, template, values, rollback, allow_empty=False):
    """Start adding a worker group of ``values`` (parsed) to ``bay``,
    with what it does not give taken from ``bay`` and its ``template``;
    returns the action (its ``nodegroup`` param: the new group's uuid)."""
    role = values.get('role') or 'worker'
    if role == 'master':
        raise exception.InvalidParameterValue(
            field='role', reason='a cluster has one group of masters, '
                                 'default-master')
    if values.get('project_id') not in (None, bay.project_id):
        raise exception.InvalidParameterValue(
            field='project_id', reason="it is not the cluster's project")
    node_count = values.get('node_count')
    node_count = 1 if node_count is None else node_count
    minimum = values.get('min_node_count')
    if minimum is None:
        minimum = 0 if allow_empty else 1
    check_counts(node_count, minimum, values.get('max_node_count'),
                 allow_empty)
    try:
        nodegroup_obj.NodeGroup.record(bay.uuid, values['name'])
    except exception.NodeGroupNotFound:
        pass
    else:
        raise exception.NodeGroupAlreadyExists(cluster=bay.uuid,
                                               name=values['name'])
    registration = check_registration(role, values)
    uuid = uuidutils.generate_uuid()
    row = dict(inheritance.nodegroup(bay, template, values), **registration)
    row.update(uuid=uuid, user_id=context.user_id, name=values['name'],
               cluster_id=bay.uuid, project_id=bay.project_id, role=role,
               is_default=False, node_count=node_count,
               min_node_count=minimum,
               max_node_count=values.get('max_node_count'),
               status=states.CREATE_IN_PROGRESS)
    provisioning.check_nodegroup(bay, row)
    # What the group names of its own (its template's and cluster's were
    # checked when they were made).
    cloud.check_template(context, bay.provisioner, {
        name: values[name] for name in ('flavor_id', 'image_id')
        if values.get(name)})
    return actions.start(context, bay, 'nodegroup_create',
                         {'nodegroup': uuid},
                         nodegroups=[('insert', row)], rollback=rollback)


def resize(context, bay, group, node_count, rollback, nodes_to_remove=None,
           kind='resize', limits=None, allow_empty=False):
    """Start an action (``resize``, or ``nodegroup_update`` for a PATCH
    of the group) that sets the node count of ``group`` (None:
    default-worker), removing the servers ``nodes_to_remove`` names (ids
    or names) first; ``limits``: the group's other new values (min/max
    counts, node labels and taints), written with it. Returns the
    action."""
    if group is not None and group.name == DEFAULT_MASTER:
        raise exception.InvalidParameterValue(
            field='nodegroup', reason='the masters of a cluster cannot be '
                                      'resized')
    if group is None:
        group = nodegroup_obj.NodeGroup.get(None, bay.uuid, DEFAULT_WORKER)
    limits = dict(limits or {})
    minimum = limits.get('min_node_count', group.min_node_count)
    maximum = limits.get('max_node_count', group.max_node_count)
    removed = servers_of(bay, group, nodes_to_remove)
    params = {'nodegroup': group.uuid, 'node_count': node_count,
              'nodes_to_remove': removed or None}
    check_counts(node_count, minimum, maximum, allow_empty)
    if group.name == DEFAULT_WORKER:
        # NOTE: the cluster's own workers: its node_count (0 from API 1.10,
        # as a cluster's create takes).
        return actions.start(
            context, bay, kind, params, changes={'node_count': node_count},
            nodegroups=[('update', group.uuid, limits)] if limits else (),
            rollback=rollback,
            restore={'bay': {'node_count': bay.node_count}})
    return actions.start(
        context, bay, kind, params,
        nodegroups=[('update', group.uuid, dict(
            limits, node_count=node_count,
            status=states.UPDATE_IN_PROGRESS))],
        rollback=rollback,
        restore={'nodegroup': {'uuid': group.uuid,
                               'node_count': group.node_count}})


def update(context, bay, group, before, changes, rollback,
           allow_empty=False):
    """Change ``group``'s counts from ``before`` (as shown) by ``changes``
    (parsed): a new node count, or new node labels or taints, is a resize
    (``nodegroup_update``, with the new bounds in its transaction: a busy
    cluster refuses both) and its action is returned; new bounds alone
    are written at once (nothing to build) and None is returned, unless
    the cluster's provisioner applies them (``applies_node_limits``):
    then they are a ``nodegroup_update`` too."""
    limits = {name: changes[name] for name in LIMITS if name in changes}
    registration = check_registration(group.role, changes)
    check_counts(changes.get('node_count', before['node_count']),
                 limits.get('min_node_count', before['min_node_count']),
                 limits.get('max_node_count', before['max_node_count']),
                 allow_empty)
    if limits:
        provisioning.check_nodegroup(bay, dict(
            {name: getattr(group, name) for name in (
                'name', 'role', 'is_default', 'labels', 'node_count')},
            **dict(before, **limits)))
    if 'node_count' in changes or registration:
        # NOTE: new node labels or taints reach the provisioner (the nodes
        # it makes from then on register with them).
        return resize(context, bay, group,
                      changes.get('node_count', before['node_count']),
                      rollback, kind='nodegroup_update',
                      limits=dict(limits, **registration),
                      allow_empty=allow_empty)
    if limits and provisioning.applies_node_limits(bay):
        # NOTE: the backend holds the bounds too (the Cluster API
        # autoscaler's annotations): a change of the group like any other.
        return resize(context, bay, group, before['node_count'], rollback,
                      kind='nodegroup_update', limits=limits,
                      allow_empty=allow_empty)
    if limits:
        nodegroup_obj.NodeGroup.update(group.uuid, limits)
    return None


def upgrade(context, bay, group, template, params, rollback):
    """Start upgrading the extra ``group`` to ``template`` (``params``:
    the upgrade's); returns the action.

    NOTE: an extra node group follows its cluster's template: the cluster
    is upgraded first, then each extra group to it.
    """
    if template.uuid != bay.baymodel_id:
        raise exception.InvalidParameterValue(
            field='cluster_template',
            reason='node group %s can only be upgraded to its '
                   "cluster's template %s; upgrade the cluster "
                   'first' % (group.name, bay.baymodel_id))
    return actions.start(
        context, bay, 'upgrade', params,
        nodegroups=[('update', group.uuid, {
            'image_id': template.image_id,
            'status': states.UPDATE_IN_PROGRESS})],
        rollback=rollback, restore={'nodegroup': {
            'uuid': group.uuid, 'image_id': group.image_id}})


def delete(context, bay, group):
    """Start removing the extra ``group``; returns the action. A default
    group goes with its cluster only."""
    if group.is_default:
        raise exception.InvalidParameterValue(
            field='nodegroup', reason='%s is a default node group; it '
                                      'goes with its cluster' % group.name)
    return actions.start(context, bay, 'nodegroup_delete', {
        'nodegroup': group.uuid, 'name': group.name},
        nodegroups=[('delete', group.uuid)])
