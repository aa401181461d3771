"""``/v1/clusters``: the bays under their later name, and their actions.

A Cluster is a Bay row: ``cluster_template_id`` is its ``baymodel_id``,
``create_timeout`` its ``bay_create_timeout``. The cluster era adds values
of the cluster's own over its template's (keypair, flavors, labels...),
health, and the asynchronous actions ``resize`` and ``upgrade``; every
change is written to the row first (status UPDATE_IN_PROGRESS, one
conditional UPDATE that also refuses a locked cluster) and then cast to a
conductor, which does it under the cluster's lock.
"""

import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import action as action_api
from magnum.api.controllers.v1 import bay as bay_api
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import labels as label_api
from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import nodegroup as nodegroup_api
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.lifecycle import actions
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states


class ClusterFields(wtypes.Base):
    """The fields a client may send to create a cluster."""

    name = bay_api.NAME
    cluster_template_id = wtypes.wsattr(types.string(), mandatory=True)
    node_count = types.integer(minimum=1, maximum=100000)
    master_count = types.integer(minimum=1, maximum=100)
    create_timeout = types.integer(minimum=0, maximum=525600)
    discovery_url = types.URLType()
    keypair = types.string()
    docker_volume_size = types.integer(minimum=1)
    labels = {wtypes.text: wtypes.text}
    master_flavor_id = types.string()
    flavor_id = types.string()
    fixed_network = types.string()
    fixed_subnet = types.string()
    floating_ip_enabled = bool
    master_lb_enabled = bool
    merge_labels = bool


class ResizeFields(wtypes.Base):
    node_count = wtypes.wsattr(types.integer(minimum=0, maximum=100000),
                               mandatory=True)
    nodes_to_remove = [wtypes.text]
    nodegroup = types.string()


class UpgradeFields(wtypes.Base):
    cluster_template = wtypes.wsattr(types.string(), mandatory=True)
    max_batch_size = types.integer(minimum=1, maximum=100000)
    nodegroup = types.string()


ACTIONS = action_api.Actions('cluster', 'clusters')
# The column behind each name the cluster era shows differently.
RENAMES = {'cluster_template_id': 'baymodel_id',
           'create_timeout': 'bay_create_timeout'}
# Only the worker count changes by PATCH (resize does it too).
WRITABLE = ('node_count',)

VIEW = collection.View(
    'clusters',
    short_fields=('uuid', 'name', 'cluster_template_id', 'keypair',
                  'node_count', 'master_count', 'docker_volume_size',
                  'labels', 'master_flavor_id', 'flavor_id',
                  'create_timeout', 'status', 'health_status', 'stack_id',
                  'project_id'),
    detail_fields=('uuid', 'name', 'project_id', 'user_id',
                   'cluster_template_id', 'keypair', 'node_count',
                   'master_count', 'docker_volume_size', 'labels',
                   'master_flavor_id', 'flavor_id', 'create_timeout',
                   'discovery_url', 'status', 'status_reason',
                   'health_status', 'health_status_reason', 'coe_version',
                   'container_version', 'api_address', 'node_addresses',
                   'master_addresses', 'fixed_network', 'fixed_subnet',
                   'floating_ip_enabled', 'master_lb_enabled', 'stack_id',
                   'created_at', 'updated_at'),
    renames=RENAMES)
SORT_KEYS = tuple(RENAMES.get(key, key) for key in (
    'id', 'uuid', 'name', 'project_id', 'user_id', 'cluster_template_id',
    'node_count', 'master_count', 'create_timeout', 'status',
    'health_status', 'created_at', 'updated_at'))
_SORT_NAMES = dict((v, k) for k, v in RENAMES.items())

class _Templates:
    """Template labels by uuid, read once per request (labels_* fields)."""

    def __init__(self, context):
        self.context = context
        self.labels = {}

    def get(self, uuid):
        if uuid not in self.labels:
            try:
                row = baymodel_obj.BayModel.get_by_uuid_unscoped(
                    self.context, uuid)
                self.labels[uuid] = row.labels or {}
            except exception.BayModelNotFound:
                self.labels[uuid] = {}
        return self.labels[uuid]


def render(row, detail=True, base=None, templates=None):
    body = VIEW.render(row, detail, base)
    if detail:
        theirs = (templates or _Templates(pecan.request.context)).get(
            row.baymodel_id)
        body.update(label_api.diff(row.labels, theirs))
        body['faults'] = ({} if not states.is_failed(row.status)
                          else {'cluster': row.status_reason})
    return body


