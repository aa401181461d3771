"""Database API of quotas: the per-project limits, and the row each
project's creates lock.
"""

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

BAY = api.BAY
QUOTA = api.QUOTA
CLUSTER_RESOURCE = 'Cluster'
RESOURCES = (CLUSTER_RESOURCE,)


@oslo_db_api.wrap_db_retry(
    max_retries=5, retry_on_deadlock=True,
    exception_checker=lambda e: isinstance(e, db_exc.DBDuplicateEntry))
def ensure_quota_row(project_id, resource):
    """The row create_bay locks; one with no limit of its own if new."""
    where = sa.and_(QUOTA.c.project_id == project_id,
                    QUOTA.c.resource == resource)
    with api.reader() as session:
        if session.execute(sa.select(QUOTA.c.id).where(where)).first():
            return
    with api.writer() as session:
        if not session.execute(sa.select(QUOTA.c.id).where(where)).first():
            session.execute(sa.insert(QUOTA).values(
                project_id=project_id, resource=resource, hard_limit=None,
                created_at=timeutils.utcnow()))


def check_cluster_quota(session, project_id):
    where = sa.and_(QUOTA.c.project_id == project_id,
                    QUOTA.c.resource == CLUSTER_RESOURCE)
    # The lock: an UPDATE holds the row (PostgreSQL, MariaDB) or the
    # database (SQLite) until this transaction ends.
    session.execute(sa.update(QUOTA).where(where).values(
        hard_limit=QUOTA.c.hard_limit))
    limit = session.execute(sa.select(QUOTA.c.hard_limit).where(
        where)).scalar()
    if limit is None:
        limit = cfg.CONF.quotas.max_clusters_per_project
    count = session.execute(sa.select(sa.func.count()).select_from(BAY)
                            .where(BAY.c.project_id == project_id)).scalar()
    if count >= limit:
        raise exception.QuotaExceeded(project=project_id, limit=limit,
                                      resource=CLUSTER_RESOURCE,
                                      count=count)


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
    ensure_quota_row(project_id, resource)
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
