import datetime
import threading

import fixtures
import sqlalchemy as sa

from oslo_utils import timeutils

from magnum.common import exception
from magnum.conductor import hash_ring
from magnum.conductor.handlers import bay as bay_handler
from magnum.conductor import locks
from magnum.db import actions as db_actions
from magnum.db import api as db_api
from magnum.db import bays as db_bays
from magnum.drivers import base as drivers
from magnum.objects import action as action_obj
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
        self.action = self.open_action()

    def reload(self):
        return db_bays.get_bay_by_uuid_unscoped(self.bay.uuid)

    def open_action(self, bay=None):
        return action_obj.Action.open_of(self.context,
                                         (bay or self.bay).uuid)

    def deliver(self, action=None):
        """The conductor gets the action's message."""
        action = action or self.action
        self.handler.action_run(self.context, action.bay_uuid, action.uuid)
        return db_actions.get(action.uuid)

    def settle(self):
        """The bay's create done: it may change again."""
        self.deliver()
        self.bay = bay_obj.Bay.get_by_uuid_unscoped(self.context,
                                                    self.bay.uuid)

    def age(self, action, seconds):
        """The action was written ``seconds`` ago."""
        then = timeutils.utcnow() - datetime.timedelta(seconds=seconds)
        with db_api.writer() as session:
            session.execute(sa.update(db_api.ACTION).where(
                db_api.ACTION.c.uuid == action.uuid).values(
                created_at=then, updated_at=None))


class TestCreate(HandlerTestCase):

    def test_create_applies_the_provisioners_state(self):
        action = self.deliver()
        row = self.reload()
        self.assertEqual('CREATE_COMPLETE', row.status)
        self.assertEqual('tcp://10.0.0.1:2376', row.api_address)
        self.assertEqual(['10.0.0.2'], row.node_addresses)
        self.assertIsNone(row.reservation)
        self.assertEqual(('create', 'COMPLETE', 'test-host'),
                         (action.kind, action.status, action.conductor))
        self.assertIsNotNone(action.started_at)
        self.assertIsNotNone(action.finished_at)

    def test_provisioner_error_fails_the_bay_with_its_message(self):
        self.provisioner.answers['create'] = RuntimeError('quota exceeded')
        action = self.deliver()
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertEqual('quota exceeded', row.status_reason)
        self.assertIsNone(row.reservation)
        self.assertEqual(('FAILED', 'quota exceeded'),
                         (action.status, action.status_reason))

    def test_locked_bay_is_left_to_its_holder(self):
        self.useFixture(fixtures.MockPatchObject(locks, 'LOCK_WAIT',
                                                 0.2))
        db_bays.reserve_bay(self.bay.uuid, 'other-host')
        self.assertEqual('PENDING', self.deliver().status)
        self.assertEqual([], self.provisioner.calls)
        self.assertEqual('other-host', self.reload().reservation)

    def test_message_waits_for_a_briefly_held_lock(self):
        db_bays.reserve_bay(self.bay.uuid, 'reconciler')
        timer = threading.Timer(
            0.3, db_bays.release_bay, (self.bay.uuid, 'reconciler'))
        timer.start()
        self.addCleanup(timer.cancel)
        self.deliver()
        self.assertEqual('CREATE_COMPLETE', self.reload().status)

    def test_duplicate_message_does_nothing(self):
        self.deliver()
        self.deliver()
        self.assertEqual([('create', self.bay.uuid)], self.provisioner.calls)

    def test_unknown_provisioner_fails_the_bay(self):
        db_bays.update_bay(self.bay.uuid, {'provisioner': 'nope'})
        self.deliver()
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertIn('nope', row.status_reason)

    def test_a_message_of_an_api_of_before_becomes_an_action(self):
        """RPC 1.0: bay_create with no action written; one is made."""
        db_bays.update_bay(self.bay.uuid, {'status': 'CREATE_FAILED'})
        db_actions.update(self.action.uuid, {'status': 'FAILED'})
        db_bays.update_bay(self.bay.uuid, {'status': 'UPDATE_IN_PROGRESS'})
        self.handler.bay_changed(self.context, self.bay)
        self.assertEqual('UPDATE_COMPLETE', self.reload().status)
        newest = action_obj.Action.records(self.bay.uuid)[0]
        self.assertEqual(('update', 'COMPLETE'),
                         (newest.kind, newest.status))


