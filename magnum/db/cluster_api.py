"""Database API of the cluster era: node groups, quotas and statistics.

Bays and BayModels (the same rows as Clusters and ClusterTemplates) stay in
``magnum.db.api``; this module holds what only the later API has.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api
from magnum.db import quotas as db_quotas

BAY = api.BAY
NODEGROUP = api.NODEGROUP
QUOTA = api.QUOTA
CLUSTER_RESOURCE = db_quotas.CLUSTER_RESOURCE
RESOURCES = (CLUSTER_RESOURCE,)


# -- node groups -------------------------------------------------------------

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
    with api.writer() as session:
        result = session.execute(
            sa.delete(NODEGROUP).where(NODEGROUP.c.uuid == uuid))
    if not result.rowcount:
        raise exception.NodeGroupNotFound(nodegroup=uuid)


# -- quotas ------------------------------------------------------------------

def list_quotas(context, limit=None, marker=None, sort_key='id',
                sort_dir='asc', all_projects=False):
    """The quotas with a limit of their own: the caller's project's, or
    every project's for ``all_projects``."""
    order = sa.desc if sort_dir == 'desc' else sa.asc
    stmt = sa.select(QUOTA).where(QUOTA.c.hard_limit.is_not(None))
    if not all_projects:
        stmt = stmt.where(QUOTA.c.project_id == context.project_id)
    if marker is not None:
        stmt = stmt.where(QUOTA.c.id > marker if sort_dir != 'desc'
                          else QUOTA.c.id < marker)
    stmt = stmt.order_by(order(QUOTA.c[sort_key]), order(QUOTA.c.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    with api.reader() as session:
        return session.execute(stmt).all()


def get_quota(project_id, resource):
    """The row with a limit of its own, or None."""
    with api.reader() as session:
        return session.execute(sa.select(QUOTA).where(
            QUOTA.c.project_id == project_id, QUOTA.c.resource == resource,
            QUOTA.c.hard_limit.is_not(None))).first()


def create_quota(project_id, resource, hard_limit):
    db_quotas.ensure_quota_row(project_id, resource)
    now = timeutils.utcnow()
    with api.writer() as session:
        result = session.execute(sa.update(QUOTA).where(
            QUOTA.c.project_id == project_id, QUOTA.c.resource == resource,
            QUOTA.c.hard_limit.is_(None)).values(
            hard_limit=hard_limit, created_at=now, updated_at=None))
        if not result.rowcount:
            raise exception.QuotaAlreadyExists(project=project_id,
                                               resource=resource)
    return get_quota(project_id, resource)


def _set_limit(project_id, resource, hard_limit):
    """Change the limit of a row that has one of its own."""
    with api.writer() as session:
        result = session.execute(sa.update(QUOTA).where(
            QUOTA.c.project_id == project_id, QUOTA.c.resource == resource,
            QUOTA.c.hard_limit.is_not(None)).values(
            hard_limit=hard_limit, updated_at=timeutils.utcnow()))
    if not result.rowcount:
        raise exception.QuotaNotFound(project=project_id, resource=resource)


def update_quota(project_id, resource, hard_limit):
    _set_limit(project_id, resource, hard_limit)
    return get_quota(project_id, resource)


def delete_quota(project_id, resource):
    """Back to the configured default. NOTE: the row stays, without a
    limit, as the lock of the project's creates."""
    _set_limit(project_id, resource, None)


# -- statistics ------------------------------------------------------------

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
