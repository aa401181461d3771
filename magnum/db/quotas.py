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
