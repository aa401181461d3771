"""Database API: the engine and its transactions, the tables, and the
lookups, pages, inserts, updates and deletes that the tables share.

The queries themselves live in one module a resource, named for what it
holds: ``baymodels``, ``bays`` (and their reservations), ``nodes``,
``services``, ``containers``, ``certificates``, ``nodegroups``, ``quotas``
and ``actions``.

Reads use SQLAlchemy Core selects and hand back ``Row`` objects (attribute
and mapping access, no ORM identity map): the API's collection reads stay
close to the cost of a raw select. Writes are single statements, so the
per-bay lock is one conditional UPDATE. On SQLite, the engine is set up for
many writers in one process (``magnum.db.sqlite``).
"""

import contextlib
import functools
import threading

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import exception
from magnum.db import sqlite
from magnum.db.sqlalchemy import models

_CONTEXT = threading.local()
_FACADE = None
# (the transaction factory, the engine reads use): see _read_engine.
_READS = None
_READS_MADE = threading.Lock()

BAYMODEL = models.BayModel.__table__
BAY = models.Bay.__table__
SERVICE = models.MagnumService.__table__
NODE = models.Node.__table__
CONTAINER = models.Container.__table__
BAY_CERT = models.BayCertificate.__table__
ACTION = models.Action.__table__
NODEGROUP = models.NodeGroup.__table__
QUOTA = models.Quota.__table__


def _facade():
    """This process's transaction factory, configured from [database]."""
    global _FACADE
    if _FACADE is None:
        facade = enginefacade.transaction_context()
        # NOTE: SQLite enforces foreign keys only when asked, per connection.
        # thread_checkin sleeps at every connection check-in so eventlet
        # can switch; Magnum runs on threads, and it cost ~80 us a request.
        facade.configure(sqlite_fk=True, thread_checkin=False)
        # NOTE: the engines are made now rather than at the first
        # transaction, so that they hand out no connection before their
        # listeners are in place.
        for engine in {facade.writer.get_engine(),
                       facade.reader.get_engine()}:
            if engine.dialect.name == 'sqlite':
                sqlite.prepare(engine)
        _FACADE = facade
    return _FACADE


def _autocommit_reads():
    """An engine of its own for reads, whose connections autocommit.

    NOTE: a read on a connection that is not autocommit opens a transaction
    that must be rolled back when the connection goes back to the pool: a
    second round trip to the database on every read (a fifth of a GET one
    on MariaDB). In autocommit nothing is left open, and SQLAlchemy skips
    the ROLLBACK (skip_autocommit_rollback). Each statement then sees what
    is committed when it runs, as every read does on PostgreSQL's default
    READ COMMITTED. Writes keep their transactions: their engine is not
    this one. The engine is oslo.db's, configured from [database] as the
    writer's is, with the slave_connection if set.
    """
    facade = enginefacade.transaction_context()
    facade.configure(thread_checkin=False)
    engine = facade.reader.get_engine()

    @sa.event.listens_for(engine, 'connect')
    def autocommit(dbapi_connection, record):
        engine.dialect.set_isolation_level(dbapi_connection, 'AUTOCOMMIT')

    @sa.event.listens_for(engine, 'checkin')
    def forget_result(dbapi_connection, record):
        # NOTE: PyMySQL keeps the last result (every row of it) on the
        # connection until its next command; the ROLLBACK was that command.
        # Without it, an idle connection held the last page read (~4 MiB
        # for a detail list of 1,000) until its next checkout. A buffered
        # result (all ours are) is complete once read.
        result = getattr(dbapi_connection, '_result', None)
        if result is not None and not getattr(
                result, 'unbuffered_active', False) and not getattr(
                result, 'has_next', False):
            dbapi_connection._result = None

    engine.dialect.skip_autocommit_rollback = True
    if engine.dialect.driver == 'pymysql':
        # NOTE: imported only here: PyMySQL (and the cryptography it
        # imports) is not for a worker on another database.
        from magnum.db import mysql
        mysql.prepare(engine)
        mysql.ping_when_closed(engine)
    # The connections oslo.db opened to test the engines predate the
    # listener.
    facade.dispose_pool()
    return engine


def _read_engine():
    """The engine of reads: on MySQL and PostgreSQL, autocommit's
    (``_autocommit_reads``); on SQLite, the factory's reader (its
    connections are set up by ``magnum.db.sqlite``)."""
    global _READS
    facade = _facade()
    reads = _READS
    if reads is None or reads[0] is not facade:
        # NOTE: one engine (and pool) a process, whichever thread asks
        # first.
        with _READS_MADE:
            reads = _READS
            if reads is None or reads[0] is not facade:
                engine = facade.reader.get_engine()
                if engine.dialect.name in ('mysql', 'postgresql'):
                    engine = _autocommit_reads()
                reads = _READS = (facade, engine)
    return reads[1]


