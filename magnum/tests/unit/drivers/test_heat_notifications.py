"""Heat's notifications as bay changes (magnum/drivers/heat/notifications.py):
which stacks name a bay, and a notification sent on oslo.messaging's
in-process transport reaching the subscriber."""

import threading
import uuid

import fixtures
import oslo_messaging as messaging

from magnum.drivers import heat
from magnum.drivers.heat import notifications
from magnum.tests import base

BAY = str(uuid.uuid4())


def _payload(**fields):
    """Heat's notification body (heat/engine/api.py
    format_notification_body) of a bay's stack."""
    return dict({'stack_identity': str(uuid.uuid4()),
                 'stack_name': 'my-bay-%s' % BAY,
                 'state': 'CREATE_COMPLETE', 'state_reason': 'done',
                 'tags': ['magnum'], 'tenant_id': 'p'}, **fields)


class TestBayOf(base.TestCase):

    def test_a_bays_stack_names_the_bay(self):
        self.assertEqual(BAY, notifications.bay_of(_payload()))

    def test_a_renamed_bay_is_found_by_the_uuid_its_stack_ends_with(self):
        self.assertEqual(BAY, notifications.bay_of(
            _payload(stack_name='bay-1st-name-%s' % BAY)))

    def test_nested_and_foreign_stacks_name_no_bay(self):
        for payload in (
                # Heat's nested stack: "<parent>-<resource>-<short id>",
                # without the parent's tags.
                _payload(stack_name='my-bay-%s-kube_masters-abcdefgh1234'
                         % BAY, tags=None),
                _payload(tags=None),
                _payload(tags=['other']),
                _payload(stack_name='someones-stack', tags=['magnum']),
                _payload(stack_name=None),
                'not a dict'):
            self.assertIsNone(notifications.bay_of(payload), payload)

    def test_the_tag_is_the_configured_one(self):
        self.conf.config(stack_tag='site-magnum', group='heat')
        self.assertIsNone(notifications.bay_of(_payload()))
        self.assertEqual(BAY, notifications.bay_of(
            _payload(tags=['site-magnum'])))

    def test_each_conductor_listens_in_a_pool_of_its_own(self):
        self.conf.config(host='conductor-7')
        self.assertEqual('magnum-conductor-conductor-7',
                         notifications.pool_name())


class TestListener(base.TestCase):
    """A real notification listener on the in-process transport."""

    def setUp(self):
        super().setUp()
        self.transport = messaging.get_notification_transport(
            self.conf.conf, url='fake:///')
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.get_notification_transport',
            lambda *a, **k: self.transport))
        # NOTE: Heat's notifier sends on its control_exchange (here the
        # in-process transport's).
        self.conf.config(notification_exchange=self.conf.conf.control_exchange,
                         group='heat')
        self.conf.config(auth_type='password', group='heat')
        self.heard = []
        self.event = threading.Event()

    def notify(self, bay_uuid):
        self.heard.append(bay_uuid)
        self.event.set()

    def send(self, event_type, payload, priority='info'):
        notifier = messaging.Notifier(
            self.transport, publisher_id='orchestration.heat-host',
            driver='messagingv2', topics=['notifications'])
        getattr(notifier, priority)({}, event_type, payload)

    def test_a_stack_notification_names_its_bay_to_the_subscriber(self):
        provisioner = heat.HeatProvisioner()
        provisioner.start_watch(self.notify)
        self.addCleanup(provisioner.stop_watch, self.notify)
        # NOTE: the listener connects on a thread of its own: sent again
        # until it hears.
        for _ in range(50):
            # Not a stack's; a nested stack's: nothing.
            self.send('orchestration.autoscaling.end', _payload())
            self.send('orchestration.stack.create.end',
                      _payload(stack_name='x-%s-node-abc' % BAY, tags=None))
            self.send('orchestration.stack.create.error', _payload(),
                      priority='error')
            if self.event.wait(0.2):
                break
        self.assertTrue(self.heard)
        self.assertEqual({BAY}, set(self.heard))

    def test_no_listener_when_turned_off(self):
        self.conf.config(listen_notifications=False, group='heat')
        provisioner = heat.HeatProvisioner()
        provisioner.start_watch(self.notify)
        self.addCleanup(provisioner.stop_watch, self.notify)
        self.assertIsNone(provisioner._notifications._listener)

    def test_a_stop_during_the_start_stops_it_once_started(self):
        listener = notifications.Listener()
        for _ in range(5):
            listener.subscribe(self.notify)
            listener.unsubscribe(self.notify)
        for _ in range(100):
            if not listener._pending:
                break
            self.event.wait(0.05)
        self.assertEqual({}, listener._pending)
        self.assertIsNone(listener._listener)
