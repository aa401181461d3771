"""The conductor's watch: a provisioner that tells each change of a bay as
it happens (the capi provisioner) has it written at once, by the bay's
owner, once however many changes arrive meanwhile
(magnum/conductor/handlers/bay.py, ``start_watches``)."""

import copy
import threading
import time

import fixtures
from oslo_utils import uuidutils

from magnum.common import exception
from magnum.conductor import hash_ring
from magnum.conductor.handlers import bay as bay_handler
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.db import nodegroups as db_nodegroups
from magnum.db import nodes as db_nodes
from magnum.db import services as db_services
from magnum.drivers import base as drivers
from magnum.lifecycle import actions
from magnum.lifecycle import provisioning
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.objects import magnum_service
from magnum.tests import base
from magnum.tests.unit import fake_provisioner
from magnum.tests.unit import utils

WAIT = 2.0


class WatchProvisioner(fake_provisioner.FakeProvisioner):
    """The fake provisioner with a watch: ``changed(uuid)`` tells the
    subscribers; ``observe`` answers ``by_bay[uuid]`` or else
    ``answers['observe']``. The bays in ``gated`` make observe and poll
    wait for ``gate``."""

    def __init__(self):
        super().__init__()
        self.answers['observe'] = None
        self.subscribers = []
        self.gate = threading.Event()
        self.gated = set()
        self.entered = threading.Event()
        # {bay uuid: observe's answer} over answers['observe'].
        self.by_bay = {}

    def start_watch(self, notify):
        self.subscribers.append(notify)

    def stop_watch(self, notify):
        self.subscribers.remove(notify)

    def changed(self, bay_uuid):
        for notify in list(self.subscribers):
            notify(bay_uuid)

    def _hold(self, bay_uuid):
        if bay_uuid in self.gated:
            self.entered.set()
            self.gate.wait(WAIT)

    def count(self, verb):
        return sum(1 for name, _ in self.calls if name == verb)

    def observe(self, context, bay):
        self.calls.append(('observe', bay.uuid))
        answer = copy.deepcopy(self.by_bay.get(bay.uuid,
                                               self.answers['observe']))
        self._hold(bay.uuid)
        return answer

    def poll(self, context, items):
        answers = {}
        for bay, _, action in items:
            self.calls.append(('poll', bay.uuid))
            answers[action.uuid] = copy.deepcopy(self.answers['poll'])
            self._hold(bay.uuid)
        return answers


class BrokenWatch(WatchProvisioner):

    def start_watch(self, notify):
        raise RuntimeError('no management cluster')


class _Rings:
    """A RingCache stand-in: the live conductors the test says."""

    def __init__(self, live):
        self.live = list(live)

    def members(self):
        members = hash_ring.Membership([])
        members.live = self.live
        members.ring = hash_ring.Ring(self.live)
        return members

    def get(self):
        return self.members().ring


def observed(health='HEALTHY', count=4, **values):
    """What a provisioner's observe says of a settled bay."""
    values.setdefault('health_status_reason', {'api': 'ok'})
    return drivers.BayState(
        api_address='https://203.0.113.10:6443',
        master_addresses=['203.0.113.2'], node_addresses=['10.0.0.3'],
        health_status=health,
        nodes=[{'server_id': 'srv-1', 'name': 'cp-1', 'type': 'master',
                'image_id': None, 'nodegroup': 'default-master',
                'addresses': ['10.0.0.2', '203.0.113.2']},
               {'server_id': 'srv-2', 'name': 'w-1', 'type': 'node',
                'image_id': None, 'nodegroup': 'default-worker',
                'addresses': ['10.0.0.3']}],
        nodegroup_counts={'default-worker': count}, **values)


class WatchTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.provisioner = WatchProvisioner()
        drivers._LOADED['fake'] = self.provisioner
        self.addCleanup(drivers._LOADED.pop, 'fake', None)
        self.names = ['fake']
        self.useFixture(fixtures.MockPatchObject(
            provisioning, 'installed_names', lambda: list(self.names)))
        self.useFixture(fixtures.MockPatchObject(
            bay_handler, '_WATCH_RETRY_DELAY', 0.02))
        self.handler = bay_handler.BayHandler('test-host')
        self.baymodel = utils.baymodel(self.context)
        self.bay = utils.bay(self.context, self.baymodel)
        self.action = action_obj.Action.open_of(self.context, self.bay.uuid)

    def start(self, rings=None):
        self.handler.rings = rings
        self.handler.start_watches()
        self.addCleanup(self.handler.stop_watches)
        # NOTE: registered after stop_watches, run before it: a look held
        # at the gate ends before the pool is shut down.
        self.addCleanup(self.provisioner.gate.set)

    def settle(self, bay=None):
        """The bay's create delivered and done: no action open."""
        bay = bay or self.bay
        action = action_obj.Action.open_of(self.context, bay.uuid)
        self.handler.action_run(self.context, bay.uuid, action.uuid)
        self.assertEqual('CREATE_COMPLETE', self.row(bay).status)
        self.provisioner.calls = []

    def row(self, bay=None):
        return db_bays.get_bay_by_uuid_unscoped((bay or self.bay).uuid)

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.005)
        self.fail('still waiting for %s' % what)

    def idle(self):
        """Nothing left to look at (no look pending or running)."""
        def quiet():
            with self.handler._seen_lock:
                return not (self.handler._seen_pending
                            or self.handler._seen_running
                            or self.handler._seen_again)
        self.wait_for(quiet, 'the watch to be idle')

    def changed(self, bay=None):
        self.provisioner.changed((bay or self.bay).uuid)

    @staticmethod
    def columns(row):
        return {k: v for k, v in row._mapping.items() if k != 'updated_at'}


class TestSubscription(WatchTestCase):

    def test_start_watches_subscribes_to_every_installed_provisioner(self):
        self.start()
        self.assertEqual([self.handler.bay_changed_in_backend],
                         self.provisioner.subscribers)

    def test_a_provisioner_that_cannot_watch_is_skipped(self):
        drivers._LOADED['broken'] = BrokenWatch()
        self.addCleanup(drivers._LOADED.pop, 'broken', None)
        self.names = ['broken', 'fake']
        self.start()
        self.assertEqual(['fake'], self.handler._watched)
        self.assertEqual(1, len(self.provisioner.subscribers))

    def test_stop_watches_unsubscribes(self):
        self.start()
        self.handler.stop_watches()
        self.assertEqual([], self.provisioner.subscribers)
        # A change told late (the provisioner's thread was mid-call) is
        # dropped quietly, and stopping again is harmless.
        self.handler.bay_changed_in_backend(self.bay.uuid)
        self.handler.stop_watches()
        self.assertEqual([], self.provisioner.calls)
        self.assertEqual('PENDING', db_actions.get(self.action.uuid).status)


