"""Database API of bay certificates.

NOTE: the *_key columns arrive and leave encrypted; nothing here sees a
private key in clear.
"""

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import api

BAY_CERT = api.BAY_CERT


def get_bay_certificate(bay_uuid):
    """The bay's certificate row, or None."""
    with api.reader() as session:
        return session.execute(sa.select(BAY_CERT).where(
            BAY_CERT.c.bay_uuid == bay_uuid)).first()


def create_bay_certificate(bay_uuid, values):
    """Insert the bay's first certificates; if another conductor already
    did, keep theirs. Returns the row that stands.
    """
    values = dict(values, bay_uuid=bay_uuid, generation=1,
                  created_at=timeutils.utcnow())
    with api.writer() as session:
        try:
            session.execute(sa.insert(BAY_CERT).values(**values))
        except db_exc.DBDuplicateEntry:
            pass
        except db_exc.DBReferenceError:
            raise exception.BayNotFound(bay=bay_uuid)
    return get_bay_certificate(bay_uuid)


def update_bay_certificate(bay_uuid, values, generation=None):
    """Change the row; with ``generation``, only while it is that one (a
    rotation). Returns the new row, or None when the condition failed.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    stmt = sa.update(BAY_CERT).where(BAY_CERT.c.bay_uuid == bay_uuid)
    if generation is not None:
        stmt = stmt.where(BAY_CERT.c.generation == generation)
        values['generation'] = generation + 1
    with api.writer() as session:
        if not session.execute(stmt.values(**values)).rowcount:
            return None
    return get_bay_certificate(bay_uuid)
