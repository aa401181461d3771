import datetime
import threading

import fixtures

from oslo_utils import timeutils

from magnum.common import exception
from magnum.conductor.handlers import bay as bay_handler
from magnum.conductor import locks
from magnum.db import api as db_api
from magnum.drivers import base as drivers
from magnum.objects import bay as bay_obj
from magnum.tests import base
from magnum.tests.unit import fake_provisioner
from magnum.tests.unit import utils


class HandlerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.provisioner = fake_provisioner.FakeProvisioner()
        drivers._LOADED['fake'] = self.provisioner
        self.addCleanup(drivers._LOADED.pop, 'fake', None)
        self.handler = bay_handler.BayHandler('test-host')
        self.baymodel = utils.baymodel(self.context)
        self.bay = utils.bay(self.context, self.baymodel)

    def reload(self):
        return db_api.get_bay_by_uuid_unscoped(self.bay.uuid)

    def set_status(self, status, **values):
        db_api.update_bay(self.bay.uuid, dict(values, status=status))


class TestCreate(HandlerTestCase):

    def test_create_applies_the_provisioners_state(self):
        self.handler.bay_create(self.context, self.bay)
        row = self.reload()
        self.assertEqual('CREATE_COMPLETE', row.status)
        self.assertEqual('tcp://10.0.0.1:2376', row.api_address)
        self.assertEqual(['10.0.0.2'], row.node_addresses)
        self.assertIsNone(row.reservation)

    def test_provisioner_error_fails_the_bay_with_its_message(self):
        self.provisioner.answers['create'] = RuntimeError('quota exceeded')
        self.handler.bay_create(self.context, self.bay)
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertEqual('quota exceeded', row.status_reason)
        self.assertIsNone(row.reservation)

    def test_locked_bay_is_left_to_its_holder(self):
        self.useFixture(fixtures.MockPatchObject(bay_handler, 'LOCK_WAIT',
                                                 0.2))
        db_api.reserve_bay(self.bay.uuid, 'other-host')
        self.handler.bay_create(self.context, self.bay)
        self.assertEqual([], self.provisioner.calls)
        self.assertEqual('other-host', self.reload().reservation)

    def test_message_waits_for_a_briefly_held_lock(self):
        db_api.reserve_bay(self.bay.uuid, 'reconciler')
        timer = threading.Timer(
            0.3, db_api.release_bay, (self.bay.uuid, 'reconciler'))
        timer.start()
        self.addCleanup(timer.cancel)
        self.handler.bay_create(self.context, self.bay)
        self.assertEqual('CREATE_COMPLETE', self.reload().status)

    def test_duplicate_message_does_nothing(self):
        self.handler.bay_create(self.context, self.bay)
        self.handler.bay_create(self.context, self.bay)
        self.assertEqual([('create', self.bay.uuid)], self.provisioner.calls)

    def test_unknown_provisioner_fails_the_bay(self):
        db_api.update_bay(self.bay.uuid, {'provisioner': 'nope'})
        self.handler.bay_create(self.context, self.bay)
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertIn('nope', row.status_reason)


class TestUpdateAndDelete(HandlerTestCase):

    def test_update_completes(self):
        self.set_status(bay_obj.UPDATE_IN_PROGRESS)
        self.handler.bay_update(self.context, self.bay)
        self.assertEqual('UPDATE_COMPLETE', self.reload().status)

    def test_delete_removes_the_row(self):
        self.set_status(bay_obj.DELETE_IN_PROGRESS)
        self.handler.bay_delete(self.context, self.bay)
        self.assertRaises(exception.BayNotFound, self.reload)

    def test_delete_failure_keeps_the_row_failed(self):
        self.set_status(bay_obj.DELETE_IN_PROGRESS)
        self.provisioner.answers['delete'] = RuntimeError('stack stuck')
        self.handler.bay_delete(self.context, self.bay)
        row = self.reload()
        self.assertEqual('DELETE_FAILED', row.status)
        self.assertEqual('stack stuck', row.status_reason)

    def test_delete_of_vanished_bay_is_quiet(self):
        self.set_status(bay_obj.DELETE_IN_PROGRESS)
        db_api.destroy_bay(self.bay.uuid)
        self.handler.bay_delete(self.context, self.bay)


class TestReconcile(HandlerTestCase):

    def test_poll_state_is_applied(self):
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE, status_reason='Stack done')
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual('CREATE_COMPLETE', row.status)
        self.assertEqual('Stack done', row.status_reason)

    def test_nothing_new_changes_nothing(self):
        self.handler.reconcile_bays()
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)

    def test_stuck_create_times_out(self):
        long_ago = timeutils.utcnow() - datetime.timedelta(minutes=11)
        db_api.update_bay(self.bay.uuid, {'bay_create_timeout': 10,
                                          'created_at': long_ago})
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertIn('timed out after 10 minute', row.status_reason)
        self.assertEqual([], self.provisioner.calls)

    def test_zero_timeout_never_times_out(self):
        long_ago = timeutils.utcnow() - datetime.timedelta(days=30)
        db_api.update_bay(self.bay.uuid, {'bay_create_timeout': 0,
                                          'created_at': long_ago})
        self.handler.reconcile_bays()
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)


class TestLock(HandlerTestCase):

    def test_lock_is_exclusive_and_released_on_error(self):
        def fail():
            with locks.bay_lock(self.context, self.bay.uuid, 'a'):
                self.assertRaises(
                    exception.BayLocked,
                    db_api.reserve_bay, self.bay.uuid, 'b')
                raise ValueError('boom')
        self.assertRaises(ValueError, fail)
        self.assertIsNone(self.reload().reservation)