class TestOpenAction(WatchTestCase):

    def test_the_polls_answer_is_written_at_once(self):
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE, status_reason='Cluster ready',
            api_address='https://203.0.113.10:6443')
        self.start()
        self.changed()
        self.wait_for(lambda: self.row().status == 'CREATE_COMPLETE',
                      'the bay to be written')
        row = self.row()
        self.assertEqual(('Cluster ready', 'https://203.0.113.10:6443'),
                         (row.status_reason, row.api_address))
        self.assertIsNone(row.reservation)
        action = db_actions.get(self.action.uuid)
        self.assertEqual(('COMPLETE', 'test-host'),
                         (action.status, action.conductor))
        self.idle()
        self.assertEqual([('poll', self.bay.uuid)], self.provisioner.calls)

    def test_an_answer_for_a_pending_action_marks_it_taken(self):
        self.provisioner.answers['poll'] = drivers.BayState()
        self.start()
        self.changed()
        self.wait_for(
            lambda: db_actions.get(self.action.uuid).status == 'IN_PROGRESS',
            'the action to be taken')
        self.assertEqual('CREATE_IN_PROGRESS', self.row().status)

    def test_no_news_writes_nothing(self):
        self.start()
        self.changed()
        self.wait_for(lambda: self.provisioner.calls, 'the poll')
        self.idle()
        self.assertEqual('PENDING', db_actions.get(self.action.uuid).status)
        self.assertEqual('CREATE_IN_PROGRESS', self.row().status)

    def test_a_failure_is_written(self):
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_FAILED,
            status_reason='Quota exceeded for cores')
        self.start()
        self.changed()
        self.wait_for(lambda: self.row().status == 'CREATE_FAILED',
                      'the failure')
        self.assertEqual('Quota exceeded for cores', self.row().status_reason)
        self.assertEqual('FAILED', db_actions.get(self.action.uuid).status)

    def test_a_delete_done_removes_the_bay(self):
        self.start()
        self.settle()
        delete = utils.start(self.context, self.row_object(), 'delete')
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.DELETE_COMPLETE)
        self.changed()

        def gone():
            try:
                self.row()
            except exception.BayNotFound:
                return True
            return False

        self.wait_for(gone, 'the bay to be gone')
        self.assertRaises(exception.ActionNotFound, db_actions.get,
                          delete.uuid)

    def row_object(self):
        return bay_obj.Bay.get_by_uuid_unscoped(self.context, self.bay.uuid)


class TestObserve(WatchTestCase):

    def setUp(self):
        super().setUp()
        self.start()
        self.settle()

    def test_what_the_backend_shows_is_written(self):
        self.provisioner.answers['observe'] = observed()
        self.changed()
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'the health to be written')
        self.idle()
        row = self.row()
        self.assertEqual({'api': 'ok'}, row.health_status_reason)
        self.assertEqual('https://203.0.113.10:6443', row.api_address)
        self.assertEqual(['203.0.113.2'], row.master_addresses)
        self.assertEqual(['10.0.0.3'], row.node_addresses)
        self.assertEqual(('CREATE_COMPLETE', None),
                         (row.status, row.reservation))
        # The node count the backend decided (the autoscaler's).
        self.assertEqual(4, row.node_count)
        self.assertEqual(4, db_nodegroups.get_nodegroup(
            self.bay.uuid, 'default-worker').node_count)
        nodes = db_nodes.bay_nodes(self.bay.uuid)
        self.assertEqual([('srv-1', 'cp-1', 'default-master'),
                          ('srv-2', 'w-1', 'default-worker')],
                         sorted((n.server_id, n.name, n.nodegroup)
                                for n in nodes))
        self.idle()
        self.assertEqual([('observe', self.bay.uuid)],
                         self.provisioner.calls)

    def test_nothing_is_written_when_nothing_changed(self):
        results = []
        original = actions.observe

        def spy(bay, state):
            results.append(original(bay, state))
            return results[-1]

        self.useFixture(fixtures.MockPatchObject(actions, 'observe', spy))
        self.provisioner.answers['observe'] = observed()
        self.changed()
        self.wait_for(lambda: len(results) == 1, 'the first look')
        self.idle()
        before = self.row()
        nodes = db_nodes.bay_nodes(self.bay.uuid)
        self.changed()
        self.idle()
        # NOTE: nothing differs, so the bay is not even locked.
        self.assertEqual([True], results)
        after = self.row()
        # NOTE: updated_at moves with the lock itself (TimestampMixin's
        # onupdate on reserve/release); every other column stays.
        self.assertEqual(self.columns(before), self.columns(after))
        self.assertEqual([(n.uuid, n.updated_at) for n in nodes],
                         [(n.uuid, n.updated_at) for n in
                          db_nodes.bay_nodes(self.bay.uuid)])

    def test_a_change_of_health_is_written(self):
        self.provisioner.answers['observe'] = observed()
        self.changed()
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'healthy')
        self.idle()
        self.provisioner.answers['observe'] = observed(
            'UNHEALTHY', health_status_reason={'api': 'etcd has no quorum'})
        self.changed()
        self.wait_for(lambda: self.row().health_status == 'UNHEALTHY',
                      'unhealthy')
        self.assertEqual({'api': 'etcd has no quorum'},
                         self.row().health_status_reason)

    def test_no_answer_writes_nothing(self):
        before = self.row()
        self.changed()
        self.wait_for(lambda: self.provisioner.calls, 'the look')
        self.idle()
        self.assertEqual(before.updated_at, self.row().updated_at)
        self.assertEqual([], db_nodes.bay_nodes(self.bay.uuid))

    def test_observe_never_changes_the_status(self):
        self.provisioner.answers['observe'] = observed(
            status=bay_obj.CREATE_FAILED, status_reason='no', redo=True,
            stack_id='elsewhere')
        self.changed()
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'the look')
        row = self.row()
        self.assertEqual(('CREATE_COMPLETE', None),
                         (row.status, row.status_reason))
        self.assertNotEqual('elsewhere', row.stack_id)

    def test_a_bay_that_is_gone_is_ignored(self):
        self.provisioner.changed(uuidutils.generate_uuid())
        self.idle()
        self.assertEqual([], self.provisioner.calls)


