import datetime
import threading

import fixtures
import sqlalchemy as sa

from oslo_utils import timeutils

from magnum.common import exception
from magnum.conductor import hash_ring
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


class TestDrivenAt(HandlerTestCase):
    """``driven_at``: whether a conductor has sent the current action."""

    def test_a_conductor_stamps_it_and_the_next_request_clears_it(self):
        self.assertIsNone(self.reload().driven_at)
        self.handler.bay_create(self.context, self.bay)
        self.assertIsNotNone(self.reload().driven_at)
        # The API asks for an update (unlocked, a new *_IN_PROGRESS).
        db_api.update_bay(self.bay.uuid,
                          {'status': bay_obj.UPDATE_IN_PROGRESS},
                          unlocked=True)
        self.assertIsNone(self.reload().driven_at)
        self.handler.bay_update(self.context, self.bay)
        row = self.reload()
        self.assertEqual('UPDATE_COMPLETE', row.status)
        self.assertIsNotNone(row.driven_at)

    def test_an_older_api_gets_bays_without_it(self):
        bay = bay_obj.Bay.get_by_uuid_unscoped(self.context, self.bay.uuid)
        for version, present in (('1.1', False), ('1.2', True)):
            primitive = bay.obj_to_primitive(target_version=version)
            data = next(v for k, v in primitive.items()
                        if k.endswith('.data'))
            self.assertEqual(present, 'driven_at' in data, version)


class TestLostMessages(HandlerTestCase):
    """``redo``: the backend never saw the bay's action."""

    def setUp(self):
        super().setUp()
        self.provisioner.answers['poll'] = drivers.BayState(redo=True)

    def test_a_young_bay_waits_for_its_message(self):
        self.conf.config(redo_after=30, group='conductor')
        self.handler.reconcile_bays()
        self.assertEqual([('poll', self.bay.uuid)], self.provisioner.calls)
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)

    def test_after_redo_after_the_reconciler_drives_the_action(self):
        self.conf.config(redo_after=30, group='conductor')
        db_api.update_bay(self.bay.uuid, {
            'created_at': timeutils.utcnow() - datetime.timedelta(
                seconds=31)})
        # NOTE: update_bay stamps updated_at; the bay changed 31 s ago.
        with db_api.writer() as session:
            session.execute(sa.update(db_api.BAY).where(
                db_api.BAY.c.uuid == self.bay.uuid).values(updated_at=None))
        self.handler.reconcile_bays()
        self.handler.wait_for_redos()
        self.assertIn(('create', self.bay.uuid), self.provisioner.calls)
        self.assertEqual('CREATE_COMPLETE', self.reload().status)


    def test_a_slow_redo_holds_up_no_other_bay(self):
        """A redo runs beside the pass: another bay's finished state is
        written while the lost create is still being driven."""
        self.conf.config(redo_after=0, group='conductor')
        done = utils.bay(self.context, self.baymodel, name='done')
        released = threading.Event()
        answers = {self.bay.uuid: drivers.BayState(redo=True),
                   done.uuid: drivers.BayState(
                       status=bay_obj.CREATE_COMPLETE)}
        self.provisioner.poll = lambda context, bays: {
            bay.uuid: answers[bay.uuid] for bay, _ in bays}
        create = self.provisioner.create

        def slow_create(context, bay, baymodel):
            released.wait(10)
            return create(context, bay, baymodel)

        self.provisioner.create = slow_create
        self.addCleanup(released.set)
        self.handler.reconcile_bays()
        self.assertEqual('CREATE_COMPLETE',
                         db_api.get_bay_by_uuid_unscoped(done.uuid).status)
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)
        # Asked again while the first redo runs: not driven twice.
        self.handler.reconcile_bays()
        released.set()
        self.handler.wait_for_redos()
        self.assertEqual([('create', self.bay.uuid)], self.provisioner.calls)
        self.assertEqual('CREATE_COMPLETE', self.reload().status)


class _Rings:
    """A RingCache stand-in: the membership the test says."""

    def __init__(self, live, down=()):
        self.live, self.down = list(live), list(down)

    def members(self):
        members = hash_ring.Membership([])
        members.live, members.down = self.live, self.down
        members.ring = hash_ring.Ring(self.live)
        return members

    def get(self):
        return self.members().ring


class TestOwnership(HandlerTestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(max_clusters_per_project=100, group='quotas')
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.bays = [self.bay] + [
            utils.bay(self.context, self.baymodel, name='b%d' % n)
            for n in range(20)]
        self.ring = hash_ring.Ring(['test-host', 'other-host'])

    def statuses(self):
        return {b.uuid: db_api.get_bay_by_uuid_unscoped(b.uuid).status
                for b in self.bays}

    def test_reconciler_touches_only_the_bays_it_owns(self):
        self.handler.rings = _Rings(['test-host', 'other-host'])
        self.handler.reconcile_bays()
        mine = {b.uuid for b in self.bays
                if self.ring.owner(b.uuid) == 'test-host'}
        self.assertTrue(0 < len(mine) < len(self.bays))
        self.assertEqual(
            {u: 'CREATE_COMPLETE' if u in mine else 'CREATE_IN_PROGRESS'
             for u in self.statuses()}, self.statuses())
        self.assertEqual(mine, {uuid for _, uuid in self.provisioner.calls})

    def test_a_conductor_that_is_late_itself_takes_nothing_over(self):
        db_api.reserve_bay(self.bay.uuid, 'other-host')
        self.handler.rings = _Rings([], down=['other-host', 'test-host'])
        self.handler.take_over()
        self.assertEqual('other-host', self.reload().reservation)

    def test_a_conductor_off_the_ring_reconciles_nothing(self):
        self.handler.rings = _Rings(['other-host'])
        self.handler.reconcile_bays()
        self.assertEqual([], self.provisioner.calls)

    def test_bays_of_a_conductor_down_are_taken_over(self):
        for bay in self.bays:
            db_api.reserve_bay(bay.uuid, 'other-host')
        # A live conductor off the ring (disabled) keeps what it holds.
        alive = utils.bay(self.context, self.baymodel, name='alive')
        db_api.reserve_bay(alive.uuid, 'third-host')
        self.handler.rings = _Rings(['test-host'], down=['other-host'])
        self.handler.reconcile_bays()
        # Still theirs until the take-over (after a heartbeat).
        self.assertEqual({'CREATE_IN_PROGRESS'},
                         set(self.statuses().values()))
        self.handler.take_over()
        self.handler.reconcile_bays()
        # Freed, then driven by their new owner, this conductor.
        self.assertEqual({'CREATE_COMPLETE'}, set(self.statuses().values()))
        self.assertEqual([None] * len(self.bays), [
            db_api.get_bay_by_uuid_unscoped(b.uuid).reservation
            for b in self.bays])
        row = db_api.get_bay_by_uuid_unscoped(alive.uuid)
        self.assertEqual(('third-host', 'CREATE_IN_PROGRESS'),
                         (row.reservation, row.status))
