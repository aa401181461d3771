"""Database API of actions: a change to a bay and the rows it moves,
written in one transaction.

``start`` is the API's half: the action (PENDING), the bay's new status
and the node-group rows the change adds, changes or removes commit
together or not at all. ``record`` is the conductor's half: the
provisioner's answer, the action's progress and the node groups' outcome,
under the bay's reservation, in one transaction too.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api
from magnum.db import bays as db_bays

ACTION = api.ACTION
BAY = api.BAY
NODEGROUP = api.NODEGROUP
OPEN = ('PENDING', 'IN_PROGRESS')


def _nodegroup_changes(session, changes):
    """Apply node-group changes: ('insert', values), ('update', uuid,
    values) or ('delete', uuid)."""
    now = timeutils.utcnow()
    for change in changes or ():
        verb = change[0]
        if verb == 'insert':
            values = dict(change[1], created_at=now)
            api.insert(session, NODEGROUP, values,
                       duplicate=lambda: exception.NodeGroupAlreadyExists(
                           cluster=values['cluster_id'], name=values['name']))
        elif verb == 'update':
            result = session.execute(sa.update(NODEGROUP).where(
                NODEGROUP.c.uuid == change[1]).values(
                updated_at=now, **change[2]))
            if not result.rowcount:
                raise exception.NodeGroupNotFound(nodegroup=change[1])
        elif verb == 'delete':
            session.execute(sa.delete(NODEGROUP).where(
                NODEGROUP.c.uuid == change[1]))
        else:
            raise ValueError('no node-group change %r' % (verb,))


def start(context, bay_uuid, kind, params, bay_values, expected_statuses,
          nodegroups=()):
    """Write a new action of ``kind`` and the change it makes, at once.

    The bay's row takes ``bay_values`` (its new status...) only while its
    status is one of ``expected_statuses`` and nobody holds its lock;
    otherwise the reason is raised (409) and nothing is written. Returns
    (the action's row, the bay's row).
    """
    values = {'uuid': uuidutils.generate_uuid(), 'bay_uuid': bay_uuid,
              'kind': kind, 'params': params or {}, 'status': 'PENDING',
              'request_id': context.request_id,
              'project_id': None, 'user_id': context.user_id,
              'created_at': timeutils.utcnow()}
    with api.writer() as session:
        bay = db_bays.update_bay_in(session, bay_uuid, dict(bay_values),
                                    expected_statuses=expected_statuses,
                                    unlocked=True)
        _nodegroup_changes(session, nodegroups)
        values['project_id'] = bay.project_id
        if kind == 'delete':
            # NOTE: a delete may start while another change runs (so that
            # nothing stays stuck); that change will never end on its own.
            now = timeutils.utcnow()
            session.execute(sa.update(ACTION).where(
                ACTION.c.bay_uuid == bay_uuid, ACTION.c.status.in_(OPEN))
                .values(status='FAILED', finished_at=now, updated_at=now,
                        status_reason='Superseded by the delete of the '
                                      'cluster (action %s).'
                                      % values['uuid']))
        session.execute(sa.insert(ACTION).values(**values))
        action = session.execute(sa.select(ACTION).where(
            ACTION.c.uuid == values['uuid'])).one()
    return action, bay


def record(bay_uuid, holder, bay_values, action_uuid, action_values,
           nodegroups=()):
    """The conductor's writes for one answer of the provisioner, while
    ``holder`` holds the bay: the bay, its action and its node groups in
    one transaction. The bay's reservation is given back in the same
    UPDATE when ``bay_values`` says so (``reservation: None``). Returns
    the bay's new row.
    """
    with api.writer() as session:
        bay = db_bays.update_bay_in(session, bay_uuid, dict(bay_values),
                                    holder=holder)
        _nodegroup_changes(session, nodegroups)
        if action_uuid is not None and action_values:
            session.execute(sa.update(ACTION).where(
                ACTION.c.uuid == action_uuid).values(
                updated_at=timeutils.utcnow(), **action_values))
    return bay


def update(uuid, values):
    """Change an action alone (one whose bay's row does not move)."""
    with api.writer() as session:
        session.execute(sa.update(ACTION).where(ACTION.c.uuid == uuid)
                        .values(updated_at=timeutils.utcnow(), **values))


def get(uuid):
    return api.get_by_key(ACTION, uuid,
                          lambda: exception.ActionNotFound(action=uuid))


def get_of(bay_uuid, uuid):
    """An action of the bay (the caller checked the bay is in scope)."""
    with api.reader() as session:
        row = session.execute(sa.select(ACTION).where(
            ACTION.c.bay_uuid == bay_uuid, ACTION.c.uuid == uuid)).first()
    if row is None:
        raise exception.ActionNotFound(action=uuid)
    return row


def open_of(bay_uuid):
    """The bay's unfinished action (the newest, should there be two)."""
    with api.reader() as session:
        return session.execute(sa.select(ACTION).where(
            ACTION.c.bay_uuid == bay_uuid, ACTION.c.status.in_(OPEN))
            .order_by(ACTION.c.id.desc()).limit(1)).first()


def list_of(bay_uuid, limit=None, marker=None, sort_dir='desc'):
    """A page of the bay's actions, newest first unless ``sort_dir`` is
    'asc'; ``marker`` is the uuid of the last action of the page before.
    """
    order = sa.asc if sort_dir == 'asc' else sa.desc
    stmt = sa.select(ACTION).where(ACTION.c.bay_uuid == bay_uuid)
    with api.reader() as session:
        if marker is not None:
            row = session.execute(sa.select(ACTION.c.id).where(
                ACTION.c.bay_uuid == bay_uuid,
                ACTION.c.uuid == marker)).first()
            if row is None:
                raise exception.InvalidParameterValue(
                    field='marker', reason='no action with UUID %s of this '
                                           'cluster' % marker)
            stmt = stmt.where(ACTION.c.id < row.id if sort_dir != 'asc'
                              else ACTION.c.id > row.id)
        stmt = stmt.order_by(order(ACTION.c.id))
        if limit is not None:
            stmt = stmt.limit(limit)
        return session.execute(stmt).all()


def open_actions():
    """[(action row, bay row)] of every unfinished action whose bay nobody
    holds (for the reconciler), oldest first."""
    with api.reader() as session:
        actions = session.execute(sa.select(ACTION).where(
            ACTION.c.status.in_(OPEN)).order_by(ACTION.c.id)).all()
        if not actions:
            return []
        bays = {row.uuid: row for row in session.execute(
            sa.select(BAY).where(
                BAY.c.uuid.in_({a.bay_uuid for a in actions}),
                BAY.c.reservation.is_(None)))}
    return [(action, bays[action.bay_uuid]) for action in actions
            if action.bay_uuid in bays]