class TestCoalescing(WatchTestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(watch_workers=2, group='conductor')
        self.start()
        self.settle()

    def test_many_changes_while_one_is_handled_make_one_more_look(self):
        self.provisioner.answers['observe'] = observed('HEALTHY')
        self.provisioner.gated.add(self.bay.uuid)
        self.changed()
        self.assertTrue(self.provisioner.entered.wait(WAIT))
        # Meanwhile the backend changes again and again.
        self.provisioner.answers['observe'] = observed('UNHEALTHY')
        for _ in range(50):
            self.changed()
        self.provisioner.gate.set()
        self.wait_for(lambda: self.row().health_status == 'UNHEALTHY',
                      'the last change to be written')
        self.idle()
        self.assertEqual(2, self.provisioner.count('observe'))

    def test_changes_before_the_look_starts_make_one_look(self):
        self.provisioner.answers['observe'] = observed()
        # Every worker busy with another bay (which has nothing new): this
        # bay's changes queue.
        others = [utils.bay(self.context, self.baymodel, name='o%d' % n)
                  for n in range(self.conf.conf.conductor.watch_workers)]
        for other in others:
            self.settle(other)
        for other in others:
            self.provisioner.by_bay[other.uuid] = None
            self.provisioner.gated.add(other.uuid)
            self.changed(other)
        self.wait_for(lambda: self.provisioner.count('observe') == len(
            others), 'every worker to be busy')
        for _ in range(20):
            self.changed()
        self.provisioner.gate.set()
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'the bay to be written')
        self.idle()
        self.assertEqual(1, sum(1 for name, uuid in self.provisioner.calls
                                if uuid == self.bay.uuid))

    def test_a_slow_look_holds_up_no_other_bay(self):
        other = utils.bay(self.context, self.baymodel, name='other')
        self.settle(other)
        self.provisioner.answers['observe'] = observed()
        self.provisioner.gated.add(self.bay.uuid)
        self.changed()
        self.assertTrue(self.provisioner.entered.wait(WAIT))
        self.changed(other)
        self.wait_for(lambda: self.row(other).health_status == 'HEALTHY',
                      'the other bay to be written')
        self.assertIsNone(self.row().health_status)
        self.provisioner.gate.set()
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'the slow bay to be written')


