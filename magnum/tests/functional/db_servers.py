"""Throw-away databases on the machine's PostgreSQL and MariaDB servers.

Each fixture creates a database with a fresh, unique name when it is set up
and drops it on clean-up, so tests (and test processes running side by side)
never see each other's rows::

    with db_servers.PostgresDatabase() as db:
        CONF.set_override('connection', db.url, 'database')

or, in a testtools test, ``db = self.useFixture(db_servers.MySQLDatabase())``.

``url`` is the SQLAlchemy URL of the new database, ready for
``[database] connection`` or for a service's configuration file; ``name`` is
the database's name.

When a server does not answer, setting up the fixture skips the test with
the reason (``ServerUnavailable``, a skip to pytest, testtools and stestr
alike), unless the ``CI`` environment variable is set: under CI a missing
server fails the test, so it can never pass by skipping.
``tools/services.sh`` starts the servers.
"""

import os
import unittest
import uuid

import fixtures
import pytest
import sqlalchemy as sa
from sqlalchemy import pool

POSTGRES_SERVER = 'postgresql+psycopg2://postgres@127.0.0.1:5432'
MYSQL_SERVER = 'mysql+pymysql://root@127.0.0.1:3306'

# Seconds to wait for a server to accept a connection.
_CONNECT_TIMEOUT = 5


class ServerUnavailable(pytest.skip.Exception, unittest.SkipTest):
    """Skips the test under pytest, testtools and stestr alike."""


def _check_reachable(engine, what):
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as e:
        reason = '%s is not reachable: %s' % (what, e.orig or e)
        if os.environ.get('CI'):
            pytest.fail('%s (CI is set, so this is a failure, not a skip; '
                        'tools/services.sh starts the servers)' % reason,
                        pytrace=False)
        raise ServerUnavailable(reason)


class _ServerDatabase(fixtures.Fixture):
    """A uniquely named database, created on set-up and dropped on clean-up.

    Subclasses say how to reach the server and spell the SQL.
    """

    server = None          # server URL, without a database
    admin_database = ''    # database the admin connection uses
    url_query = ''         # appended to every URL (e.g. '?charset=utf8mb4')
    kind = None            # the server's name, for messages
    create_sql = 'CREATE DATABASE %s'

    def __init__(self, prefix='magnum_test'):
        super().__init__()
        self.prefix = prefix
        self.name = None
        self.url = None

    def _admin_engine(self):
        return sa.create_engine(
            '%s/%s%s' % (self.server, self.admin_database, self.url_query),
            poolclass=pool.NullPool, isolation_level='AUTOCOMMIT',
            connect_args={'connect_timeout': _CONNECT_TIMEOUT})

    def setUp(self):
        # NOTE: checked here, before Fixture.setUp, which would wrap the
        # skip in MultipleExceptions and turn it into an error.
        engine = self._admin_engine()
        try:
            _check_reachable(engine, '%s at %s:%s' % (
                self.kind, engine.url.host, engine.url.port))
        finally:
            engine.dispose()
        super().setUp()

    def _setUp(self):
        # NOTE: lower case, letters, digits and "_" only: a valid unquoted
        # identifier on both servers, and well under their 63/64 limits.
        self.name = '%s_%d_%s' % (self.prefix, os.getpid(),
                                  uuid.uuid4().hex[:12])
        engine = self._admin_engine()
        self.addCleanup(engine.dispose)
        with engine.connect() as connection:
            connection.exec_driver_sql(self.create_sql % self.name)
        self.addCleanup(self._drop, engine)
        self.url = '%s/%s%s' % (self.server, self.name, self.url_query)

    def _drop(self, engine):
        with engine.connect() as connection:
            self._drop_database(connection)

    def _drop_database(self, connection):
        raise NotImplementedError


class PostgresDatabase(_ServerDatabase):
    """A fresh database on PostgreSQL at 127.0.0.1:5432 (user postgres)."""

    server = POSTGRES_SERVER
    admin_database = 'postgres'
    kind = 'PostgreSQL'

    def _drop_database(self, connection):
        # NOTE: FORCE ends connections a test left open (a pool not yet
        # disposed), which would otherwise make the DROP fail.
        connection.exec_driver_sql(
            'DROP DATABASE IF EXISTS %s WITH (FORCE)' % self.name)


class MySQLDatabase(_ServerDatabase):
    """A fresh utf8mb4 database on MariaDB at 127.0.0.1:3306 (user root)."""

    server = MYSQL_SERVER
    url_query = '?charset=utf8mb4'
    kind = 'MariaDB'
    create_sql = 'CREATE DATABASE %s CHARACTER SET utf8mb4'

    def _drop_database(self, connection):
        # NOTE: a connection a test left open inside a transaction holds
        # metadata locks that would make the DROP wait forever; end those
        # connections first.
        ids = connection.execute(sa.text(
            'SELECT id FROM information_schema.processlist '
            'WHERE db = :name AND id <> CONNECTION_ID()'),
            {'name': self.name}).scalars().all()
        for thread_id in ids:
            try:
                connection.exec_driver_sql('KILL %d' % thread_id)
            except sa.exc.OperationalError:
                pass  # it ended by itself meanwhile
        connection.exec_driver_sql('DROP DATABASE IF EXISTS %s' % self.name)
