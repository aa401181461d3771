"""Database API of bays (the rows of Clusters too): their rows, their
reservations (the per-bay lock, taken and given back by conditional
UPDATEs) and their counts.
"""

import datetime

from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api
from magnum.db import idempotency as db_idempotency
from magnum.db import quotas as db_quotas

BAY = api.BAY
BAYMODEL = api.BAYMODEL
NODEGROUP = api.NODEGROUP
ACTION = api.ACTION


def with_template_labels(stmt):
    """A SELECT of bays with each bay's template's labels, as
    ``template_labels`` (what a cluster's detail compares its own with).

    NOTE: a join, so that a page of clusters is one query whatever the
    number of their templates (one query a template was an N+1).
    """
    return stmt.outerjoin(
        BAYMODEL, BAYMODEL.c.uuid == BAY.c.baymodel_id).add_columns(
        BAYMODEL.c.labels.label('template_labels'))


def get_bay(context, ident, template_labels=False):
    """The bay the caller may see by UUID or name; with
    ``template_labels``, its template's labels too (``with_template_labels``).
    """
    return api.get_one(context, BAY, ident,
                       lambda: exception.BayNotFound(bay=ident), 'bays',
                       extend=with_template_labels if template_labels
                       else None)


def get_bay_by_uuid_unscoped(uuid):
    return api.get_by_key(BAY, uuid, lambda: exception.BayNotFound(bay=uuid))


def list_bays(context, limit=None, marker=None, sort_key='id',
              sort_dir='asc', template_labels=False):
    """A page of bays; with ``template_labels``, each with its template's
    labels (``with_template_labels``)."""
    return api.list_page(context, BAY, 'bay', limit, marker, sort_key,
                         sort_dir, extend=with_template_labels
                         if template_labels else None)


def list_bays_by_status(statuses, unlocked_only=True):
    """Bays of every project in one of ``statuses`` (for the reconciler)."""
    stmt = sa.select(BAY).where(BAY.c.status.in_(statuses))
    if unlocked_only:
        stmt = stmt.where(BAY.c.reservation.is_(None))
    with api.reader() as session:
        return session.execute(stmt.order_by(BAY.c.id)).all()


def count_bays_using(baymodel_uuid):
    """How many bays, of any project, a BayModel serves."""
    with api.reader() as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(BAY).where(
                BAY.c.baymodel_id == baymodel_uuid)).scalar()


def create_bay(context, values, action=None, idempotency=None,
               nodegroups=()):
    """Insert a bay, within the quota, and with it ``nodegroups`` (the
    values of its default node groups, magnum/lifecycle/inheritance.py:
    each shares the bay's project, user, status and time) and ``action``
    (the values of its create action); with ``idempotency`` ((key, digest,
    window): an ``Idempotency-Key``), the key that made it too
    (IdempotencyKeyTaken if a create with the key committed first: then
    nothing is written).

    NOTE: the project's quota row is locked (an UPDATE of itself) before
    its bays are counted, in the transaction of the insert, so concurrent
    creates in one project queue up and cannot overshoot the limit.
    """
    values = api.new_row_values(context, values)
    project_id = values['project_id']
    db_quotas.ensure_quota_row(project_id, db_quotas.CLUSTER_RESOURCE)
    with api.writer() as session:
        db_quotas.check_cluster_quota(session, project_id)
        if idempotency is not None:
            key, digest, window = idempotency
            db_idempotency.remember_in(session, project_id, key, digest,
                                       values['uuid'], window)
        api.insert(session, BAY, values,
                   duplicate=lambda: exception.BayAlreadyExists(
                   uuid=values['uuid']),
                   reference=lambda: exception.BayModelNotFound(
                   baymodel=values['baymodel_id']))
        for group in nodegroups:
            session.execute(sa.insert(NODEGROUP).values(**dict(
                group, cluster_id=values['uuid'], project_id=project_id,
                user_id=values['user_id'], status=values.get('status'),
                created_at=values['created_at'])))
        if action is not None:
            session.execute(sa.insert(ACTION).values(**dict(
                action, bay_uuid=values['uuid'],
                created_at=values['created_at'])))
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid == values['uuid'])).one()


def update_bay(uuid, values, expected_statuses=None, unlocked=False,
               holder=None):
    """Change a bay with one conditional UPDATE; returns the new row.

    ``expected_statuses``: change it only while its status is one of these.
    ``unlocked``: only while nobody holds its reservation.
    ``holder``: only while ``holder`` holds it.
    When a condition fails the reason is raised: BayNotFound, BayLocked or
    BayInProgress.
    """
    with api.writer() as session:
        return update_bay_in(session, uuid, values, expected_statuses,
                             unlocked, holder)


