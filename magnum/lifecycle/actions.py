"""The action protocol: how a change to a bay starts and how it ends.

Start (the API, ``start``): the provisioner is asked whether it can do
the action at all (a 400 naming the action and the provisioner
otherwise); then the action (PENDING), the bay's ``*_IN_PROGRESS`` status
and the node-group rows the change adds, changes or removes are written in
one transaction, which a busy or locked bay refuses whole (409). The
caller then casts the action's uuid to the bay's conductor.

End (the conductor, ``record``, under the bay's lock): each answer of the
provisioner is written with the action's progress in one transaction. The
first answer makes a PENDING action IN_PROGRESS (the provisioner has it);
an answer with a finished status ends it COMPLETE, FAILED or, when the
change asked ``?rollback=True`` and failed, ROLLED_BACK: what the action
changed (``params['restore']``) is written back, so the cluster shows what
it really runs.

``params`` by kind (what was asked, with its types)::

    update            node_count
    resize            nodegroup (uuid), node_count, nodes_to_remove
    upgrade           cluster_template (uuid), nodegroup, max_batch_size
    nodegroup_create  nodegroup
    nodegroup_update  nodegroup, node_count
    nodegroup_delete  nodegroup, name
    any of these      rollback (bool), restore {'bay': {field: value},
                      'nodegroup': {'uuid': ..., field: value}}
"""

import time

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from magnum.common import exception
from magnum.db import actions as db_actions
from magnum.lifecycle import audit
from magnum.lifecycle import inheritance
from magnum.lifecycle import provisioning
from magnum.objects import action as action_obj
from magnum.objects import node as node_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states

LOG = logging.getLogger(__name__)
# Seconds an action waits for a bay a conductor holds (see _start_row).
LOCKED_WAIT = 2.0

# Where each kind may start from (the bay's statuses).
_STARTS_FROM = dict({kind: states.UPDATABLE for kind in action_obj.KINDS},
                    delete=states.DELETABLE,
                    rotate_ca=states.CA_ROTATABLE)


def refuse_busy(bay, kind):
    """Refuse (409) an action of ``kind`` on ``bay`` as it was read, when
    its status is not one the kind starts from. NOTE: ``start`` refuses the
    same, on the row, in its transaction; this is for a caller that must
    refuse before the provisioner is asked whether it can do the action."""
    if bay.status not in _STARTS_FROM[kind]:
        raise exception.BayInProgress(bay=bay.uuid, status=bay.status)


def start(context, bay, kind, params=None, changes=None, nodegroups=(),
          rollback=False, restore=None):
    """Record an action of ``kind`` on ``bay`` and make its change, at
    once; returns the Action (``bay`` is refreshed).

    ``changes``: the bay's fields the action sets (a new node_count...);
    ``nodegroups``: the node-group rows it adds, changes or removes
    (magnum.db.actions); ``rollback``: undo the change if it fails,
    writing back ``restore`` ({'bay': {...}, 'nodegroup': {'uuid': ...,
    ...}}). Every action moves the bay to its operation's IN_PROGRESS but
    a CA rotation done inside one call (a provisioner that does not
    ``rotates_by_update``), which leaves the bay's status as it is.
    """
    provisioning.check_action(bay, kind)
    moves_bay = (kind != action_obj.ROTATE_CA
                 or provisioning.rotates_by_update(bay))
    params = {k: v for k, v in (params or {}).items() if v is not None}
    if rollback:
        params['rollback'] = True
        if restore:
            params['restore'] = restore
    values = dict(changes or {})
    if moves_bay:
        values.update(status=states.in_progress(action_obj.OPERATION[kind]),
                      status_reason=None)
    row, bay_row = _start_row(context, bay.uuid, kind, params, values,
                              _STARTS_FROM[kind], nodegroups)
    bay._refresh(bay_row)
    action = action_obj.Action.from_row(context, row)
    audit.notify(context, action, audit.START)
    return action


