"""SQLite set up for many writers in one process (magnum-all's default).

SQLite lets one connection write at a time, to the whole file. oslo.db
begins every transaction with a deferred ``BEGIN``, which takes no lock
until the first statement; a transaction that has read and then writes
(a count before a delete; an INSERT, which reads first) must upgrade its
lock, and when another connection wrote meanwhile, or waits to commit,
SQLite answers "database is locked" at once: waiting could deadlock, so
the busy timeout does not apply. Under concurrent writes, magnum-all
answered valid requests with that (a 503).

So each write transaction (``with api.writer()``) begins with ``BEGIN
IMMEDIATE``: it takes the write lock first, while it holds nothing and
can wait for it. Each connection runs in WAL mode, where readers and the
writer do not wait for each other, with a busy timeout for the writers'
wait. After that, "locked" means a writer waited out the timeout: its
``BEGIN`` is tried again a few times, and if it still fails the error
becomes oslo.db's ``DBDeadlock``, which the API answers with a 503 that
says the database is busy rather than unreachable.
"""

import contextlib
import threading

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
import sqlalchemy as sa

# Milliseconds a connection waits for another's lock before SQLite gives
# up with "database is locked".
BUSY_TIMEOUT_MS = 5000

# NOTE: one write at a time lasts a few milliseconds, so a wait of seconds
# means a burst; three more tries, 0.1 to 0.4 s apart with jitter, give a
# write about 20 s in all before the API answers 503.
_retry_when_busy = oslo_db_api.wrap_db_retry(
    max_retries=3, retry_interval=0.1, inc_retry_interval=True,
    max_retry_interval=1, retry_on_deadlock=True)

_WRITE = threading.local()

# SQLite's words for SQLITE_BUSY, whatever the extended code (and only
# for it: SQLITE_LOCKED, a conflict inside one connection, is "database
# table is locked").
_BUSY = 'database is locked'


@contextlib.contextmanager
def write_begins():
    """Within the block, a transaction this thread begins is a write."""
    _WRITE.begins = True
    try:
        yield
    finally:
        _WRITE.begins = False


def prepare(engine):
    """Set up a SQLite engine of oslo.db's for concurrent writers."""
    sa.event.listen(engine, 'connect', _on_connect)
    # NOTE: both before oslo.db's own: its begin listener would emit a
    # plain BEGIN, and its error filter would raise "locked" untranslated,
    # each ending the chain.
    _listen_first(engine, engine.dispatch, 'begin', _on_begin)
    _listen_first(engine, engine.dialect.dispatch, 'handle_error', _on_error)


def _listen_first(engine, dispatch, name, fn):
    """Listen to ``name`` before the listeners already there.

    NOTE: SQLAlchemy drops ``insert=True`` for connection and dialect
    events, so the others are taken off and put back after ``fn``.
    """
    others = list(getattr(dispatch, name))
    for other in others:
        sa.event.remove(engine, name, other)
    sa.event.listen(engine, name, fn)
    for other in others:
        sa.event.listen(engine, name, other)


def _on_connect(dbapi_connection, record):
    # The timeout first: switching to WAL may itself wait for a lock.
    dbapi_connection.execute('PRAGMA busy_timeout = %d' % BUSY_TIMEOUT_MS)
    dbapi_connection.execute('PRAGMA journal_mode = WAL')


def _on_begin(connection):
    if not getattr(_WRITE, 'begins', False):
        return  # a read: oslo.db's deferred BEGIN
    _retry_when_busy(connection.exec_driver_sql)('BEGIN IMMEDIATE')
    # NOTE: oslo.db's mark of a transaction already begun; its listener,
    # next, then emits no BEGIN of its own (and drops the mark at the end).
    connection.info['in_transaction'] = True


def _on_error(context):
    error = context.original_exception
    # NOTE: the dialect's DBAPI module is sqlite3: imported by SQLAlchemy
    # for a SQLite engine only, not by every process that imports this.
    if isinstance(error, context.dialect.dbapi.OperationalError) and (
            str(error) == _BUSY):
        raise db_exc.DBDeadlock(context.sqlalchemy_exception or error)
