"""``/v1/clusters/<ident>/nodegroups``: groups of a cluster's servers.

Every cluster has ``default-master`` and ``default-worker``, whose counts
are the cluster's ``master_count`` and ``node_count`` (the bay row holds
them); extra worker groups are rows of their own. Each group is a resource
group of the cluster's Heat stack, so a change to a group is a change to
the cluster: written with the cluster's status UPDATE_IN_PROGRESS (one
conditional UPDATE that refuses a busy or locked cluster), then cast.
"""

from oslo_utils import uuidutils
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import labels as label_api
from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.lifecycle import actions
from magnum.lifecycle import inheritance
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import node as node_obj
from magnum.objects import nodegroup as nodegroup_obj

DEFAULT_WORKER = inheritance.DEFAULT_WORKER
DEFAULT_MASTER = inheritance.DEFAULT_MASTER


class NodeGroupFields(wtypes.Base):
    name = wtypes.wsattr(types.NameType(
        pattern=r'^[a-zA-Z][a-zA-Z0-9_.-]*$',
        hint='a node group name starts with a letter and has only '
             'letters, digits, "_", "." and "-"'), mandatory=True)
    node_count = types.integer(minimum=0, maximum=100000)
    min_node_count = types.integer(minimum=0, maximum=100000)
    max_node_count = types.integer(minimum=0, maximum=100000)
    flavor_id = types.string()
    image_id = types.string()
    docker_volume_size = types.integer(minimum=1)
    labels = {wtypes.text: wtypes.text}
    role = types.string()
    merge_labels = bool
    project_id = types.string()


WRITABLE = ('node_count', 'min_node_count', 'max_node_count')
SORT_KEYS = ('id', 'uuid', 'name', 'role', 'node_count', 'created_at',
             'updated_at')
_SHORT = ('uuid', 'name', 'flavor_id', 'image_id', 'node_count', 'role',
          'status', 'is_default', 'min_node_count', 'max_node_count')
_DETAIL = ('uuid', 'name', 'cluster_id', 'project_id', 'docker_volume_size',
           'labels', 'flavor_id', 'image_id', 'node_addresses', 'node_count',
           'role', 'max_node_count', 'min_node_count', 'is_default',
           'status', 'status_reason', 'created_at', 'updated_at')


def render(row, bay, template, detail=True):
    """A node group as shown; the default ones from the cluster's row."""
    values = dict(row._mapping)
    if values['is_default']:
        master = values['role'] == 'master'
        values['node_count'] = bay.master_count if master else bay.node_count
        values['flavor_id'] = ((bay.master_flavor_id or bay.flavor_id)
                               if master else bay.flavor_id)
        values['image_id'] = template.image_id
        values['docker_volume_size'] = bay.docker_volume_size
        values['labels'] = bay.labels
        values['node_addresses'] = (bay.master_addresses if master
                                    else bay.node_addresses)
        values['status'] = bay.status
        values['status_reason'] = bay.status_reason
    body = {name: values[name] for name in (_DETAIL if detail else _SHORT)}
    for name in ('created_at', 'updated_at'):
        if name in body:
            body[name] = collection.timestamp(body[name])
    if detail:
        body['stack_id'] = bay.stack_id
        body['version'] = None
        body.update(label_api.diff(values['labels'], bay.labels))
    body['links'] = collection.links(
        'clusters/%s/nodegroups' % bay.uuid, values['uuid'])
    return body


def _check_counts(node_count, minimum, maximum):
    floor = 0 if microversion.at_least(microversion.EMPTY_NODEGROUPS) else 1
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


def resize(context, bay, group, node_count, rollback, nodes_to_remove=None,
           kind='resize', limits=None):
    """Start an action (``resize``, or ``nodegroup_update`` for a PATCH
    of the group) that sets the node count of ``group`` (None:
    default-worker), removing the servers ``nodes_to_remove`` names (ids
    or names) first; ``limits``: the group's new min/max counts, written
    with it. Returns the action."""
    if group is not None and group.name == DEFAULT_MASTER:
        raise exception.InvalidParameterValue(
            field='nodegroup', reason='the masters of a cluster cannot be '
                                      'resized')
    if group is None:
        group = nodegroup_obj.NodeGroup.record(bay.uuid, DEFAULT_WORKER)
    limits = dict(limits or {})
    minimum = limits.get('min_node_count', group.min_node_count)
    maximum = limits.get('max_node_count', group.max_node_count)
    removed = servers_of(bay, group, nodes_to_remove)
    params = {'nodegroup': group.uuid, 'node_count': node_count,
              'nodes_to_remove': removed or None}
    if group.name == DEFAULT_WORKER:
        _check_counts(node_count, max(minimum, 1), maximum)
        return actions.start(
            context, bay, kind, params, changes={'node_count': node_count},
            nodegroups=[('update', group.uuid, limits)] if limits else (),
            rollback=rollback,
            restore={'bay': {'node_count': bay.node_count}})
    _check_counts(node_count, minimum, maximum)
    return actions.start(
        context, bay, kind, params,
        nodegroups=[('update', group.uuid, dict(
            limits, node_count=node_count,
            status=bay_obj.UPDATE_IN_PROGRESS))],
        rollback=rollback,
        restore={'nodegroup': {'uuid': group.uuid,
                               'node_count': group.node_count}})


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


