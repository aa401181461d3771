"""What the cluster era adds when a bay's change ends: rollback, the
statuses and addresses of its node groups.

Called by BayHandler._apply under the bay's lock, before the bay's row is
written. A resize or upgrade asked with ``?rollback=True`` left in the row
what it changed (``rollback``); when the change fails those values are
written back (the heat provisioner has Heat roll the stack back too), so
the cluster shows what it really runs.
"""

from oslo_log import log as logging

from magnum.common import exception
from magnum.objects import bay as bay_obj
from magnum.objects import nodegroup as nodegroup_obj

LOG = logging.getLogger(__name__)

_INTEGERS = ('node_count', 'master_count')


def finish(bay, state):
    """Adjust ``bay`` (not yet saved) for the provisioner's ``state``."""
    if not state.status or state.status.endswith('IN_PROGRESS'):
        return
    if bay.rollback is not None and state.status == bay_obj.UPDATE_FAILED:
        restored = _restore(bay, dict(bay.rollback))
        state.status_reason = '%s (rolled back: %s)' % (
            state.status_reason or 'The update failed',
            ', '.join('%s=%s' % item for item in sorted(restored.items())))
        bay.status_reason = state.status_reason
        LOG.info('Bay %s: update failed, rolled back %s', bay.uuid,
                 restored)
    if bay.rollback is not None:
        bay.rollback = None
    _nodegroup_statuses(bay.uuid, state.status)


def record_addresses(bay_uuid, addresses):
    """The public addresses of each node group's servers ({name: list}),
    as the provisioner reports them; the default groups show the bay's."""
    if not addresses:
        return
    for row in nodegroup_obj.NodeGroup.all_of(bay_uuid):
        if not row.is_default and row.name in addresses and (
                row.node_addresses != addresses[row.name]):
            nodegroup_obj.NodeGroup.update(
                row.uuid, {'node_addresses': addresses[row.name]})


def _restore(bay, values):
    restored = {}
    for row in nodegroup_obj.NodeGroup.all_of(bay.uuid):
        # NOTE: a group still being created was created by the change that
        # failed (a cluster makes one change at a time); Heat has removed
        # its resource group, and so does the rollback.
        if not row.is_default and row.status == bay_obj.CREATE_IN_PROGRESS:
            nodegroup_obj.NodeGroup.destroy(row.uuid)
            restored['nodegroup %s' % row.name] = 'removed'
    group = values.pop('nodegroup', None)
    count = values.pop('nodegroup_count', None)
    image = values.pop('nodegroup_image', None)
    for field, value in (('node_count', count), ('image_id', image)):
        if not group or value is None:
            continue
        if field == 'node_count':
            value = int(value)
        try:
            nodegroup_obj.NodeGroup.update(group, {field: value})
            restored['nodegroup %s %s' % (group, field)] = value
        except exception.NodeGroupNotFound:
            pass
    for name, value in values.items():
        if name in _INTEGERS and value is not None:
            value = int(value)
        setattr(bay, name, value)
        restored[name] = value
    return restored


def _nodegroup_statuses(bay_uuid, status):
    """Extra node groups end their own action (CREATE_... for a new one)
    with the bay's outcome; the default ones show the bay's status. The
    servers a resize asked to remove are forgotten: Heat has removed them
    (and never reuses their names), or the update failed."""
    outcome = status.rsplit('_', 1)[-1]
    for row in nodegroup_obj.NodeGroup.all_of(bay_uuid):
        if row.nodes_to_remove:
            nodegroup_obj.NodeGroup.update(row.uuid,
                                           {'nodes_to_remove': None})
        if row.is_default or not row.status:
            continue
        action = row.status.split('_')[0]
        if row.status.endswith('IN_PROGRESS'):
            nodegroup_obj.NodeGroup.update(
                row.uuid, {'status': '%s_%s' % (action, outcome)})
