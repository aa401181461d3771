"""Database API of services: the heartbeat row of each running magnum
process (the conductors' hash ring reads them)."""

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

SERVICE = api.SERVICE


@oslo_db_api.wrap_db_retry(
    max_retries=5, retry_on_deadlock=True,
    exception_checker=lambda e: isinstance(e, db_exc.DBDuplicateEntry))
def report_service(host, binary):
    """Record a heartbeat: create the row, or bump its counter.

    Two first heartbeats of one service can race to insert; the loser (a
    duplicate, or a deadlock on MariaDB's gap locks) tries again and then
    finds the row to update.
    """
    now = timeutils.utcnow()
    with api.writer() as session:
        result = session.execute(
            sa.update(SERVICE)
            .where(SERVICE.c.host == host, SERVICE.c.binary == binary)
            .values(report_count=SERVICE.c.report_count + 1,
                    last_seen_up=now, updated_at=now, forced_down=False))
        if not result.rowcount:
            session.execute(sa.insert(SERVICE).values(
                host=host, binary=binary, report_count=1, last_seen_up=now,
                created_at=now, disabled=False, forced_down=False))


def leave_service(host, binary):
    """A service stopping cleanly: reported down at once (``forced_down``)
    rather than after ``service_down_time``; its next heartbeat clears it.
    """
    with api.writer() as session:
        session.execute(
            sa.update(SERVICE)
            .where(SERVICE.c.host == host, SERVICE.c.binary == binary)
            .values(forced_down=True, updated_at=timeutils.utcnow()))


def list_services_of(binary):
    """Every heartbeat row of ``binary`` (for the hash ring), by host."""
    with api.reader() as session:
        return session.execute(
            sa.select(SERVICE).where(SERVICE.c.binary == binary)
            .order_by(SERVICE.c.host)).all()


def get_service(service_id):
    return api.get_by_key(
        SERVICE, service_id,
        lambda: exception.MagnumServiceNotFound(service=service_id),
        key_column='id')


def update_service(service_id, values):
    """Change a heartbeat row (``disabled``, ``disabled_reason``)."""
    return api.update_returning(
        SERVICE, service_id, values,
        lambda: exception.MagnumServiceNotFound(service=service_id),
        key_column='id')


def list_services(limit=None, marker=None, sort_key='id', sort_dir='asc'):
    with api.reader() as session:
        marker_row = None
        if marker is not None:
            marker_row = session.execute(sa.select(SERVICE).where(
                SERVICE.c.id == marker)).first()
            if marker_row is None:
                raise exception.InvalidParameterValue(
                    field='marker', reason='no service with id %s' % marker)
        return api.paginate(session, None, SERVICE, limit, marker_row,
                            sort_key, sort_dir, scoped=False)
