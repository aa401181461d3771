"""The alembic chain and the database guarantees, on every real backend.

Each test gets an empty database of its own: a SQLite file, or a fresh
database on the machine's PostgreSQL or MariaDB (see db_servers). The
chain must build exactly the schema that the models describe, come down
again to nothing, and the guarantees that Magnum leaves to the database
(the per-bay lock, the BayModel foreign key, the heartbeat upsert) must
hold on each server.
"""

from concurrent import futures
import contextlib
import datetime
import os
import threading
import time
from unittest import mock

from alembic import autogenerate
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import operations as alembic_operations
from alembic import script as alembic_script
from oslo_config import cfg
from oslo_db import exception as db_exc
import pymysql
import pytest
import sqlalchemy as sa

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum import conf  # noqa: F401  (registers [database])
from magnum.db import api as db_api
from magnum.db import baymodels as db_baymodels
from magnum.db import bays as db_bays
from magnum.db import migration
from magnum.db import services as db_services
from magnum.db.sqlalchemy import models
from magnum.tests.functional import db_servers

CONF = cfg.CONF

ALL_BACKENDS = [
    pytest.param('sqlite', id='sqlite'),
    pytest.param('postgresql', id='postgresql',
                 marks=pytest.mark.postgresql),
    pytest.param('mysql', id='mysql', marks=pytest.mark.mysql),
]
SERVER_BACKENDS = ALL_BACKENDS[1:]

_SERVERS = {'postgresql': db_servers.PostgresDatabase,
            'mysql': db_servers.MySQLDatabase}
_CONTENDERS = 8


@contextlib.contextmanager
def _empty_database(backend, directory):
    if backend == 'sqlite':
        yield 'sqlite:///%s' % os.path.join(directory, 'magnum.sqlite')
        return
    with _SERVERS[backend]() as database:
        yield database.url


@pytest.fixture
def database(request, tmp_path):
    """Points [database] connection at an empty database; yields its URL."""
    with _empty_database(request.param, str(tmp_path)) as url:
        CONF.set_override('connection', url, 'database')
        db_api.reset()
        try:
            yield url
        finally:
            # NOTE: before the database is dropped: no pooled connection
            # may outlive it.
            db_api.reset()
            CONF.clear_override('connection', 'database')


@pytest.fixture
def migrated(database):
    migration.upgrade('head')
    return database


def _head():
    ini = os.path.join(os.path.dirname(migration.__file__), 'sqlalchemy',
                       'alembic.ini')
    scripts = alembic_script.ScriptDirectory.from_config(
        alembic_config.Config(ini))
    return scripts.get_current_head()


def _schema_differences():
    """What alembic would change to make the database match the models."""
    with db_api.get_engine().connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'compare_type': True})
        return autogenerate.compare_metadata(context, models.Base.metadata)


def _table_names():
    return set(sa.inspect(db_api.get_engine()).get_table_names())


def _context(project='project-a'):
    return magnum_context.RequestContext(project_id=project,
                                         user_id='user-of-' + project)


def _baymodel(ctx, **values):
    return db_baymodels.create_baymodel(
        ctx, dict({'coe': 'kubernetes'}, **values))


def _bay(ctx, baymodel_uuid, **values):
    return db_bays.create_bay(ctx, dict(
        {'baymodel_id': baymodel_uuid, 'provisioner': 'static',
         'status': 'CREATE_COMPLETE'}, **values))


def _race(count, work):
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    start = threading.Barrier(count)

    def contender(i):
        start.wait(timeout=30)
        return work(i)

    with futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(contender, range(count)))


# -- the alembic chain --------------------------------------------------------

@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
def test_chain_builds_the_models_schema_and_tears_it_down(database):
    models_tables = set(models.Base.metadata.tables)

    migration.upgrade('head')
    assert migration.version() == _head()
    assert _schema_differences() == []
    assert models_tables <= _table_names()

    migration.downgrade('base')
    assert migration.version() is None
    assert _table_names() - {'alembic_version'} == set()

    migration.upgrade('head')
    assert migration.version() == _head()
    assert _schema_differences() == []