class NodeGroupsController(collection.Router):
    """Routed by ClustersController._route_extra, with the cluster first."""

    def route(self, cluster_ident, rest, request):
        # NOTE: ``detail`` is the detail list for a GET only; for any other
        # method it is a node group's name (a PATCH of it was a 500).
        methods, args = self._methods(rest, request)
        return self._handler(methods, request), [cluster_ident] + args

    @staticmethod
    def _cluster(ident, action):
        microversion.require(microversion.NODEGROUPS, 'Node groups')
        context = pecan.request.context
        bay = access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                      'nodegroup:%s' % action)
        template = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, bay.baymodel_id)
        return context, bay, template

    def _list(self, cluster_ident, detail, params):
        role = params.pop('role', None)
        context, bay, template = self._cluster(cluster_ident, 'get_all')
        if isinstance(role, list):
            raise exception.InvalidParameterValue(
                field='role', reason='the parameter is given more than once')
        query = collection.query(params, SORT_KEYS)
        rows, more = collection.fetch(
            lambda _context, **page: nodegroup_obj.NodeGroup.records(
                bay.uuid, role=role, **page), context, query)
        return collection.page(
            'nodegroups', [render(row, bay, template, detail) for row in rows],
            rows, more, query)

    @pecan.expose('json')
    def get_all(self, cluster_ident, **params):
        return self._list(cluster_ident, False, params)

    @pecan.expose('json')
    def detail(self, cluster_ident, **params):
        return self._list(cluster_ident, True, params)

    @pecan.expose('json')
    def get_one(self, cluster_ident, ident, **params):
        collection.refuse_query(params)
        context, bay, template = self._cluster(cluster_ident, 'get')
        row = nodegroup_obj.NodeGroup.record(bay.uuid, ident)
        return render(row, bay, template)

    @pecan.expose('json')
    def post(self, cluster_ident, **params):
        rollback = collection.change_query(rollback=True)
        context, bay, template = self._cluster(cluster_ident, 'create')
        values = types.parse(NodeGroupFields, types.json_body())
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
        minimum = (0 if microversion.at_least(
            microversion.EMPTY_NODEGROUPS) else 1) if minimum is None else (
            minimum)
        _check_counts(node_count, minimum, values.get('max_node_count'))
        try:
            nodegroup_obj.NodeGroup.record(bay.uuid, values['name'])
        except exception.NodeGroupNotFound:
            pass
        else:
            raise exception.NodeGroupAlreadyExists(cluster=bay.uuid,
                                                   name=values['name'])
        uuid = uuidutils.generate_uuid()
        action = actions.start(context, bay, 'nodegroup_create', {
            'nodegroup': uuid}, nodegroups=[('insert', dict(
                inheritance.nodegroup(bay, template, values),
                uuid=uuid, user_id=context.user_id, name=values['name'],
                cluster_id=bay.uuid, project_id=bay.project_id, role=role,
                is_default=False, node_count=node_count,
                min_node_count=minimum,
                max_node_count=values.get('max_node_count'),
                status=bay_obj.CREATE_IN_PROGRESS))],
            rollback=rollback)
        row = nodegroup_obj.NodeGroup.record(bay.uuid, uuid)
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 202
        return render(row, bay, template)

    @pecan.expose('json')
    def patch(self, cluster_ident, ident, **params):
        rollback = collection.change_query(rollback=True)
        context, bay, template = self._cluster(cluster_ident, 'update')
        row = nodegroup_obj.NodeGroup.record(bay.uuid, ident)
        shown = render(row, bay, template)
        before = {name: shown[name] for name in WRITABLE}
        after = json_patch.apply(before, types.json_body(), WRITABLE)
        changes = json_patch.changed(before, after)
        changes = {k: v for k, v in types.parse(
            NodeGroupFields, changes, partial=True).items()}
        if changes.get('node_count', 0) is None:
            raise exception.InvalidParameterValue(
                field='node_count', reason='the field is required')
        limits = {name: changes[name] for name in ('min_node_count',
                                                   'max_node_count')
                  if name in changes}
        _check_counts(changes.get('node_count', before['node_count']),
                      limits.get('min_node_count', before['min_node_count']),
                      limits.get('max_node_count', before['max_node_count']))
        if 'node_count' in changes:
            # NOTE: the new limits and the new count in one transaction:
            # a busy cluster refuses both.
            action = resize(context, bay, row, changes['node_count'],
                            rollback, kind='nodegroup_update',
                            limits=limits)
            pecan.request.rpcapi.action_run(context, action)
        elif limits:
            # NOTE: the autoscaler's bounds alone: nothing to build.
            nodegroup_obj.NodeGroup.update(row.uuid, limits)
        row = nodegroup_obj.NodeGroup.record(bay.uuid, row.uuid)
        pecan.response.status = 202
        return render(row, bay_obj.Bay.record(context, bay.uuid), template)

    @pecan.expose()
    def delete(self, cluster_ident, ident, **params):
        collection.change_query()
        context, bay, template = self._cluster(cluster_ident, 'delete')
        row = nodegroup_obj.NodeGroup.record(bay.uuid, ident)
        if row.is_default:
            raise exception.InvalidParameterValue(
                field='nodegroup', reason='%s is a default node group; it '
                                          'goes with its cluster' % row.name)
        action = actions.start(context, bay, 'nodegroup_delete', {
            'nodegroup': row.uuid, 'name': row.name},
            nodegroups=[('delete', row.uuid)])
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 204
        return ''
