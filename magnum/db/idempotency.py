"""Database API of idempotency keys: which bay a keyed create made."""

import datetime

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api
from magnum.db.sqlalchemy import models

KEY = models.IdempotencyKey.__table__


def _fresh_since(window):
    return timeutils.utcnow() - datetime.timedelta(seconds=window)


def find(project_id, key, window):
    """The project's row of ``key`` younger than ``window`` seconds, or
    None."""
    with api.reader() as session:
        return session.execute(sa.select(KEY).where(
            KEY.c.project_id == project_id, KEY.c.key == key,
            KEY.c.created_at >= _fresh_since(window))).first()


def remember_in(session, project_id, key, digest, bay_uuid, window):
    """Record in the caller's transaction (the bay's insert) that ``key``
    made ``bay_uuid``. A row of the key older than the window is replaced;
    a younger one (a create with the same key that committed first) is
    IdempotencyKeyTaken, which rolls the caller's insert back.
    """
    session.execute(sa.delete(KEY).where(
        KEY.c.project_id == project_id, KEY.c.key == key,
        KEY.c.created_at < _fresh_since(window)))
    try:
        session.execute(sa.insert(KEY).values(
            project_id=project_id, key=key, digest=digest,
            bay_uuid=bay_uuid, created_at=timeutils.utcnow()))
    except db_exc.DBDuplicateEntry:
        raise exception.IdempotencyKeyTaken(key=key)
