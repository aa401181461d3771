"""Shared unit-test fixtures: configuration and a database built once.

The schema is built by the real alembic chain once per test run into a
SQLite file; each test starts from empty tables.
"""

import atexit
import os
import shutil
import tempfile
import threading

import fixtures
from futurist import _thread as futurist_thread
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import sqlalchemy as sa
import testtools

from magnum.common import context as magnum_context
from magnum.common import policy
from magnum.conductor import rpc
from magnum import conf  # noqa: F401
from magnum.db import api as db_api
from magnum.db import migration
from magnum.db.sqlalchemy import models
from magnum import objects

CONF = cfg.CONF
objects.register_all()

# NOTE: an RPC server's wait() joins its executor's idle threads, which
# look for work once a second (futurist's MAX_IDLE_FOR): a second for every
# test that stops a server it used. A twentieth is as correct here.
futurist_thread.ThreadWorker.MAX_IDLE_FOR = 0.05

# NOTE: SQLite in memory-backed files where there are some: each test
# empties every table and commits, and on a disk each commit waits for
# fsync (6 ms here, a quarter of the unit suite's time).
_RAM = '/dev/shm' if os.path.isdir('/dev/shm') else None
_SCHEMA_LOCK = threading.Lock()
_SCHEMA_URL = None
_DIRECTORIES = []
# NOTE: one transaction factory (engine) for every test: SQLAlchemy caches
# compiled statements per engine, and a new engine a test compiled every
# query again (a tenth of the unit suite's time).
_SHARED_FACADE = None


@atexit.register
def remove_schema():
    """Remove the schema's file (pytest calls it too: its xdist workers
    end without running atexit)."""
    while _DIRECTORIES:
        shutil.rmtree(_DIRECTORIES.pop(), ignore_errors=True)


def _schema_url():
    """A SQLite file with the migrated schema, made once per process."""
    global _SCHEMA_URL
    with _SCHEMA_LOCK:
        if _SCHEMA_URL is None:
            directory = tempfile.mkdtemp(prefix='magnum-unit-', dir=_RAM)
            _DIRECTORIES.append(directory)
            path = os.path.join(directory, 'magnum.sqlite')
            url = 'sqlite:///%s' % path
            CONF.set_override('connection', url, 'database')
            db_api.reset()
            migration.upgrade()
            CONF.clear_override('connection', 'database')
            _SCHEMA_URL = url
    return _SCHEMA_URL


class Database(fixtures.Fixture):
    """Points Magnum at the shared test database and empties it."""

    def _setUp(self):
        global _SHARED_FACADE
        url = _schema_url()
        CONF.set_override('connection', url, 'database')
        if _SHARED_FACADE is None:
            db_api.reset()
            _SHARED_FACADE = db_api._facade()
        db_api._FACADE = _SHARED_FACADE
        with db_api.writer() as session:
            for table in reversed(models.Base.metadata.sorted_tables):
                session.execute(sa.delete(table))
        self.addCleanup(setattr, db_api, '_FACADE', None)


class TestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        # NOTE: the fixture's cleanup clears the parsed command line.
        CONF([], project='magnum', default_config_files=[])
        self.conf.set_default('host', 'test-host')
        # NOTE: bays' private keys are encrypted with it (keystore.py);
        # without it the all-in-one's key file under state_path is used.
        self.conf.set_default('encryption_key', 'unit-test-key-' + 'k' * 32,
                              'certificates')
        self.useFixture(Database())
        policy.reset()
        self.addCleanup(policy.reset)
        self.context = magnum_context.RequestContext(
            project_id='project-a', user_id='user-a', roles=['member'])
        self.admin_context = magnum_context.make_admin_context()

    def use_fake_rpc(self):
        rpc.cleanup()
        rpc.set_default_url('fake:///')
        self.addCleanup(rpc.cleanup)