class TestUpdateAndDelete(HandlerTestCase):

    def test_update_completes(self):
        self.settle()
        action = utils.start(self.context, self.bay, 'update')
        self.assertEqual('UPDATE_IN_PROGRESS', self.reload().status)
        self.assertEqual('COMPLETE', self.deliver(action).status)
        self.assertEqual('UPDATE_COMPLETE', self.reload().status)
        self.assertIn(('update', self.bay.uuid), self.provisioner.calls)

    def test_delete_removes_the_row_and_its_actions(self):
        action = utils.start(self.context, self.bay, 'delete')
        # NOTE: the create it interrupted will never end on its own.
        superseded = db_actions.get(self.action.uuid)
        self.assertEqual('FAILED', superseded.status)
        self.assertIn(action.uuid, superseded.status_reason)
        self.handler.action_run(self.context, self.bay.uuid, action.uuid)
        self.assertRaises(exception.BayNotFound, self.reload)
        self.assertEqual([], action_obj.Action.records(self.bay.uuid))

    def test_delete_failure_keeps_the_row_failed(self):
        action = utils.start(self.context, self.bay, 'delete')
        self.provisioner.answers['delete'] = RuntimeError('stack stuck')
        self.assertEqual('FAILED', self.deliver(action).status)
        row = self.reload()
        self.assertEqual('DELETE_FAILED', row.status)
        self.assertEqual('stack stuck', row.status_reason)

    def test_delete_of_vanished_bay_is_quiet(self):
        action = utils.start(self.context, self.bay, 'delete')
        db_bays.destroy_bay(self.bay.uuid)
        with self.assertLogs('magnum.conductor.handlers.bay',
                             'INFO') as logs:
            self.handler.action_run(self.context, self.bay.uuid,
                                    action.uuid)
        self.assertEqual([], self.provisioner.calls)
        self.assertIn('is gone; nothing to do', logs.output[-1])

    def test_an_unsupported_action_is_refused_before_anything_is_written(
            self):
        self.settle()
        self.mock_out = fixtures.MockPatchObject(
            type(self.provisioner), 'supports',
            lambda provisioner, kind: kind != 'resize')
        self.useFixture(self.mock_out)
        error = self.assertRaises(exception.ActionUnsupported, utils.start,
                                  self.context, self.bay, 'resize')
        self.assertIn('resize', str(error))
        self.assertIn('fake', str(error))
        self.assertEqual(400, error.code)
        self.assertEqual('CREATE_COMPLETE', self.reload().status)
        self.assertEqual(['create'], [a.kind for a in
                                      action_obj.Action.records(
                                          self.bay.uuid)])


class TestReconcile(HandlerTestCase):

    def test_poll_state_is_applied(self):
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE, status_reason='Stack done')
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual('CREATE_COMPLETE', row.status)
        self.assertEqual('Stack done', row.status_reason)
        action = db_actions.get(self.action.uuid)
        self.assertEqual(('COMPLETE', 'Stack done'),
                         (action.status, action.status_reason))

    def test_nothing_new_changes_nothing(self):
        self.handler.reconcile_bays()
        # Polled, and the answer (no news) changed neither row.
        self.assertEqual([('poll', self.bay.uuid)], self.provisioner.calls)
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)
        self.assertEqual('PENDING', db_actions.get(self.action.uuid).status)

    def test_a_state_for_a_pending_action_means_the_backend_has_it(self):
        self.provisioner.answers['poll'] = drivers.BayState(stack_id='s1')
        self.handler.reconcile_bays()
        action = db_actions.get(self.action.uuid)
        self.assertEqual(('IN_PROGRESS', 'test-host'),
                         (action.status, action.conductor))
        self.assertEqual(('CREATE_IN_PROGRESS', 's1'),
                         (self.reload().status, self.reload().stack_id))

    def test_stuck_create_times_out(self):
        long_ago = timeutils.utcnow() - datetime.timedelta(minutes=11)
        db_bays.update_bay(self.bay.uuid, {'bay_create_timeout': 10,
                                           'created_at': long_ago})
        self.handler.reconcile_bays()
        row = self.reload()
        self.assertEqual('CREATE_FAILED', row.status)
        self.assertIn('timed out after 10 minute', row.status_reason)
        self.assertEqual([], self.provisioner.calls)
        self.assertEqual('FAILED', db_actions.get(self.action.uuid).status)

    def test_zero_timeout_never_times_out(self):
        long_ago = timeutils.utcnow() - datetime.timedelta(days=30)
        db_bays.update_bay(self.bay.uuid, {'bay_create_timeout': 0,
                                           'created_at': long_ago})
        self.handler.reconcile_bays()
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)