def _start_row(context, bay_uuid, kind, params, values, statuses,
               nodegroups):
    """db_actions.start, trying again for up to LOCKED_WAIT seconds while a
    conductor holds the bay: the reconciler and the watch hold it for a
    moment at a time, to write what the provisioner said. A bay held
    longer (a verb at work) is still a 409."""
    deadline = time.monotonic() + LOCKED_WAIT
    delay = 0.02
    while True:
        try:
            return db_actions.start(context, bay_uuid, kind, params, values,
                                    statuses, nodegroups)
        except exception.BayLocked:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def create(context, bay, key=None):
    """Insert the new ``bay`` with its default node groups and its create
    action, within the quota, in one transaction; returns the Action.
    ``key``: the request's idempotency Key
    (magnum/lifecycle/idempotency.py), recorded with them.
    """
    values = {'uuid': uuidutils.generate_uuid(), 'kind': action_obj.CREATE,
              'params': {}, 'status': action_obj.PENDING,
              'request_id': context.request_id,
              'project_id': context.project_id, 'user_id': context.user_id}
    bay.create(context, action=values, idempotency=None if key is None else (
        key.key, key.digest, key.window()),
        nodegroups=inheritance.default_nodegroups(bay.obj_get_changes()))
    action = action_obj.Action.get(context, values['uuid'])
    audit.notify(context, action, audit.START)
    return action


def delete(context, bay):
    """Start deleting ``bay``; a bay already being deleted keeps its
    delete, which is returned again (its message may have been lost), or
    None if it has none."""
    if bay.status == states.DELETE_IN_PROGRESS:
        current = action_obj.Action.open_of(context, bay.uuid)
        if current is None or current.kind != action_obj.DELETE:
            return None
        return current
    return start(context, bay, action_obj.DELETE)


def record(context, host, bay, action, state):
    """Write the provisioner's answer ``state`` about ``action`` while
    ``host`` holds ``bay``; the bay's lock is given back in the same
    UPDATE. Returns True when the action ended.
    """
    if state.status == states.DELETE_COMPLETE:
        _end(action, states.DELETE_COMPLETE, state.status_reason)
        bay.destroy(holder=host)
        LOG.info('Bay %s deleted', bay.uuid)
        audit.notify(context, action, audit.END)
        return True
    changes = state.changes()
    changes.pop('redo', None)
    nodes = changes.pop('nodes', None)
    if nodes is not None:
        node_obj.Node.replace_for_bay(bay.uuid, nodes)
    _record_nodegroups(bay, changes.pop('nodegroup_addresses', None),
                       changes.pop('nodegroup_counts', None))
    for name, value in changes.items():
        setattr(bay, name, value)
    values, groups = {}, []
    if action.status == action_obj.PENDING:
        values.update(status=action_obj.IN_PROGRESS, conductor=host,
                      started_at=timeutils.utcnow())
    ended = states.is_finished(state.status)
    if ended:
        rolled_back = False
        if states.is_failed(state.status) and action.param('rollback'):
            restored, groups = _restore(bay, action)
            bay.status_reason = '%s (rolled back: %s)' % (
                state.status_reason or 'The update failed',
                ', '.join('%s=%s' % item for item in sorted(
                    restored.items())))
            rolled_back = True
            LOG.info('Bay %s: %s failed, rolled back %s', bay.uuid,
                     action.kind, restored)
        groups += _nodegroup_outcome(action, state.status, rolled_back)
        values.update(status=action_obj.end_status(state.status,
                                                   rolled_back),
                      status_reason=bay.status_reason,
                      finished_at=timeutils.utcnow())
    bay.reservation = None
    bay.save_with_action(action.uuid, values, groups, holder=host)
    for name, value in values.items():
        setattr(action, name, value)
    if state.status:
        LOG.info('Bay %s is %s (action %s %s)', bay.uuid, state.status,
                 action.kind, action.status)
    if ended:
        audit.notify(context, action, audit.END)
    return ended


def end_alone(context, host, action, status, reason=None):
    """End ``action`` (COMPLETE or FAILED) without moving its bay: a CA
    rotation done inside one call, or one that could not be pushed."""
    now = timeutils.utcnow()
    values = {'status': status, 'status_reason': reason, 'finished_at': now}
    if action.status == action_obj.PENDING:
        values.update(conductor=host, started_at=now)
    db_actions.update(action.uuid, values)
    for name, value in values.items():
        setattr(action, name, value)
    audit.notify(context, action, audit.END)


def _end(action, status, reason):
    now = timeutils.utcnow()
    action.status = action_obj.end_status(status)
    action.status_reason = reason
    action.finished_at = now
    action.started_at = action.started_at or now


