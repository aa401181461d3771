"""Database API of node groups: the master and worker groups of a bay
(its default ones are written with it, in ``bays.create_bay``) and the
extra groups added later.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

NODEGROUP = api.NODEGROUP


def list_nodegroups(cluster_uuid, limit=None, marker=None, sort_key='id',
                    sort_dir='asc', role=None):
    """A page of one cluster's node groups (the cluster is already the
    caller's: the API looked it up in the caller's scope)."""
    column = NODEGROUP.c[sort_key]
    order = sa.desc if sort_dir == 'desc' else sa.asc
    stmt = sa.select(NODEGROUP).where(NODEGROUP.c.cluster_id == cluster_uuid)
    if role is not None:
        stmt = stmt.where(NODEGROUP.c.role == role)
    with api.reader() as session:
        if marker is not None:
            row = session.execute(sa.select(NODEGROUP).where(
                NODEGROUP.c.cluster_id == cluster_uuid,
                NODEGROUP.c.uuid == marker)).first()
            if row is None:
                raise exception.InvalidParameterValue(
                    field='marker', reason='no node group with UUID %s in '
                                           'this cluster' % marker)
            # NOTE: node groups are few per cluster; paging by id keeps the
            # order total whatever the sort key.
            stmt = stmt.where(NODEGROUP.c.id > row.id if sort_dir != 'desc'
                              else NODEGROUP.c.id < row.id)
        stmt = stmt.order_by(order(column), order(NODEGROUP.c.id))
        if limit is not None:
            stmt = stmt.limit(limit)
        return session.execute(stmt).all()


def all_nodegroups(cluster_uuid):
    with api.reader() as session:
        return session.execute(sa.select(NODEGROUP).where(
            NODEGROUP.c.cluster_id == cluster_uuid).order_by(
            NODEGROUP.c.id)).all()


def get_nodegroup(cluster_uuid, ident):
    """A node group of the cluster by UUID or name."""
    column = (NODEGROUP.c.uuid if uuidutils.is_uuid_like(ident)
              else NODEGROUP.c.name)
    with api.reader() as session:
        row = session.execute(sa.select(NODEGROUP).where(
            NODEGROUP.c.cluster_id == cluster_uuid,
            column == ident)).first()
    if row is None:
        raise exception.NodeGroupNotFound(nodegroup=ident)
    return row


def create_nodegroup(context, values):
    values = dict(values)
    values.setdefault('uuid', uuidutils.generate_uuid())
    values.setdefault('created_at', timeutils.utcnow())
    values.setdefault('user_id', context.user_id)
    return api.insert_returning(
        NODEGROUP, values,
        duplicate=lambda: exception.NodeGroupAlreadyExists(
            cluster=values['cluster_id'], name=values['name']),
        reference=lambda: exception.BayNotFound(bay=values['cluster_id']))


def update_nodegroup(uuid, values):
    return api.update_returning(
        NODEGROUP, uuid, values,
        lambda: exception.NodeGroupNotFound(nodegroup=uuid))


def update_nodegroups_of_cluster(cluster_uuid, values):
    """Write ``values`` (status...) to all of a cluster's node groups."""
    values = dict(values, updated_at=timeutils.utcnow())
    with api.writer() as session:
        session.execute(sa.update(NODEGROUP).where(
            NODEGROUP.c.cluster_id == cluster_uuid).values(**values))


def destroy_nodegroup(uuid):
    api.delete_by_key(NODEGROUP, uuid,
                      lambda: exception.NodeGroupNotFound(nodegroup=uuid))
