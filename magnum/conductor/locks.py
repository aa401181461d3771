"""The per-bay exclusive lock: one conditional UPDATE on ``reservation``."""

import contextlib
import time

from magnum.common import exception
from magnum.db import bays as db_bays
from magnum.objects import bay as bay_obj

# How long a conductor's message (an action to run, a CA to rotate) waits
# for a bay's lock.
# NOTE: the reconciler holds a bay's lock only for a moment at a time, so a
# message that arrives meanwhile waits for it rather than being dropped.
LOCK_WAIT = 10


def _reserve(bay_uuid, host, wait):
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return db_bays.reserve_bay(bay_uuid, host)
        except exception.BayLocked:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextlib.contextmanager
def bay_lock(context, bay_uuid, host, wait=0):
    """Hold the bay's reservation for ``host``; yields the bay as it is now.

    If another holder has it, tries again for up to ``wait`` seconds, then
    raises BayLocked. Gives the reservation back on exit, on error too.
    """
    row = _reserve(bay_uuid, host, wait)
    try:
        yield bay_obj.Bay.from_row(context, row)
    finally:
        db_bays.release_bay(bay_uuid, host)