@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
def test_schema_comparison_notices_index_type_and_foreign_key(database):
    # NOTE: proves that the comparison above is not blind on this backend.
    migration.upgrade('head')
    with db_api.get_engine().begin() as connection:
        ops = alembic_operations.Operations(
            alembic_migration.MigrationContext.configure(connection))
        ops.drop_index('bay_status_idx', table_name='bay')
        with ops.batch_alter_table('bay') as batch:
            batch.drop_constraint('bay_baymodel_fk', type_='foreignkey')
            batch.alter_column('status', type_=sa.String(64),
                               existing_type=sa.String(32),
                               existing_nullable=False)
    found = set()
    for difference in _schema_differences():
        # A column change comes as a list of changes, the rest as tuples.
        for change in (difference if isinstance(difference, list)
                       else [difference]):
            found.add(change[0])
    assert found == {'add_index', 'add_fk', 'modify_type'}


# -- the per-bay lock ---------------------------------------------------------

@pytest.mark.parametrize('database', SERVER_BACKENDS, indirect=True)
def test_only_one_of_racing_conductors_reserves_a_bay(migrated):
    ctx = _context()
    bay = _bay(ctx, _baymodel(ctx).uuid)

    def reserve(i):
        try:
            db_bays.reserve_bay(bay.uuid, 'conductor-%d' % i)
        except exception.BayLocked:
            return False
        return True

    # Several rounds: a race won by luck once must not hide a broken lock.
    for _ in range(5):
        won = _race(_CONTENDERS, reserve)
        winners = [i for i, ok in enumerate(won) if ok]
        assert len(winners) == 1, won
        holder = 'conductor-%d' % winners[0]
        assert db_bays.get_bay_by_uuid_unscoped(bay.uuid).reservation == \
            holder
        db_bays.release_bay(bay.uuid, holder)
        assert db_bays.get_bay_by_uuid_unscoped(bay.uuid).reservation is None


@pytest.mark.parametrize('database', SERVER_BACKENDS, indirect=True)
def test_racing_heartbeats_of_one_service_make_one_row_and_count(migrated):
    _race(_CONTENDERS,
          lambda i: db_services.report_service('conductor-1',
                                               'magnum-conductor'))
    rows = db_services.list_services()
    assert [(r.host, r.binary) for r in rows] == [
        ('conductor-1', 'magnum-conductor')]
    # Every heartbeat counts, the racing first ones included.
    assert rows[0].report_count == _CONTENDERS


# -- the BayModel foreign key -------------------------------------------------

@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
def test_deleting_a_baymodel_in_use_is_refused(migrated):
    ctx = _context()
    baymodel = _baymodel(ctx)
    _bay(ctx, baymodel.uuid)

    with pytest.raises(exception.BayModelReferenced):
        db_baymodels.destroy_baymodel(ctx, baymodel.uuid)
    assert db_baymodels.get_baymodel(ctx, baymodel.uuid).uuid == baymodel.uuid


@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
def test_database_refuses_deleting_a_baymodel_in_use(migrated):
    ctx = _context()
    baymodel = _baymodel(ctx)
    _bay(ctx, baymodel.uuid)

    with pytest.raises(db_exc.DBReferenceError):
        with db_api.writer() as session:
            session.execute(sa.delete(db_api.BAYMODEL).where(
                db_api.BAYMODEL.c.uuid == baymodel.uuid))
    # A bay created between destroy_baymodel's count and its delete: the
    # count sees none, the foreign key still says no.
    no_bays = sa.select(db_api.BAY).where(sa.false()).subquery()
    with mock.patch.object(db_baymodels, 'BAY', no_bays):
        with pytest.raises(exception.BayModelReferenced):
            db_baymodels.destroy_baymodel(ctx, baymodel.uuid)
    assert db_baymodels.get_baymodel(ctx, baymodel.uuid).uuid == baymodel.uuid


@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
def test_bay_of_a_missing_baymodel_is_refused(migrated):
    missing = '9b1c6f0e-6a4c-4c1e-9a39-3f4a1c2b7d10'
    with pytest.raises(exception.BayModelNotFound):
        _bay(_context(), missing)
    assert db_bays.list_bays(magnum_context.make_admin_context()) == []


# -- pagination with NULLs ----------------------------------------------------