class ClustersController(collection.ListedCollectionController):

    nodegroups = nodegroup_api.NodeGroupsController()

    def _list(self, detail, params):
        context = pecan.request.context
        policy.authorize(context, 'cluster:get_all')
        if context.all_projects:
            policy.authorize(context, 'cluster:get_all_all_projects')
        if params.get('sort_key') in RENAMES:
            params = dict(params, sort_key=RENAMES[params['sort_key']])
        query = collection.query(params, SORT_KEYS)
        rows, more = collection.fetch(bay_obj.Bay.records, context, query)
        base = pecan.request.host_url
        templates = _Templates(context)
        body = {'clusters': [render(row, detail, base, templates)
                             for row in rows]}
        if more and rows:
            body['next'] = collection.next_link(query, rows[-1].uuid)
        return body

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        row = access.fetch_authorized(context, bay_obj.Bay.record, ident,
                                      'cluster:get')
        return render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, 'cluster:create')
        values = types.parse(ClusterFields, types.json_body())
        merge_labels = values.pop('merge_labels', None)
        values['baymodel_id'] = values.pop('cluster_template_id')
        if 'create_timeout' in values:
            values['bay_create_timeout'] = values.pop('create_timeout')
        try:
            baymodel, values = bay_api.prepare(context, values)
        except exception.InvalidParameterValue as e:
            if e.kwargs.get('field') in _SORT_NAMES:
                raise exception.InvalidParameterValue(
                    field=_SORT_NAMES[e.kwargs['field']],
                    reason=e.kwargs['reason'])
            raise
        bay_api.inherit(values, baymodel, merge_labels)
        bay, action = bay_api.create(context, baymodel, values)
        return self._started(context, bay, action)

    def _changing(self, ident, rule, rollback=False):
        """What every change starts with: its query string (nothing but
        ``?rollback=`` where ``rollback`` allows it), then the cluster,
        fetched and authorized. Returns (context, bay, rollback)."""
        rollback = collection.change_query(rollback)
        context = pecan.request.context
        bay = access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                      'cluster:' + rule)
        return context, bay, rollback

    @staticmethod
    def _started(context, bay, action):
        """Cast ``action``; the answer to every change: 202, the uuid."""
        pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 202
        return {'uuid': bay.uuid}

    @pecan.expose('json')
    def patch(self, ident, **params):
        context, bay, rollback = self._changing(ident, 'update',
                                                rollback=True)
        before = {name: bay[name] for name in WRITABLE}
        after = json_patch.apply(before, types.json_body(), WRITABLE)
        changes = types.parse(bay_api.BayFields,
                              json_patch.changed(before, after),
                              partial=True)
        if changes.get('node_count', 0) is None:
            raise exception.InvalidParameterValue(
                field='node_count', reason='the field is required')
        action = actions.start(context, bay, 'update', params=changes,
                               changes=changes, rollback=rollback,
                               restore={'bay': before})
        return self._started(context, bay, action)

    @pecan.expose()
    def delete(self, ident, **params):
        context, bay, _ = self._changing(ident, 'delete')
        bay_api.delete(context, bay)
        pecan.response.status = 204
        return ''

    # -- deeper paths: actions and node groups -----------------------------

    def _route_extra(self, args, request):
        if len(args) == 3 and args[1] == 'actions' and args[2] in (
                'resize', 'upgrade'):
            return self._handler({'POST': args[2]}, request), [args[0]]
        if args[1] == 'actions' and len(args) <= 3:
            return ACTIONS.route(args[0], args[2:], request)
        if args[1] == 'nodegroups' and len(args) <= 3:
            return self.nodegroups.route(args[0], args[2:], request)
        return super()._route_extra(args, request)

    @pecan.expose('json')
    def resize(self, ident, **params):
        microversion.require(microversion.RESIZE, 'Resizing a cluster')
        context, bay, rollback = self._changing(ident, 'resize',
                                                rollback=True)
        values = types.parse(ResizeFields, types.json_body())
        for index, item in enumerate(values.get('nodes_to_remove') or ()):
            types.check_text('nodes_to_remove.%d' % index, item)
        group = None
        if values.get('nodegroup'):
            group = nodegroup_obj.NodeGroup.record(bay.uuid,
                                                   values['nodegroup'])
        action = nodegroup_api.resize(context, bay, group,
                                      values['node_count'], rollback,
                                      values.get('nodes_to_remove'))
        return self._started(context, bay, action)

    @pecan.expose('json')
    def upgrade(self, ident, **params):
        microversion.require(microversion.UPGRADE, 'Upgrading a cluster')
        context, bay, rollback = self._changing(ident, 'upgrade',
                                                rollback=True)
        values = types.parse(UpgradeFields, types.json_body())
        group = None
        if values.get('nodegroup'):
            group = nodegroup_obj.NodeGroup.record(bay.uuid,
                                                   values['nodegroup'])
        try:
            new = baymodel_obj.BayModel.get(context,
                                            values['cluster_template'])
        except exception.BayModelNotFound as e:
            raise exception.InvalidParameterValue(field='cluster_template',
                                                  reason=str(e))
        current = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, bay.baymodel_id)
        if new.coe != current.coe:
            raise exception.InvalidParameterValue(
                field='cluster_template',
                reason='its coe is %s, the cluster runs %s'
                       % (new.coe, current.coe))
        params = {'cluster_template': new.uuid,
                  'nodegroup': group.uuid if group is not None else None,
                  'max_batch_size': values.get('max_batch_size')}
        if group is not None and not group.is_default:
            # NOTE: an extra node group follows its cluster's template:
            # the cluster is upgraded first, then each extra group to it.
            if new.uuid != bay.baymodel_id:
                raise exception.InvalidParameterValue(
                    field='cluster_template',
                    reason='node group %s can only be upgraded to its '
                           "cluster's template %s; upgrade the cluster "
                           'first' % (group.name, bay.baymodel_id))
            action = actions.start(
                context, bay, 'upgrade', params,
                nodegroups=[('update', group.uuid, {
                    'image_id': new.image_id,
                    'status': bay_obj.UPDATE_IN_PROGRESS})],
                rollback=rollback, restore={'nodegroup': {
                    'uuid': group.uuid, 'image_id': group.image_id}})
            return self._started(context, bay, action)
        changes = {'baymodel_id': new.uuid,
                   'coe_version': (new.labels or {}).get(
                       'kube_tag', bay.coe_version)}
        restore = {'baymodel_id': bay.baymodel_id,
                   'coe_version': bay.coe_version}
        action = actions.start(context, bay, 'upgrade', params,
                               changes=changes, rollback=rollback,
                               restore={'bay': restore})
        return self._started(context, bay, action)
