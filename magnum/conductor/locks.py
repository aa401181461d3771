"""The per-bay exclusive lock: one conditional UPDATE on ``reservation``."""

import contextlib

from magnum.db import api as db_api
from magnum.objects import bay as bay_obj


@contextlib.contextmanager
def bay_lock(context, bay_uuid, host):
    """Hold the bay's reservation for ``host``; yields the bay as it is now.

    Raises BayLocked at once if another holder has it (never waits), and
    gives it back on exit, on error too.
    """
    row = db_api.reserve_bay(bay_uuid, host)
    try:
        yield bay_obj.Bay.from_row(context, row)
    finally:
        db_api.release_bay(bay_uuid, host)