@pytest.mark.parametrize('database', ALL_BACKENDS, indirect=True)
@pytest.mark.parametrize('sort_dir', ['asc', 'desc'])
def test_pages_sorted_by_a_nullable_column_return_every_row_once(
        migrated, sort_dir):
    # NOTE: each server orders NULLs its own way; the keyset pagination
    # must not lose or repeat rows at the NULL boundary on any of them.
    ctx = _context()
    for name in [None, 'b', None, 'a', 'b', None, 'c', 'a']:
        _baymodel(ctx, name=name)
    everything = db_baymodels.list_baymodels(ctx, sort_key='name',
                                             sort_dir=sort_dir)
    walked, marker = [], None
    while True:
        page = db_baymodels.list_baymodels(ctx, limit=3, marker=marker,
                                           sort_key='name', sort_dir=sort_dir)
        walked.extend(page)
        if len(page) < 3:
            break
        marker = page[-1].uuid
    assert [r.id for r in walked] == [r.id for r in everything]
    assert len(everything) == 8
    names = [r.name for r in everything]
    nulls_first = [None] * 3 + ['a', 'a', 'b', 'b', 'c']
    assert names == (nulls_first if sort_dir == 'asc'
                     else list(reversed(nulls_first)))


@pytest.mark.parametrize('database', SERVER_BACKENDS, indirect=True)
def test_a_read_sees_each_commit_made_before_it(migrated):
    """Reads run on an engine of their own whose connections autocommit
    (no ROLLBACK after each read): a read connection's next statement sees
    what another connection committed since its last one (in a transaction
    left open, MariaDB's REPEATABLE READ would show the old rows), and it
    holds no transaction between reads. Writes keep their transactions."""
    ctx = _context()
    _baymodel(ctx, name='first')
    engine = db_api._read_engine()
    assert engine is not db_api.get_engine()
    names = sa.select(db_api.BAYMODEL.c.name).order_by(db_api.BAYMODEL.c.id)
    with db_api.reader() as connection:
        assert connection.execute(names).scalars().all() == ['first']
        _baymodel(ctx, name='second')
        assert connection.execute(names).scalars().all() == [
            'first', 'second']
    # After a read, no transaction stays open on the connection: the next
    # statement starts a transaction of its own.
    with engine.connect() as connection:
        connection.execute(names).all()
        time.sleep(0.01)
        if engine.dialect.name == 'mysql':
            open_transactions = connection.execute(sa.text(
                'SELECT COUNT(*) FROM information_schema.innodb_trx '
                'WHERE trx_mysql_thread_id = CONNECTION_ID()')).scalar()
        else:
            open_transactions = connection.execute(sa.text(
                'SELECT CAST(now() < statement_timestamp() AS INTEGER)'
            )).scalar()
    assert open_transactions == 0
    # A write that fails leaves nothing: its transaction is rolled back.
    with pytest.raises(RuntimeError):
        with db_api.writer() as session:
            session.execute(sa.update(db_api.BAYMODEL).values(name='x'))
            raise RuntimeError('refused')
    assert sorted(r.name for r in db_baymodels.list_baymodels(ctx)) == [
        'first', 'second']


# -- pages read packed (MariaDB through PyMySQL) ------------------------------

_AWKWARD = 'ü😀 "q" \' \\ \n\t\x01 </a> %s {}'


def _awkward_row(table, serial, parents):
    """Values for every column of ``table`` a database can hold wrong:
    text with quotes, backslashes, control and 4-byte characters, the
    least and greatest 32-bit integers, both booleans, a timestamp; a
    foreign key names its parent's row of the same ``serial``."""
    values = {}
    for column in table.c:
        if column.autoincrement is True or (
                column.primary_key and isinstance(column.type, sa.Integer)):
            continue
        for key in column.foreign_keys:
            values[column.name] = parents[key.column.table.name][
                serial - 1][key.column.name]
            break
        else:
            values[column.name] = _awkward_value(column, serial)
    return values


def _awkward_value(column, serial):
    kind = column.type
    if isinstance(kind, models.JSONEncoded):
        return {'k%d' % serial: _AWKWARD, 'list': [1, None, True, 2.5]}
    if isinstance(kind, sa.Boolean):
        return serial % 2 == 0
    if isinstance(kind, sa.Integer):
        return (-2 ** 31, 2 ** 31 - 1)[serial % 2]
    if isinstance(kind, sa.DateTime):
        return datetime.datetime(2026, 12, 4, 13, 5, serial % 60)
    text = '%d-%s' % (serial, _AWKWARD)
    return text[:kind.length] if kind.length else text * 40


