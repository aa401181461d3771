"""magnum.db on SQLite with many writers at once (magnum/db/sqlite.py):
real threads writing real rows to the test database's file.
"""

import sqlite3
import threading
from unittest import mock

from oslo_db import exception as db_exc
import sqlalchemy as sa

from magnum.common import context as magnum_context
from magnum.db import api as db_api
from magnum.db import baymodels as db_baymodels
from magnum.db import bays as db_bays
from magnum.db import quotas as db_quotas
from magnum.db import sqlite
from magnum.tests import base

WRITERS = 16
ROUNDS = 4


def other_connection(test):
    """A plain sqlite3 connection to the test database that never waits
    for a lock (sqlite3.OperationalError at once if it is taken)."""
    other = sqlite3.connect(db_api.get_engine().url.database, timeout=0,
                            isolation_level=None, check_same_thread=False)
    test.addCleanup(other.close)
    return other


class TestManyWriters(base.TestCase):

    def _writer(self, number, start, kept, errors):
        context = magnum_context.RequestContext(
            project_id='project-a', user_id='user-%d' % number)
        start.wait()
        try:
            for round_ in range(ROUNDS):
                baymodel = db_baymodels.create_baymodel(
                    context, {'coe': 'kubernetes',
                              'name': 'bm-%d-%d' % (number, round_)})
                bay = db_bays.create_bay(context, {
                    'baymodel_id': baymodel.uuid, 'provisioner': 'static',
                    'status': 'CREATE_COMPLETE'})
                db_bays.destroy_bay(bay.uuid)
                # destroy_baymodel counts bays, then deletes: a read, then
                # a write, in one transaction (as are quotas' creates).
                if round_ % 2:
                    kept.append(baymodel.uuid)
                else:
                    db_baymodels.destroy_baymodel(context, baymodel.uuid)
                project = 'quota-%d-%d' % (number, round_)
                db_quotas.create_quota(project, 'Cluster', round_)
                db_quotas.delete_quota(project, 'Cluster')
        except Exception as e:
            errors.append(e)

    def test_sixteen_threads_of_writes_all_succeed(self):
        start = threading.Barrier(WRITERS)
        kept, errors = [], []
        threads = [threading.Thread(target=self._writer,
                                    args=(n, start, kept, errors))
                   for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual([], [repr(e) for e in errors])
        with db_api.reader() as session:
            self.assertEqual(0, session.execute(
                sa.select(sa.func.count()).select_from(db_api.BAY)).scalar())
            self.assertEqual(sorted(kept), sorted(session.execute(
                sa.select(db_api.BAYMODEL.c.uuid)).scalars()))
            quotas = session.execute(sa.select(
                db_api.QUOTA.c.project_id, db_api.QUOTA.c.hard_limit).where(
                db_api.QUOTA.c.project_id.like('quota-%'))).all()
        self.assertEqual(WRITERS * ROUNDS // 2, len(kept))
        self.assertEqual(WRITERS * ROUNDS, len(quotas))
        self.assertEqual({None}, {limit for _, limit in quotas})


class TestLocking(base.TestCase):

    def test_database_is_in_wal_mode(self):
        with db_api.reader() as session:
            self.assertEqual('wal', session.exec_driver_sql(
                'PRAGMA journal_mode').scalar())

    def test_a_write_transaction_holds_the_write_lock_from_its_begin(self):
        other = other_connection(self)
        with db_api.writer():
            self.assertRaises(sqlite3.OperationalError, other.execute,
                              'BEGIN IMMEDIATE')

    def test_reads_go_on_while_another_connection_writes(self):
        db_baymodels.create_baymodel(self.context, {'coe': 'kubernetes'})
        other_connection(self).execute('BEGIN IMMEDIATE')
        self.assertEqual(1, len(db_baymodels.list_baymodels(self.context)))

    def test_a_write_waits_for_the_lock(self):
        other = other_connection(self)
        other.execute('BEGIN IMMEDIATE')
        timer = threading.Timer(0.2, other.execute, ('COMMIT',))
        timer.start()
        self.addCleanup(timer.join)
        db_baymodels.create_baymodel(self.context, {'coe': 'kubernetes'})
        self.assertEqual(1, len(db_baymodels.list_baymodels(self.context)))

    def test_a_write_locked_past_its_retries_raises_dbdeadlock(self):
        # Milliseconds of busy timeout and between tries, not seconds.
        for target, name, value in (
                (sqlite, 'BUSY_TIMEOUT_MS', 20),
                (sqlite._retry_when_busy, 'retry_interval', 0.01)):
            patcher = mock.patch.object(target, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)
        other = other_connection(self)
        other.execute('BEGIN IMMEDIATE')
        self.assertRaises(db_exc.DBDeadlock, db_baymodels.create_baymodel,
                          self.context, {'coe': 'kubernetes'})
        other.execute('ROLLBACK')
        self.assertEqual([], db_baymodels.list_baymodels(self.context))