def update_bay_in(session, uuid, values, expected_statuses=None,
                  unlocked=False, holder=None):
    """``update_bay`` inside the caller's transaction: a refusal raised
    here rolls the whole transaction back."""
    values = {k: timeutils.normalize_time(v) if isinstance(
        v, datetime.datetime) else v for k, v in values.items()}
    values['updated_at'] = timeutils.utcnow()
    stmt = sa.update(BAY).where(BAY.c.uuid == uuid).values(**values)
    if expected_statuses is not None:
        stmt = stmt.where(BAY.c.status.in_(expected_statuses))
    if unlocked:
        stmt = stmt.where(BAY.c.reservation.is_(None))
    if holder is not None:
        stmt = stmt.where(BAY.c.reservation == holder)
    if session.execute(stmt).rowcount:
        return session.execute(
            sa.select(BAY).where(BAY.c.uuid == uuid)).one()
    current = session.execute(
        sa.select(BAY).where(BAY.c.uuid == uuid)).first()
    if current is None:
        raise exception.BayNotFound(bay=uuid)
    if holder is not None and current.reservation != holder:
        raise exception.BayNotReserved(bay=uuid, host=holder)
    if current.reservation is not None and current.reservation != holder:
        raise exception.BayLocked(bay=uuid, host=current.reservation)
    raise exception.BayInProgress(bay=uuid, status=current.status)


def reserve_bay(uuid, host):
    """Take the bay's exclusive reservation; BayLocked if someone has it."""
    with api.writer() as session:
        result = session.execute(
            sa.update(BAY).where(BAY.c.uuid == uuid,
                                 BAY.c.reservation.is_(None))
            .values(reservation=host))
        if result.rowcount:
            return session.execute(
                sa.select(BAY).where(BAY.c.uuid == uuid)).one()
        current = session.execute(
            sa.select(BAY.c.reservation).where(BAY.c.uuid == uuid)).first()
    if current is None:
        raise exception.BayNotFound(bay=uuid)
    raise exception.BayLocked(bay=uuid, host=current.reservation)


def release_bay(uuid, host):
    """Give the reservation back; a no-op if ``host`` no longer holds it."""
    with api.writer() as session:
        session.execute(
            sa.update(BAY).where(BAY.c.uuid == uuid,
                                 BAY.c.reservation == host)
            .values(reservation=None))


def clear_reservations(host):
    """Drop every reservation that ``host`` holds; returns how many."""
    with api.writer() as session:
        return session.execute(
            sa.update(BAY).where(BAY.c.reservation == host)
            .values(reservation=None)).rowcount


def clear_reservations_of(hosts):
    """Drop every reservation held by any of ``hosts`` (conductors found
    down); returns how many.
    """
    if not hosts:
        return 0
    with api.writer() as session:
        return session.execute(
            sa.update(BAY).where(BAY.c.reservation.in_(list(hosts)))
            .values(reservation=None)).rowcount


def destroy_bay(uuid, holder=None):
    stmt = sa.delete(BAY).where(BAY.c.uuid == uuid)
    if holder is not None:
        stmt = stmt.where(BAY.c.reservation == holder)
    with api.writer() as session:
        if session.execute(stmt).rowcount:
            return
        exists = session.execute(
            sa.select(BAY.c.id).where(BAY.c.uuid == uuid)).first()
    if exists is None:
        raise exception.BayNotFound(bay=uuid)
    raise exception.BayNotReserved(bay=uuid, host=holder)


def stats(project_id=None):
    """(clusters, nodes) of one project, or of all when None.

    Nodes: each cluster's masters and workers plus its extra node groups.
    """
    bays = sa.select(sa.func.count(), sa.func.coalesce(
        sa.func.sum(BAY.c.node_count + BAY.c.master_count), 0))
    extra = sa.select(sa.func.coalesce(sa.func.sum(NODEGROUP.c.node_count),
                                       0)).where(
        NODEGROUP.c.is_default == sa.false())
    if project_id is not None:
        bays = bays.where(BAY.c.project_id == project_id)
        extra = extra.where(NODEGROUP.c.project_id == project_id)
    with api.reader() as session:
        clusters, nodes = session.execute(bays.select_from(BAY)).one()
        nodes += session.execute(extra).scalar()
    return int(clusters), int(nodes)