class TestLock(HandlerTestCase):

    def test_lock_is_exclusive_and_released_on_error(self):
        def fail():
            with locks.bay_lock(self.context, self.bay.uuid, 'a'):
                self.assertRaises(
                    exception.BayLocked,
                    db_bays.reserve_bay, self.bay.uuid, 'b')
                raise ValueError('boom')
        self.assertRaises(ValueError, fail)
        self.assertIsNone(self.reload().reservation)


class TestObjectVersions(HandlerTestCase):

    def test_an_older_api_gets_bays_in_its_own_shape(self):
        bay = bay_obj.Bay.get_by_uuid_unscoped(self.context, self.bay.uuid)
        for version, present in (('1.1', False), ('1.2', True),
                                 ('1.3', False)):
            primitive = bay.obj_to_primitive(target_version=version)
            data = next(v for k, v in primitive.items()
                        if k.endswith('.data'))
            self.assertEqual(present, 'driven_at' in data, version)

    def test_a_status_is_typed(self):
        bay = bay_obj.Bay.get_by_uuid_unscoped(self.context, self.bay.uuid)
        self.assertRaises(ValueError, setattr, bay, 'status', 'CREATING')


class TestLostMessages(HandlerTestCase):
    """``redo``: the backend never saw the bay's action."""

    def setUp(self):
        super().setUp()
        self.provisioner.answers['poll'] = drivers.BayState(redo=True)

    def test_a_young_action_waits_for_its_message(self):
        self.conf.config(redo_after=30, group='conductor')
        self.handler.reconcile_bays()
        self.handler.wait_for_redos()
        self.assertEqual([('poll', self.bay.uuid)], self.provisioner.calls)
        self.assertEqual('CREATE_IN_PROGRESS', self.reload().status)

    def test_after_redo_after_the_reconciler_drives_the_action(self):
        self.conf.config(redo_after=30, group='conductor')
        self.age(self.action, 31)
        self.handler.reconcile_bays()
        self.handler.wait_for_redos()
        self.assertIn(('create', self.bay.uuid), self.provisioner.calls)
        self.assertEqual('CREATE_COMPLETE', self.reload().status)
        self.assertEqual('COMPLETE', db_actions.get(self.action.uuid).status)


    def test_a_slow_redo_holds_up_no_other_bay(self):
        """A redo runs beside the pass: another bay's finished state is
        written while the lost create is still being driven."""
        self.conf.config(redo_after=0, group='conductor')
        done = utils.bay(self.context, self.baymodel, name='done')
        released = threading.Event()
        answers = {self.bay.uuid: drivers.BayState(redo=True),
                   done.uuid: drivers.BayState(
                       status=bay_obj.CREATE_COMPLETE)}
        self.provisioner.poll = lambda context, items: {
            action.uuid: answers[bay.uuid] for bay, _, action in items}
        create = self.provisioner.create

        def slow_create(context, bay, baymodel):
            released.wait(10)
            return create(context, bay, baymodel)

        self.provisioner.create = slow_create
        self.addCleanup(released.set)
        self.handler.reconcile_bays()
        self.assertEqual('CREATE_COMPLETE',
                         db_bays.get_bay_by_uuid_unscoped(done.uuid).status)
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
        return {b.uuid: db_bays.get_bay_by_uuid_unscoped(b.uuid).status
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
        db_bays.reserve_bay(self.bay.uuid, 'other-host')
        self.handler.rings = _Rings([], down=['other-host', 'test-host'])
        self.handler.take_over()
        self.assertEqual('other-host', self.reload().reservation)

    def test_a_conductor_off_the_ring_reconciles_nothing(self):
        self.handler.rings = _Rings(['other-host'])
        self.handler.reconcile_bays()
        self.assertEqual([], self.provisioner.calls)

    def test_bays_of_a_conductor_down_are_taken_over(self):
        for bay in self.bays:
            db_bays.reserve_bay(bay.uuid, 'other-host')
        # A live conductor off the ring (disabled) keeps what it holds.
        alive = utils.bay(self.context, self.baymodel, name='alive')
        db_bays.reserve_bay(alive.uuid, 'third-host')
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
            db_bays.get_bay_by_uuid_unscoped(b.uuid).reservation
            for b in self.bays])
        row = db_bays.get_bay_by_uuid_unscoped(alive.uuid)
        self.assertEqual(('third-host', 'CREATE_IN_PROGRESS'),
                         (row.reservation, row.status))
