"""``/v1/clusters/<ident>/nodegroups``: groups of a cluster's servers.

Every cluster has ``default-master`` and ``default-worker``, whose counts
are the cluster's ``master_count`` and ``node_count`` (the bay row holds
them); extra worker groups are rows of their own. Each group is a resource
group of the cluster's Heat stack, so a change to a group is a change to
the cluster: written with the cluster's status UPDATE_IN_PROGRESS (one
conditional UPDATE that refuses a busy or locked cluster), then cast.

Here: the request parsed, the cluster found and authorized, the group
rendered; the rules and the verbs are magnum/lifecycle/nodegroups.py's.
"""

import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import labels as label_api
from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.lifecycle import nodegroups
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import nodegroup as nodegroup_obj


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
    # API 1.14: what the group's nodes register with.
    node_labels = {wtypes.text: wtypes.text}
    node_taints = wtypes.ArrayType(wtypes.DictType(wtypes.text, wtypes.text))


WRITABLE = ('node_count', 'min_node_count', 'max_node_count')
REGISTRATION = ('node_labels', 'node_taints')


def _writable():
    return WRITABLE + (REGISTRATION if microversion.at_least(
        microversion.NODE_LABELS) else ())


def _refuse_registration_before_1_14(values):
    """Below 1.14 node labels and taints are unknown fields."""
    if microversion.at_least(microversion.NODE_LABELS):
        return
    for name in REGISTRATION:
        if name in values:
            raise exception.InvalidParameterValue(
                field=name, reason='unknown field (node labels and taints '
                                   'need API version 1.14)')
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
    if detail and microversion.at_least(microversion.NODE_LABELS):
        body['node_labels'] = values['node_labels'] or {}
        body['node_taints'] = values['node_taints'] or []
    if detail:
        body['stack_id'] = bay.stack_id
        body['version'] = None
        body.update(label_api.diff(values['labels'], bay.labels))
    body['links'] = collection.links(
        'clusters/%s/nodegroups' % bay.uuid, values['uuid'])
    return body


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
        _refuse_registration_before_1_14(values)
        action = nodegroups.create(
            context, bay, template, values, rollback,
            allow_empty=microversion.allows_empty_nodegroups())
        row = nodegroup_obj.NodeGroup.record(bay.uuid,
                                             action.param('nodegroup'))
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 202
        return render(row, bay, template)

    @pecan.expose('json')
    def patch(self, cluster_ident, ident, **params):
        microversion.require(microversion.NODEGROUPS, 'Node groups')
        rollback = collection.change_query(rollback=True)
        writable = _writable()
        patch = json_patch.check(types.json_body(), writable)
        context, bay, template = self._cluster(cluster_ident, 'update')
        row = nodegroup_obj.NodeGroup.record(bay.uuid, ident)
        shown = render(row, bay, template)
        before = {name: shown[name] for name in writable}
        after = json_patch.apply(before, patch, writable,
                                 maps=('node_labels',),
                                 lists=('node_taints',))
        changes = json_patch.changed(before, after)
        changes = {k: v for k, v in types.parse(
            NodeGroupFields, changes, partial=True).items()}
        for name in ('node_count', 'min_node_count'):
            if name in changes and changes[name] is None:
                raise exception.InvalidParameterValue(
                    field=name, reason='the field is required')
        action = nodegroups.update(
            context, bay, row, before, changes, rollback,
            allow_empty=microversion.allows_empty_nodegroups())
        if action is not None:
            pecan.request.rpcapi.action_run(context, action)
        row = nodegroup_obj.NodeGroup.record(bay.uuid, row.uuid)
        pecan.response.status = 202
        return render(row, bay_obj.Bay.record(context, bay.uuid), template)

    @pecan.expose(content_type='application/json')
    def delete(self, cluster_ident, ident, **params):
        collection.change_query()
        context, bay, template = self._cluster(cluster_ident, 'delete')
        row = nodegroup_obj.NodeGroup.record(bay.uuid, ident)
        action = nodegroups.delete(context, bay, row)
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 204
        return ''