def _restore(bay, action):
    """What a failed ``action`` asked with ?rollback=True changed, written
    back: ({what: value restored}, node-group changes)."""
    restore = action.param('restore') or {}
    restored, groups = {}, []
    if action.kind == action_obj.NODEGROUP_CREATE:
        # NOTE: Heat removed the group's resource group with its rollback;
        # so does Magnum with its row.
        uuid = action.param('nodegroup')
        try:
            row = nodegroup_obj.NodeGroup.get(None, bay.uuid, uuid)
        except exception.NodeGroupNotFound:
            row = None
        if row is not None:
            groups.append(('delete', row.uuid))
            restored['nodegroup %s' % row.name] = 'removed'
    group = restore.get('nodegroup')
    if group:
        values = {k: v for k, v in group.items() if k != 'uuid'}
        groups.append(('update', group['uuid'], values))
        for name, value in values.items():
            restored['nodegroup %s %s' % (group['uuid'], name)] = value
    for name, value in (restore.get('bay') or {}).items():
        setattr(bay, name, value)
        restored[name] = value
    return restored, groups


def _nodegroup_outcome(action, bay_status, rolled_back):
    """The node group the action was about ends its own status with its
    bay's outcome (a new group CREATE_..., a changed one UPDATE_...)."""
    uuid = action.param('nodegroup')
    if not uuid or action.kind == action_obj.NODEGROUP_DELETE:
        return []
    if rolled_back and action.kind == action_obj.NODEGROUP_CREATE:
        return []   # removed by the rollback
    try:
        row = nodegroup_obj.NodeGroup.get(None, action.bay_uuid, uuid)
    except exception.NodeGroupNotFound:
        return []
    if row.is_default or not row.status or not states.is_busy(row.status):
        return []
    return [('update', row.uuid,
             {'status': states.same_outcome(row.status, bay_status)})]


def _record_nodegroups(bay, addresses, counts):
    """The public addresses of each node group's servers and the node
    counts its backend decided ({name: value}), as the provisioner reports
    them; the default groups show the bay's addresses, and the default
    worker group's count is the bay's node_count."""
    if not addresses and not counts:
        return
    addresses, counts = addresses or {}, counts or {}
    for row in nodegroup_obj.NodeGroup.list_of(None, bay.uuid):
        values = {}
        if not row.is_default and row.name in addresses and (
                row.node_addresses != addresses[row.name]):
            values['node_addresses'] = addresses[row.name]
        if row.name in counts and row.node_count != counts[row.name]:
            values['node_count'] = counts[row.name]
            if row.is_default and row.role != 'master':
                bay.node_count = counts[row.name]
        if values:
            nodegroup_obj.NodeGroup.update(row.uuid, values)


def observe(bay, state):
    """Write what the provisioner sees of ``bay`` outside any action (its
    health, nodes, addresses, node counts), without taking its lock: the
    bay's row changes only while its status is still the one read and
    nobody holds it (else BayInProgress or BayLocked, and nothing of the
    bay's row is written). Returns True if anything changed."""
    changes = state.changes()
    for name in ('status', 'status_reason', 'redo', 'stack_id'):
        changes.pop(name, None)
    nodes = changes.pop('nodes', None)
    if nodes is not None and _nodes_changed(bay.uuid, nodes):
        node_obj.Node.replace_for_bay(bay.uuid, nodes)
    _record_nodegroups(bay, changes.pop('nodegroup_addresses', None),
                       changes.pop('nodegroup_counts', None))
    for name, value in changes.items():
        if getattr(bay, name) != value:
            setattr(bay, name, value)
    if not bay.obj_get_changes():
        return False
    bay.save(expected_statuses=(bay.status,), unlocked=True)
    return True


def differs(bay, state):
    """Whether ``state`` (what ``observe`` would write) differs from what
    ``bay`` and its rows show (read without the lock)."""
    changes = state.changes()
    for name in ('status', 'status_reason', 'redo', 'stack_id', 'nodes',
                 'nodegroup_addresses', 'nodegroup_counts'):
        changes.pop(name, None)
    if any(getattr(bay, name) != value for name, value in changes.items()):
        return True
    if state.nodes is not None and _nodes_changed(bay.uuid, state.nodes):
        return True
    if state.nodegroup_addresses or state.nodegroup_counts:
        addresses = state.nodegroup_addresses or {}
        counts = state.nodegroup_counts or {}
        for row in nodegroup_obj.NodeGroup.list_of(None, bay.uuid):
            if row.name in counts and row.node_count != counts[row.name]:
                return True
            if not row.is_default and row.name in addresses and (
                    row.node_addresses != addresses[row.name]):
                return True
    return False


def _nodes_changed(bay_uuid, nodes):
    def key(node):
        return (node['server_id'], node.get('name'), node.get('nodegroup'),
                tuple(node.get('addresses') or ()))
    current = node_obj.Node.of_bay(bay_uuid)
    return sorted(map(key, nodes)) != sorted(
        (n.server_id, n.name, n.nodegroup, tuple(n.addresses or ()))
        for n in current)
