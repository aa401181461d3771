"""Heat's own notifications of stack changes, as changes of bays.

Heat sends ``orchestration.stack.<action>.start|end|error`` (create,
update, delete, rollback, ...) for every stack whose state it sets, when
heat.conf has ``[oslo_messaging_notifications] driver = messagingv2``.
Each conductor listens through a pool of its own (``magnum-conductor-
<host>``): every conductor sees every notification, the one that owns the
bay on the hash ring acts on it (the conductor's watch checks), and no
message is taken from the other consumers of Heat's notifications
(Ceilometer reads the topic's own queue). A notification only says which
bay to look at: the conductor asks Heat (``poll``), so a lost, late or
repeated one changes nothing; the reconcile pass stays the safety net.
"""

import re
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# NOTE: definition.stack_name ends every stack's name with its bay's uuid,
# set when the stack is created (a bay renamed later keeps its stack's
# name). Heat names a nested stack after its parent and resource
# ("<parent>-<resource>-<short id>"), so nested stacks never match; nor do
# they carry the parent's tags.
_BAY_UUID = re.compile(
    r'-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$')


# Seconds a state Heat told of is kept as news; how many bays' states are
# kept before the stale ones are let go.
STATE_FRESH = 30
_STATES_KEPT = 1000


def pool_name():
    """The listener pool (a queue of its own) of this conductor."""
    return 'magnum-conductor-%s' % CONF.host


def bay_of(payload):
    """The uuid of the bay whose stack ``payload`` (Heat's notification
    body) tells of, or None: a nested stack, a stack not Magnum's."""
    if not isinstance(payload, dict):
        return None
    if CONF.heat.stack_tag not in (payload.get('tags') or ()):
        return None
    match = _BAY_UUID.search(payload.get('stack_name') or '')
    return match.group(1) if match else None


class _Endpoint:
    """Hands each bay named by a stack notification to ``tell``."""

    filter_rule = messaging.NotificationFilter(
        event_type=r'^orchestration\.stack\.')

    def __init__(self, tell):
        self._tell = tell

    def _heard(self, ctxt, publisher_id, event_type, payload, metadata):
        bay_uuid = bay_of(payload)
        if bay_uuid is not None:
            LOG.debug('Heat: %s of the stack of bay %s', event_type,
                      bay_uuid)
            self._tell(bay_uuid, payload.get('stack_identity'),
                       payload.get('state'))
        # None: the message is acknowledged whatever happened.

    # NOTE: Heat sends start and end at its default_notification_level
    # (INFO unless set otherwise) and failures at ERROR.
    info = warn = error = _heard


class Listener:
    """One notification listener a process, running while anybody is
    subscribed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers = []
        self._listener = None
        self._started = False
        self._transport = None
        # {listener unsubscribed before its start returned: its transport}
        self._pending = {}
        # {bay uuid: (stack id, state, when)}: the last state Heat told of.
        self._states = {}

    def subscribe(self, notify):
        with self._lock:
            self._subscribers.append(notify)
            if self._listener is not None:
                return
            # NOTE: the listener is made here, its connection on a thread
            # of its own: a notification broker that is down must not hold
            # the conductor's start (oslo.messaging retries it).
            self._transport = messaging.get_notification_transport(
                CONF, url=CONF.heat.notification_transport_url)
            target = messaging.Target(
                topic=CONF.heat.notification_topic,
                exchange=CONF.heat.notification_exchange)
            self._listener = messaging.get_notification_listener(
                self._transport, [target], [_Endpoint(self._tell)],
                executor='threading', pool=pool_name(), allow_requeue=False)
            listener = self._listener
        thread = threading.Thread(target=self._start, args=(listener,),
                                  name='magnum-heat-notifications',
                                  daemon=True)
        thread.start()

    def _start(self, listener):
        try:
            listener.start()
        except Exception:
            LOG.exception('Could not listen for Heat\'s notifications '
                          '(exchange %s, topic %s); bays follow their stacks '
                          'at each reconcile pass only',
                          CONF.heat.notification_exchange,
                          CONF.heat.notification_topic)
            with self._lock:
                transport = self._transport_of(listener)
            if transport is not None:
                transport.cleanup()
            return
        with self._lock:
            current = listener is self._listener
            # NOTE: only the current listener's start says it started: an
            # older one's, returning late, must not mark the current one
            # as not started (its unsubscribe would then wait, forever,
            # for a start that already returned).
            if current:
                self._started = True
            transport = None if current else self._transport_of(listener)
        if not current:
            # NOTE: unsubscribed while it connected: stopped here, as
            # oslo.messaging's stop() would have waited for this start.
            self._stop(listener, transport)
            return
        LOG.info('Listening for Heat\'s notifications (exchange %s, topic '
                 '%s, pool %s)', CONF.heat.notification_exchange,
                 CONF.heat.notification_topic, pool_name())

    def unsubscribe(self, notify):
        with self._lock:
            if notify in self._subscribers:
                self._subscribers.remove(notify)
            if self._subscribers or self._listener is None:
                return
            listener, self._listener = self._listener, None
            started, self._started = self._started, False
            if not started:
                # Its start (on its own thread) stops it when it returns.
                self._pending[listener] = self._transport
                self._transport = None
                return
            transport, self._transport = self._transport, None
        self._stop(listener, transport)

    def _transport_of(self, listener):
        return self._pending.pop(listener, None)

    @staticmethod
    def _stop(listener, transport):
        try:
            listener.stop()
            listener.wait()
        except Exception:
            LOG.exception('Could not stop listening for Heat\'s '
                          'notifications')
        if transport is not None:
            transport.cleanup()

    def _tell(self, bay_uuid, stack_id=None, state=None):
        now = time.monotonic()
        with self._lock:
            subscribers = list(self._subscribers)
            if stack_id and state:
                self._states[bay_uuid] = (stack_id, state, now)
            if len(self._states) > _STATES_KEPT:
                self._states = {bay: told for bay, told in self._states.items()
                                if now - told[2] < STATE_FRESH}
        for notify in subscribers:
            notify(bay_uuid)

    def told(self, bay_uuid, stack_id):
        """The state Heat last told of for stack ``stack_id`` of bay
        ``bay_uuid`` (``CREATE_COMPLETE``...), if it did within
        ``STATE_FRESH`` seconds; else None.

        NOTE: Heat sends a stack's notification just before it writes the
        stack's new state: a read at once may still find the one before.
        """
        with self._lock:
            told = self._states.get(bay_uuid)
        if (told is None or told[0] != stack_id
                or time.monotonic() - told[2] > STATE_FRESH):
            return None
        return told[1]