def reader():
    """A connection for reads (the [database] slave_connection if set),
    in autocommit (``_autocommit_reads``).

    NOTE: a plain Core connection: every query here is one Core statement,
    and the transaction scopes of enginefacade (or an ORM session) cost
    ~100 us a request, a tenth of a GET, for nothing.
    """
    return _read_engine().connect()


@contextlib.contextmanager
def writer():
    """A write transaction, committed when the block ends (rolled back on
    an error); a block inside another joins its transaction. On SQLite it
    takes the database's write lock as it begins (``magnum.db.sqlite``).
    """
    with contextlib.ExitStack() as scope:
        with sqlite.write_begins():
            session = scope.enter_context(
                _facade().writer.connection.using(_CONTEXT))
        yield session


def get_engine():
    return _facade().writer.get_engine()


def dispose_pool():
    """Close pooled connections (before a fork)."""
    if _FACADE is not None:
        _FACADE.dispose_pool()
    if _READS is not None:
        _READS[1].dispose()


def reset():
    """Forget the engines; the next call reads [database] again (tests)."""
    global _FACADE, _READS
    dispose_pool()
    _FACADE = _READS = None


# -- scoping and lookup ------------------------------------------------------

def _sees_all(context, by_uuid=False):
    return context.is_admin and (by_uuid or context.all_projects)


def _select(table, extend):
    """SELECT the rows of ``table``; ``extend(stmt)``, where given, adds
    what the caller reads with them (a join's columns)."""
    stmt = sa.select(table)
    return stmt if extend is None else extend(stmt)


@functools.lru_cache(maxsize=None)
def _lookup_statement(table, by_uuid, scoped, public, extend=None):
    """SELECT one row by UUID or name, built once per shape.

    NOTE: building a statement costs more than running it on a hot GET;
    the parameters are bound at execution.
    """
    column = table.c.uuid if by_uuid else table.c.name
    stmt = _select(table, extend).where(column == sa.bindparam('ident'))
    if scoped:
        mine = table.c.project_id == sa.bindparam('project_id')
        if public:
            mine = sa.or_(mine, table.c.public == sa.true())
        stmt = stmt.where(mine)
    return stmt.limit(2)


def get_one(context, table, ident, not_found, resource, public=False,
            extend=None):
    """A row the caller may see, by UUID or by name; a name shared by
    several rows is a 409. ``not_found`` makes the exception raised when no
    row matches. ``extend``: see ``_select`` (a function of the module,
    so that the statement is built once).
    """
    with reader() as session:
        if '\x00' in ident or not ident.isprintable():
            raise not_found()  # no row is named so; some databases choke
        by_uuid = uuidutils.is_uuid_like(ident)
        scoped = not _sees_all(context, by_uuid)
        stmt = _lookup_statement(table, by_uuid, scoped, public, extend)
        params = {'ident': ident}
        if scoped:
            params['project_id'] = context.project_id
        rows = _rows(session, stmt, params)
        if not rows:
            raise not_found()
        if len(rows) > 1:
            raise exception.AmbiguousName(resource=resource, name=ident)
        return rows[0]


@functools.lru_cache(maxsize=None)
def _page_statement(table, scoped, public, sort_key, sort_dir, marker_kind,
                    limited, extend=None, equal=()):
    """One page of keyset pagination on (sort_key, id), built once per shape.

    ``marker_kind`` is None (first page), 'null' (the marker row's sort
    value is NULL) or 'value'. NULLs come first when ascending.

    NOTE: each backend orders NULLs its own way, so the order is spelled
    out with ``column IS NOT NULL`` as the leading key.
    """
    stmt = _select(table, extend)
    if scoped:
        mine = table.c.project_id == sa.bindparam('project_id')
        if public:
            mine = sa.or_(mine, table.c.public == sa.true())
        stmt = stmt.where(mine)
    column = table.c[sort_key]
    asc = sort_dir != 'desc'
    order = sa.asc if asc else sa.desc
    if sort_key == 'id':
        stmt = stmt.order_by(order(table.c.id))
    else:
        stmt = stmt.order_by(order(column.is_not(None)), order(column),
                             order(table.c.id))
    if marker_kind is not None:
        marker_id = sa.bindparam('marker_id')
        after_id = (table.c.id > marker_id) if asc else (
            table.c.id < marker_id)
        if sort_key == 'id':
            cond = after_id
        elif marker_kind == 'null':
            same = sa.and_(column.is_(None), after_id)
            cond = sa.or_(same, column.is_not(None)) if asc else same
        else:
            value = sa.bindparam('marker_value', type_=column.type)
            beyond = (column > value) if asc else (column < value)
            later = sa.and_(column.is_not(None),
                            sa.or_(beyond,
                                   sa.and_(column == value, after_id)))
            cond = later if asc else sa.or_(later, column.is_(None))
        stmt = stmt.where(cond)
    for name in equal:
        stmt = stmt.where(table.c[name] == sa.bindparam(name))
    if limited:
        stmt = stmt.limit(sa.bindparam('limit'))
    return stmt


