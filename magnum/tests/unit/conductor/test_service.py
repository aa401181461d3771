import threading

from futurist import periodics

from magnum.conductor import api as conductor_api
from magnum.conductor import hash_ring
from magnum.conductor import periodic
from magnum.conductor import service
from magnum.db import bays as db_bays
from magnum.db import services as db_services
from magnum.drivers import base as drivers
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.tests import base
from magnum.tests.unit import fake_provisioner
from magnum.tests.unit import utils


class TestConductorService(base.TestCase):

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.conf.config(periodic_interval=1, group='conductor')
        self.provisioner = fake_provisioner.FakeProvisioner()
        drivers._LOADED['fake'] = self.provisioner
        self.addCleanup(drivers._LOADED.pop, 'fake', None)

    def start(self):
        conductor = service.ConductorService('test-host')
        conductor.start()
        self.addCleanup(conductor.stop)
        return conductor

    def wait_for(self, predicate, timeout=10):
        event = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if predicate():
                return
            event.wait(0.05)
        self.fail('condition not met in %ss' % timeout)

    def test_start_clears_own_stale_reservations_only(self):
        baymodel = utils.baymodel(self.context)
        mine = utils.bay(self.context, baymodel, name='mine',
                         status=bay_obj.CREATE_COMPLETE)
        theirs = utils.bay(self.context, baymodel, name='theirs',
                           status=bay_obj.CREATE_COMPLETE)
        db_bays.reserve_bay(mine.uuid, 'test-host')
        db_bays.reserve_bay(theirs.uuid, 'other-host')
        self.start()
        self.assertIsNone(
            db_bays.get_bay_by_uuid_unscoped(mine.uuid).reservation)
        self.assertEqual(
            'other-host',
            db_bays.get_bay_by_uuid_unscoped(theirs.uuid).reservation)

    def test_cast_reaches_the_handler(self):
        self.start()
        bay = utils.bay(self.context, utils.baymodel(self.context))
        conductor_api.ConductorAPI().action_run(
            self.context, action_obj.Action.open_of(self.context, bay.uuid))
        self.wait_for(lambda: db_bays.get_bay_by_uuid_unscoped(
            bay.uuid).status == 'CREATE_COMPLETE')

    def test_heartbeat_is_reported(self):
        self.start()
        self.wait_for(lambda: [
            s for s in db_services.list_services() if s.host == 'test-host'])

    def test_lost_message_is_finished_by_the_reconciler(self):
        """A bay whose cast never arrived still completes."""
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.CREATE_COMPLETE)
        bay = utils.bay(self.context, utils.baymodel(self.context))
        self.start()
        self.wait_for(lambda: db_bays.get_bay_by_uuid_unscoped(
            bay.uuid).status == 'CREATE_COMPLETE')


    def test_clean_stop_leaves_the_ring_and_gives_bays_back(self):
        conductor = self.start()
        self.wait_for(lambda: 'test-host' in hash_ring.Membership.read().ring)
        bay = utils.bay(self.context, utils.baymodel(self.context),
                        status=bay_obj.CREATE_COMPLETE)
        db_bays.reserve_bay(bay.uuid, 'test-host')
        conductor.stop()
        members = hash_ring.Membership.read()
        self.assertEqual((), members.ring.hosts)
        self.assertEqual(['test-host'], members.down)
        self.assertIsNone(
            db_bays.get_bay_by_uuid_unscoped(bay.uuid).reservation)
        # Back again: its first heartbeat puts it on the ring.
        self.start()
        self.assertIn('test-host', hash_ring.Membership.read().ring)

    def test_heartbeat_has_its_own_thread(self):
        """A periodic pass stuck on a slow backend never stops it."""
        release = threading.Event()
        self.provisioner.poll = lambda context, bays: release.wait(10) or {}
        utils.bay(self.context, utils.baymodel(self.context))
        self.start()
        self.addCleanup(release.set)  # before the stop, which waits for it

        def count():
            return [s.report_count for s in db_services.list_services()
                    if s.host == 'test-host'][0]
        self.wait_for(lambda: count() >= 3, timeout=5)

    def test_heartbeat_keeps_within_the_down_time_whatever_the_interval(self):
        """Reconcile passes ten minutes apart: the heartbeat still comes a
        third of service_down_time apart, and the conductor stays up."""
        self.conf.config(periodic_interval=600, service_down_time=1,
                         group='conductor')
        self.assertAlmostEqual(1 / 3.0, service.heartbeat_interval())
        self.start()

        def count():
            return [s.report_count for s in db_services.list_services()
                    if s.host == 'test-host'][0]
        self.wait_for(lambda: count() >= 3, timeout=5)
        self.assertIn('test-host', hash_ring.Membership.read().ring)

    def test_heartbeat_interval_is_the_pass_interval_when_it_is_short(self):
        self.conf.config(periodic_interval=10, service_down_time=60,
                         group='conductor')
        self.assertEqual(10, service.heartbeat_interval())


class TestPeriodicDeclarations(base.TestCase):

    def test_interval_is_read_when_collected_not_at_import(self):
        class Owner:
            @periodic.periodic()
            def tick(self):
                pass
        self.conf.config(periodic_interval=7, group='conductor')
        tasks = periodic.collect('h', Owner())
        self.assertEqual(1, len(tasks))
        self.assertEqual(7, tasks[0][0]._periodic_spacing)
        self.assertTrue(periodics.is_periodic(tasks[0][0]))
