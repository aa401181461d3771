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

from magnum.api.controllers.v1 import bay as bay_api
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import labels as label_api
from magnum.api.controllers.v1 import microversion
from magnum.api.controllers.v1 import nodegroup as nodegroup_api
from magnum.api.controllers.v1 import types
from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import patch as json_patch
from magnum.common import exception
from magnum.common import policy
from magnum.lifecycle import clusters
from magnum.lifecycle import nodegroups as nodegroup_verbs
from magnum.objects import bay as bay_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states


class ClusterFields(wtypes.Base):
    """The fields a client may send to create a cluster."""

    name = bay_api.NAME
    cluster_template_id = wtypes.wsattr(types.string(), mandatory=True)
    # NOTE: 0 (masters only) from API 1.10, as node groups.
    node_count = types.integer(minimum=0, maximum=100000)
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


HEALTH_STATUSES = ('HEALTHY', 'UNHEALTHY', 'UNKNOWN')


class ClusterPatchFields(wtypes.Base):
    """What a cluster PATCH may change: its counts (a scale, an action),
    its name and labels (recorded: its next update is built from them),
    and its health (a report: magnum-auto-healer's)."""

    name = bay_api.NAME
    node_count = types.integer(minimum=0, maximum=100000)
    master_count = types.integer(minimum=1, maximum=100)
    labels = {wtypes.text: wtypes.text}
    health_status = wtypes.Enum(wtypes.text, *HEALTH_STATUSES)
    health_status_reason = {wtypes.text: wtypes.text}


PATCHABLE = tuple(attr.name for attr in
                  wtypes.list_attributes(ClusterPatchFields))
COUNTS = ('node_count', 'master_count')
HEALTH = ('health_status', 'health_status_reason')


class ResizeFields(wtypes.Base):
    node_count = wtypes.wsattr(types.integer(minimum=0, maximum=100000),
                               mandatory=True)
    nodes_to_remove = [wtypes.text]
    nodegroup = types.string()


class UpgradeFields(wtypes.Base):
    cluster_template = wtypes.wsattr(types.string(), mandatory=True)
    max_batch_size = types.integer(minimum=1, maximum=100000)
    nodegroup = types.string()


# The cluster's own actions (POST .../actions/<name>): the API version
# each needs, and what it is called when that is too old.
CLUSTER_ACTIONS = {'resize': (microversion.RESIZE, 'Resizing a cluster'),
                   'upgrade': (microversion.UPGRADE, 'Upgrading a cluster')}
# The column behind each name the cluster era shows differently.
RENAMES = {'cluster_template_id': 'baymodel_id',
           'create_timeout': 'bay_create_timeout'}

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


def render(row, detail=True, base=None, pick=None):
    """A cluster as shown; its full view from a row read with its
    template's labels (``Bay.record(..., template_labels=True)``)."""
    body = VIEW.render(row, detail, base, pick)
    if microversion.at_least(microversion.CLUSTER_ID):
        body['cluster_id'] = row.stack_id
    if detail:
        body.update(label_api.diff(row.labels, row.template_labels))
        body['faults'] = ({} if not states.is_failed(row.status)
                          else {'cluster': row.status_reason})
    return body


def _check_workers(values):
    """0 workers (a cluster of masters only) from API 1.10."""
    if values.get('node_count') == 0 and not (
            microversion.allows_empty_nodegroups()):
        raise exception.InvalidParameterValue(
            field='node_count', reason='0 needs API version 1.10 or later')