class TestLocked(WatchTestCase):

    def test_a_locked_bay_is_looked_at_again_and_then_written(self):
        self.start()
        self.settle()
        self.provisioner.answers['observe'] = observed()
        db_bays.reserve_bay(self.bay.uuid, 'other-host')
        self.changed()
        self.wait_for(lambda: self.provisioner.count('observe') >= 2,
                      'a second look')
        self.assertIsNone(self.row().health_status)
        self.assertEqual('other-host', self.row().reservation)
        db_bays.release_bay(self.bay.uuid, 'other-host')
        self.wait_for(lambda: self.row().health_status == 'HEALTHY',
                      'the bay to be written')
        self.idle()
        self.assertIsNone(self.row().reservation)

    def test_an_open_action_of_a_locked_bay_is_written_after(self):
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.start()
        db_bays.reserve_bay(self.bay.uuid, 'other-host')
        self.changed()
        self.wait_for(lambda: self.provisioner.count('poll') >= 2,
                      'a second look')
        self.assertEqual('CREATE_IN_PROGRESS', self.row().status)
        db_bays.release_bay(self.bay.uuid, 'other-host')
        self.wait_for(lambda: self.row().status == 'CREATE_COMPLETE',
                      'the bay to be written')
        self.assertEqual('COMPLETE', db_actions.get(self.action.uuid).status)

    def test_a_bay_locked_for_good_is_left_to_the_reconciler(self):
        self.useFixture(fixtures.MockPatchObject(
            bay_handler, '_WATCH_RETRIES', 3))
        self.useFixture(fixtures.MockPatchObject(
            bay_handler, '_WATCH_RETRY_DELAY', 0.005))
        self.start()
        self.settle()
        self.provisioner.answers['observe'] = observed()
        db_bays.reserve_bay(self.bay.uuid, 'other-host')
        self.changed()
        self.wait_for(lambda: self.provisioner.count('observe') == 4,
                      'the retries')
        time.sleep(0.05)
        self.idle()
        self.assertEqual(4, self.provisioner.count('observe'))
        self.assertIsNone(self.row().health_status)


class TestOwnership(WatchTestCase):

    def heartbeat(self, *hosts):
        for host in hosts:
            db_services.report_service(host, magnum_service.CONDUCTOR)

    def test_a_bay_another_conductor_owns_is_left_alone(self):
        self.heartbeat('other-host')
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.start(rings=_Rings(['other-host']))
        self.changed()
        self.idle()
        self.assertEqual([], self.provisioner.calls)
        self.assertEqual('CREATE_IN_PROGRESS', self.row().status)
        self.assertEqual('PENDING', db_actions.get(self.action.uuid).status)

    def test_a_bay_this_conductor_owns_is_written(self):
        self.heartbeat('test-host')
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.start(rings=_Rings(['test-host']))
        self.changed()
        self.wait_for(lambda: self.row().status == 'CREATE_COMPLETE',
                      'the bay to be written')

    def test_ownership_is_the_handlers_rings(self):
        """The rings the handler was given decide, as for the reconciler
        (no heartbeat rows here: only the rings say who is live)."""
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.start(rings=_Rings(['test-host']))
        self.changed()
        self.idle()
        self.assertEqual('CREATE_COMPLETE', self.row().status)

    def test_of_two_conductors_only_the_owner_writes(self):
        self.heartbeat('test-host', 'other-host')
        rings = _Rings(['test-host', 'other-host'])
        ring = rings.get()
        mine = next(b for b in (
            utils.bay(self.context, self.baymodel, name='m%d' % n)
            for n in range(40)) if ring.owns('test-host', b.uuid))
        theirs = next(b for b in (
            utils.bay(self.context, self.baymodel, name='t%d' % n)
            for n in range(40)) if not ring.owns('test-host', b.uuid))
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        self.start(rings=rings)
        self.changed(theirs)
        self.changed(mine)
        self.wait_for(lambda: self.row(mine).status == 'CREATE_COMPLETE',
                      'my bay to be written')
        self.idle()
        self.assertEqual('CREATE_IN_PROGRESS', self.row(theirs).status)
        self.assertEqual([('poll', mine.uuid)], self.provisioner.calls)
