"""Audit notifications (magnum/lifecycle/audit.py) on a real RabbitMQ.

The notifier runs in this process with ``driver = messagingv2`` on the
machine's RabbitMQ (``MAGNUM_TEST_TRANSPORT_URL`` names another), on a
topic of its own: oslo.messaging names the queues ``<topic>.<priority>``,
so no other test or run reads them. The messages are read back from those
queues with kombu, as any consumer of the notifications would, and the
queues are deleted afterwards.
"""

import json
import time
import types
import uuid

import kombu
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import oslo_messaging.opts
import pytest

from magnum.common import context as magnum_context
from magnum import conf  # noqa: F401  (registers [DEFAULT] host)
from magnum.lifecycle import audit
from magnum.tests.functional import processes

pytestmark = [pytest.mark.rabbitmq]

GROUP = 'oslo_messaging_notifications'
TOKEN = 'sekrit-token-0123456789'
# Seconds a message may take to show up in its queue.
ARRIVAL = 5


def _amqp_url():
    # NOTE: kombu reads ``rabbit://`` as its own, older transport name.
    return processes.RABBIT_URL.replace('rabbit://', 'amqp://', 1)


@pytest.fixture
def topic():
    """[oslo_messaging_notifications] for RabbitMQ on a topic of the
    test's own; yields the topic, deletes its queues after."""
    processes.check_rabbitmq()
    name = 'magnum-audit-test-%s' % uuid.uuid4().hex[:10]
    config = config_fixture.Config(cfg.CONF)
    config.setUp()
    try:
        config.register_opts(dict(oslo_messaging.opts.list_opts())[GROUP],
                             group=GROUP)
        config.config(driver=['messagingv2'],
                      transport_url=processes.RABBIT_URL, topics=[name],
                      retry=0, group=GROUP)
        config.config(host='audit-test')
        audit.reset()
        yield name
    finally:
        audit.reset()
        config.cleanUp()
        with kombu.Connection(_amqp_url(), connect_timeout=5) as connection:
            channel = connection.channel()
            for priority in ('info', 'error'):
                channel.queue_delete('%s.%s' % (name, priority))


def _receive(queue):
    """The next notification in ``queue``: (its envelope, oslo.messaging's
    message), waiting at most ARRIVAL seconds."""
    deadline = time.monotonic() + ARRIVAL
    with kombu.Connection(_amqp_url(), connect_timeout=5) as connection:
        channel = connection.channel()
        while True:
            try:
                message = channel.basic_get(queue, no_ack=True)
            except connection.channel_errors:
                # No such queue (yet): the broker closed the channel.
                channel = connection.channel()
                message = None
            if message is not None:
                envelope = json.loads(message.body)
                return envelope, json.loads(envelope['oslo.message'])
            assert time.monotonic() < deadline, (
                'nothing in %s after %d s' % (queue, ARRIVAL))
            time.sleep(0.05)


def test_start_and_end_arrive_as_cadf_events_in_their_queues(topic):
    context = magnum_context.RequestContext(
        project_id='project-a', user_id='user-a', auth_token=TOKEN,
        request_id='req-%s' % uuid.uuid4(), overwrite=False)
    action = types.SimpleNamespace(
        uuid=str(uuid.uuid4()), bay_uuid=str(uuid.uuid4()), kind='resize',
        status='IN_PROGRESS', status_reason=None, project_id='project-a',
        user_id='user-a', request_id=context.request_id)

    audit.notify(context, action, 'start')
    action.status, action.status_reason = 'FAILED', 'Heat: no capacity'
    audit.notify(context, action, 'end')

    start_envelope, start = _receive('%s.info' % topic)
    end_envelope, end = _receive('%s.error' % topic)
    for (envelope, message, priority, outcome) in (
            (start_envelope, start, 'INFO', 'pending'),
            (end_envelope, end, 'ERROR', 'failure')):
        assert envelope['oslo.version'] == '2.0'
        assert TOKEN not in json.dumps(envelope)
        assert message['event_type'] == 'magnum.cluster.resize'
        assert message['publisher_id'] == 'magnum.audit-test'
        assert message['priority'] == priority
        payload = message['payload']
        assert payload['outcome'] == outcome
        assert payload['action'] == 'update/resize'
        assert payload['target']['id'] == action.bay_uuid
        assert payload['initiator']['request_id'] == context.request_id
        assert payload['initiator']['project_id'] == 'project-a'
        [recorded] = [a['content'] for a in payload['attachments']
                      if a['name'] == 'action']
        assert recorded['uuid'] == action.uuid
        # The context travels too, redacted.
        assert message['_context_request_id'] == context.request_id
    assert end['payload']['attachments'][0]['content']['status_reason'] == (
        'Heat: no capacity')