class ClustersController(bay_api.BayRowsController):
    """The bays' implementation (bay.BayRowsController) in the cluster
    era's names, with its actions ``resize`` and ``upgrade`` and its node
    groups."""

    POLICY = 'cluster'
    VIEW = VIEW
    SORT_KEYS = SORT_KEYS
    RENAMES = RENAMES
    FIELDS = ClusterFields
    # NOTE: the change's one conditional UPDATE refuses a busy cluster
    # (409), once its provisioner has said it can update.
    BUSY_FIRST = False
    # A detail shows how a cluster's labels differ from its template's.
    TEMPLATE_LABELS = True

    nodegroups = nodegroup_api.NodeGroupsController()

    def _render(self, row, detail=True, base=None, pick=None):
        return render(row, detail, base, pick)

    def _change_query(self, rollback):
        """``?rollback=`` where the change takes it; nothing else."""
        return collection.change_query(rollback)

    def _check_create(self, values):
        _check_workers(values)

    @pecan.expose('json')
    def patch(self, ident, **params):
        """Counts (a scale: an update action), name and labels
        (recorded), health (a report); any of them in one patch.

        A patch of health alone needs ``cluster:update_health_status``
        only, never the cluster idle, and never changes its status: it is
        what magnum-auto-healer sends while the cluster works.
        """
        patch = json_patch.check(types.json_body(), PATCHABLE)
        rollback = self._change_query(rollback=True)
        context = pecan.request.context
        touched = {op['path'].split('/')[1] for op in patch}
        rules = ([self._rule('update')] if touched - set(HEALTH) else []) + (
            [self._rule('update_health_status')] if touched & set(HEALTH)
            else [])
        bay = access.fetch_authorized(context, bay_obj.Bay.get, ident,
                                      rules[0])
        for rule in rules[1:]:
            policy.authorize(context, rule, access.target(bay))
        before = {name: bay[name] for name in PATCHABLE}
        after = json_patch.apply(before, patch, PATCHABLE,
                                 maps=('labels', 'health_status_reason'))
        changes = types.parse(ClusterPatchFields,
                              json_patch.changed(before, after), partial=True)
        for name in COUNTS + ('name',):
            if name in changes and changes[name] is None:
                raise exception.InvalidParameterValue(
                    field=name, reason='the field is required')
        _check_workers(changes)
        health = {name: changes.pop(name) for name in HEALTH
                  if name in changes}
        action = clusters.change(context, bay, changes, health, rollback)
        return self._answer(context, bay, action, 202)

    def _answer(self, context, bay, action, status):
        """202 and the uuid, to a create too."""
        if action is not None:
            pecan.request.rpcapi.action_run(context, action)
        pecan.response.status = 202
        return {'uuid': bay.uuid}

    # -- deeper paths: actions and node groups -----------------------------

    def _route_extra(self, args, request):
        if len(args) == 3 and args[1] == 'actions' and (
                args[2] in CLUSTER_ACTIONS):
            return self._handler({'POST': args[2]}, request), [args[0]]
        if args[1] == 'nodegroups' and len(args) <= 3:
            return self.nodegroups.route(args[0], args[2:], request)
        return super()._route_extra(args, request)

    def _acting(self, ident, name, fields):
        """What ``resize`` and ``upgrade`` start with: the API version the
        action needs, a change's prologue (``_changing``, with
        ``?rollback=``), then the body. Returns (context, bay, rollback,
        values)."""
        microversion.require(*CLUSTER_ACTIONS[name])
        context, bay, rollback = self._changing(ident, name, rollback=True)
        return context, bay, rollback, types.parse(fields, types.json_body())

    @staticmethod
    def _group(bay, values):
        """The node group of ``bay`` the body names, or None."""
        if not values.get('nodegroup'):
            return None
        return nodegroup_obj.NodeGroup.record(bay.uuid, values['nodegroup'])

    @pecan.expose('json')
    def resize(self, ident, **params):
        context, bay, rollback, values = self._acting(ident, 'resize',
                                                      ResizeFields)
        for index, item in enumerate(values.get('nodes_to_remove') or ()):
            types.check_text('nodes_to_remove.%d' % index, item)
        group = self._group(bay, values)
        action = nodegroup_verbs.resize(
            context, bay, group, values['node_count'], rollback,
            values.get('nodes_to_remove'),
            allow_empty=microversion.allows_empty_nodegroups())
        return self._answer(context, bay, action, 202)

    @pecan.expose('json')
    def upgrade(self, ident, **params):
        context, bay, rollback, values = self._acting(ident, 'upgrade',
                                                      UpgradeFields)
        group = self._group(bay, values)
        action = clusters.upgrade(context, bay, group,
                                  values['cluster_template'], rollback,
                                  values.get('max_batch_size'))
        return self._answer(context, bay, action, 202)