@pytest.mark.parametrize('database', ['mysql'], indirect=True)
def test_rows_read_packed_are_the_rows_read_field_by_field(migrated):
    """On MariaDB through PyMySQL a page is read as one JSON array a row
    (``magnum.db.mysql.Packed``). Every table's rows, with NULL in every
    nullable column and with awkward values in every column, read packed
    must be the rows a plain SELECT reads: the same names, values and
    types."""
    engine = db_api.get_engine()
    assert engine.dialect.driver == 'pymysql'
    parents = {}
    with engine.begin() as connection:
        for table in models.Base.metadata.sorted_tables:
            rows = [_awkward_row(table, serial, parents)
                    for serial in (1, 2)]
            rows.append({name: (value if not table.c[name].nullable
                                else None)
                         for name, value in _awkward_row(
                             table, 3, parents).items()})
            for row in rows:
                connection.execute(sa.insert(table).values(**row))
            parents[table.name] = rows
    for table in models.Base.metadata.sorted_tables:
        stmt = sa.select(table).order_by(table.c[
            'id' if 'id' in table.c else table.primary_key.columns[0].name])
        packed = db_api._packed(stmt, engine.dialect)
        assert packed is not None, table.name
        with engine.connect() as connection:
            plain = connection.execute(stmt).all()
            read = packed.rows(connection, {})
        assert len(plain) == 3, table.name
        # The awkward text went in whole (4-byte characters too).
        assert any(_AWKWARD in value for row in plain for value in row
                   if isinstance(value, str)), table.name
        assert [row._fields for row in read] == [
            row._fields for row in plain]
        assert [tuple(row) for row in read] == [tuple(row) for row in plain]
        assert [[type(value) for value in row] for row in read] == [
            [type(value) for value in row] for row in plain], table.name


@pytest.mark.parametrize('database', ['mysql'], indirect=True)
def test_pages_are_read_packed_on_mysql(migrated):
    """list_page reads packed on MariaDB (what the test above holds to the
    plain rows), a page of clusters with its join's column too."""
    ctx = _context()
    baymodel = _baymodel(ctx, labels={'a': '1'})
    bay = _bay(ctx, baymodel.uuid, name='packed')
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db_api._read_engine()
    sa.event.listen(engine, 'before_cursor_execute', seen)
    try:
        rows = db_bays.list_bays(ctx, template_labels=True)
    finally:
        sa.event.remove(engine, 'before_cursor_execute', seen)
    assert len(statements) == 1 and 'json_array(' in statements[0].lower()
    assert [(row.uuid, row.template_labels) for row in rows] == [
        (bay.uuid, {'a': '1'})]


@pytest.mark.parametrize('database', ['mysql'], indirect=True)
def test_a_read_connection_the_server_closed_is_replaced_unseen(migrated):
    """On MariaDB the read pool pings a connection only when its socket
    shows the server closed it (``mysql.ping_when_closed``): no round trip
    for a connection where the last read left it, and a connection the
    server killed is replaced before the read, which succeeds."""
    ctx = _context()
    _baymodel(ctx, name='kept')
    engine = db_api._read_engine()
    ask_id = sa.text('SELECT CONNECTION_ID()')

    def read():
        with db_api.reader() as connection:
            ident = connection.execute(ask_id).scalar()
        return ident, [r.name for r in db_baymodels.list_baymodels(ctx)]

    first, _ = read()
    pings = []
    real_ping = pymysql.connections.Connection.ping

    def counted(self, *args, **kwargs):
        pings.append(self)
        return real_ping(self, *args, **kwargs)

    with mock.patch.object(pymysql.connections.Connection, 'ping', counted):
        assert read() == (first, ['kept'])
        assert pings == []
        with sa.create_engine(engine.url, poolclass=sa.pool.NullPool,
                              isolation_level='AUTOCOMMIT').connect() as c:
            c.execute(sa.text('KILL %d' % first))
        # The server's end of the connection reaches its socket.
        time.sleep(0.2)
        second, names = read()
    assert names == ['kept']
    assert second != first
    assert len(pings) == 1