def _rows(connection, stmt, params):
    """``connection.execute(stmt, params).all()``, read packed where
    ``_packed`` can (``stmt``: one a function here built and keeps)."""
    packed = _packed(stmt, connection.dialect)
    if packed is None:
        return connection.execute(stmt, params).all()
    return packed.rows(connection, params)


@functools.lru_cache(maxsize=64)
def _packed(stmt, dialect):
    """``stmt`` read as one JSON array a row, on MySQL through PyMySQL
    (``magnum.db.mysql.Packed``); None elsewhere."""
    if dialect.name != 'mysql' or dialect.driver != 'pymysql':
        return None
    from magnum.db import mysql
    return mysql.packed(stmt, dialect)


def paginate(session, context, table, limit, marker, sort_key, sort_dir,
             public=False, scoped=True, equal=None, extend=None):
    """A page of the rows the caller may see, after ``marker`` (a row);
    ``equal`` ({column: value}) narrows it to the rows with those values
    (each bound under its column's name, so not project_id, marker_id,
    marker_value or limit); ``extend``: see ``_select``.
    """
    scoped = scoped and not _sees_all(context)
    params = dict(equal or {})
    if scoped:
        params['project_id'] = context.project_id
    marker_kind = None
    if marker is not None:
        value = marker._mapping[sort_key]
        marker_kind = 'null' if value is None else 'value'
        params.update(marker_id=marker.id, marker_value=value)
    if limit is not None:
        params['limit'] = limit
    stmt = _page_statement(table, scoped, public, sort_key, sort_dir,
                           marker_kind, limit is not None, extend,
                           tuple(sorted(equal or ())))
    return _rows(session, stmt, params)


def _marker_row(session, context, table, marker, resource, public=False):
    if marker is None:
        return None
    # The marker must be a row of the page's own scope.
    scoped = not _sees_all(context)
    params = {'ident': marker}
    if scoped:
        params['project_id'] = context.project_id
    row = session.execute(_lookup_statement(table, True, scoped, public),
                          params).first()
    if row is None:
        raise exception.InvalidParameterValue(
            field='marker', reason='no %s with UUID %s' % (resource, marker))
    return row


def list_page(context, table, resource, limit, marker, sort_key, sort_dir,
              public=False, equal=None, extend=None):
    """A page of the rows the caller may see, after the one whose UUID is
    ``marker``; ``resource`` names the rows in the error of a bad marker;
    ``extend``: see ``_select``.
    """
    with reader() as session:
        marker_row = _marker_row(session, context, table, marker, resource,
                                 public=public)
        return paginate(session, context, table, limit, marker_row,
                        sort_key, sort_dir, public=public, equal=equal,
                        extend=extend)


def new_row_values(context, values):
    values = dict(values)
    values.setdefault('uuid', uuidutils.generate_uuid())
    values.setdefault('project_id', context.project_id)
    values.setdefault('user_id', context.user_id)
    values.setdefault('created_at', timeutils.utcnow())
    return values


# -- the shapes every table repeats -------------------------------------------
# NOTE: ``not_found``, ``duplicate`` and ``reference`` make the exception to
# raise (a lambda): it is built only when raised, from the values as they
# are then.

def get_by_key(table, key, not_found, key_column='uuid'):
    """The row whose ``key_column`` is ``key``, of any project."""
    with reader() as session:
        row = session.execute(
            sa.select(table).where(table.c[key_column] == key)).first()
    if row is None:
        raise not_found()
    return row


def insert(session, table, values, duplicate=None, reference=None):
    """INSERT ``values`` in the caller's transaction. A unique key already
    taken raises ``duplicate()``, a foreign key to no row ``reference()``;
    oslo.db's own error where that one is None.
    """
    try:
        session.execute(sa.insert(table).values(**values))
    except db_exc.DBDuplicateEntry:
        if duplicate is None:
            raise
        raise duplicate()
    except db_exc.DBReferenceError:
        if reference is None:
            raise
        raise reference()


def insert_returning(table, values, duplicate=None, reference=None):
    """``insert`` in a transaction of its own; returns the new row."""
    with writer() as session:
        insert(session, table, values, duplicate, reference)
        return session.execute(sa.select(table).where(
            table.c.uuid == values['uuid'])).one()


def update_returning(table, key, values, not_found, key_column='uuid'):
    """UPDATE the row whose ``key_column`` is ``key`` with ``values`` and
    ``updated_at``; returns the new row.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    column = table.c[key_column]
    with writer() as session:
        result = session.execute(
            sa.update(table).where(column == key).values(**values))
        if not result.rowcount:
            raise not_found()
        return session.execute(sa.select(table).where(column == key)).one()


def delete_by_key(table, key, not_found, key_column='uuid'):
    """DELETE the row whose ``key_column`` is ``key``."""
    with writer() as session:
        result = session.execute(
            sa.delete(table).where(table.c[key_column] == key))
    if not result.rowcount:
        raise not_found()
