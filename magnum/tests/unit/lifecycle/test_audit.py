"""Audit notifications of actions (magnum/lifecycle/audit.py), sent through
oslo.messaging's in-memory ``test`` driver on the ``fake://`` transport.
"""

import json
import types
from unittest import mock

import oslo_messaging
from oslo_messaging.notify import _impl_test
import oslo_messaging.opts
from oslo_utils import uuidutils

from magnum.common import context as magnum_context
from magnum.lifecycle import audit
from magnum.tests import base

GROUP = 'oslo_messaging_notifications'
TOKEN = 'sekrit-token-0123456789'

# kind -> the CADF action of its events
CADF_ACTIONS = {
    'create': 'create',
    'update': 'update',
    'resize': 'update/resize',
    'upgrade': 'update/upgrade',
    'delete': 'delete',
    'nodegroup_create': 'update/nodegroup_create',
    'nodegroup_update': 'update/nodegroup_update',
    'nodegroup_delete': 'update/nodegroup_delete',
    'rotate_ca': 'update/rotate_ca',
    'rotate_credential': 'update/rotate_credential',
}


def action(**values):
    """What ``notify`` reads of an action, and nothing more."""
    fields = dict(uuid=uuidutils.generate_uuid(),
                  bay_uuid=uuidutils.generate_uuid(), kind='resize',
                  status='PENDING', status_reason=None,
                  project_id='project-of-the-action',
                  user_id='user-of-the-action', request_id='req-of-the-action')
    fields.update(values)
    return types.SimpleNamespace(**fields)


def attachment(payload, name='action'):
    [found] = [a for a in payload['attachments'] if a['name'] == name]
    return found


class AuditTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        # NOTE: oslo.messaging registers its notification options when it
        # first makes a transport; a test sets them before that.
        notification_opts = dict(oslo_messaging.opts.list_opts())[GROUP]
        self.conf.register_opts(notification_opts, group=GROUP)
        self.conf.config(transport_url='fake://', driver=['test'],
                         group=GROUP)
        audit.reset()
        self.addCleanup(audit.reset)
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self.context = magnum_context.RequestContext(
            project_id='project-a', user_id='user-a', auth_token=TOKEN,
            roles=['member'])

    def sent(self):
        """[(context dict, message, priority)] sent since the test began."""
        return [(ctxt.to_dict() if hasattr(ctxt, 'to_dict') else ctxt,
                 message, priority)
                for ctxt, message, priority, _ in _impl_test.NOTIFICATIONS]

    def only_message(self):
        [(_, message, _)] = self.sent()
        return message


class TestEvents(AuditTestCase):

    def test_start_is_pending_at_info_for_every_kind(self):
        for kind, cadf_action in CADF_ACTIONS.items():
            _impl_test.reset()
            audit.notify(self.context, action(kind=kind), 'start')
            message = self.only_message()
            self.assertEqual('magnum.cluster.%s' % kind,
                             message['event_type'])
            self.assertEqual('INFO', message['priority'])
            self.assertEqual('pending', message['payload']['outcome'])
            self.assertEqual(cadf_action, message['payload']['action'])

    def test_end_outcome_follows_the_status_of_the_action(self):
        for status, outcome, priority in (
                ('COMPLETE', 'success', 'INFO'),
                ('FAILED', 'failure', 'ERROR'),
                ('ROLLED_BACK', 'failure', 'ERROR')):
            _impl_test.reset()
            audit.notify(self.context,
                         action(kind='upgrade', status=status), 'end')
            message = self.only_message()
            self.assertEqual('magnum.cluster.upgrade', message['event_type'])
            self.assertEqual(priority, message['priority'], status)
            self.assertEqual(outcome, message['payload']['outcome'], status)
            self.assertEqual(status,
                             attachment(message['payload'])['content']
                             ['status'])

    def test_payload_is_a_cadf_event_about_the_bay(self):
        asked = action(kind='delete', status='FAILED',
                       status_reason='Heat: stack delete failed')
        audit.notify(self.context, asked, 'end')
        message = self.only_message()
        self.assertEqual('magnum.test-host', message['publisher_id'])
        payload = message['payload']
        self.assertEqual('http://schemas.dmtf.org/cloud/audit/1.0/event',
                         payload['typeURI'])
        self.assertEqual('activity', payload['eventType'])
        self.assertEqual('delete', payload['action'])
        self.assertEqual('failure', payload['outcome'])
        self.assertEqual({'id': asked.bay_uuid,
                          'typeURI': 'service/magnum/cluster'},
                         payload['target'])
        self.assertEqual('service/magnum/cluster',
                         payload['observer']['typeURI'])
        initiator = payload['initiator']
        self.assertEqual('service/security/account/user',
                         initiator['typeURI'])
        self.assertEqual('project-of-the-action', initiator['project_id'])
        self.assertEqual('user-of-the-action', initiator['user_id'])
        self.assertEqual('req-of-the-action', initiator['request_id'])
        self.assertEqual(
            {'typeURI': 'service/magnum/cluster/action', 'name': 'action',
             'content': {'uuid': asked.uuid, 'kind': 'delete',
                         'status': 'FAILED',
                         'status_reason': 'Heat: stack delete failed'}},
            attachment(payload))
        # What crosses the wire is JSON as it is.
        self.assertEqual(payload, json.loads(json.dumps(payload)))

    def test_start_and_end_of_one_action_share_its_uuid_and_request(self):
        asked = action()
        audit.notify(self.context, asked, 'start')
        asked.status = 'COMPLETE'
        audit.notify(self.context, asked, 'end')
        start, end = [message['payload'] for _, message, _ in self.sent()]
        for payload in (start, end):
            self.assertEqual(asked.uuid, attachment(payload)['content']
                             ['uuid'])
            self.assertEqual('req-of-the-action',
                             payload['initiator']['request_id'])
        self.assertNotEqual(start['id'], end['id'])

    def test_the_action_names_who_asked_even_from_a_periodic_task(self):
        conductor = magnum_context.make_admin_context()
        audit.notify(conductor, action(status='COMPLETE'), 'end')
        initiator = self.only_message()['payload']['initiator']
        self.assertEqual('user-of-the-action', initiator['user_id'])
        self.assertEqual('project-of-the-action', initiator['project_id'])
        self.assertEqual('req-of-the-action', initiator['request_id'])

    def test_the_context_stands_in_for_what_the_action_lacks(self):
        audit.notify(self.context,
                     action(user_id=None, request_id=None), 'start')
        initiator = self.only_message()['payload']['initiator']
        self.assertEqual('user-a', initiator['user_id'])
        self.assertEqual('project-of-the-action', initiator['project_id'])
        self.assertEqual(self.context.request_id, initiator['request_id'])

    def test_no_token_in_the_payload_or_the_context_sent(self):
        audit.notify(self.context, action(), 'start')
        [(ctxt, message, _)] = self.sent()
        self.assertNotIn(TOKEN, json.dumps(message))
        self.assertNotIn(TOKEN, json.dumps(ctxt, default=str))
        self.assertEqual('user-a', ctxt['user'])
        self.assertEqual(self.context.request_id, ctxt['request_id'])

    def test_no_context_at_all_is_fine(self):
        audit.notify(None, action(), 'start')
        [(ctxt, message, _)] = self.sent()
        self.assertEqual({}, ctxt)
        self.assertEqual('req-of-the-action',
                         message['payload']['initiator']['request_id'])

    def test_a_phase_other_than_start_or_end_is_a_bug_of_the_caller(self):
        self.assertRaises(ValueError, audit.notify, self.context, action(),
                          'begin')
        self.assertEqual([], self.sent())


class TestNoDriver(AuditTestCase):

    def test_no_driver_or_noop_builds_and_sends_nothing(self):
        for drivers in ([], ['noop']):
            self.conf.config(driver=drivers, group=GROUP)
            audit.reset()
            with mock.patch.object(audit, '_event') as event:
                audit.notify(self.context, action(), 'start')
                audit.notify(self.context, action(status='FAILED'), 'end')
            event.assert_not_called()
            self.assertEqual([], self.sent(), drivers)

    def test_reset_reads_the_configuration_again(self):
        self.conf.config(driver=['noop'], group=GROUP)
        audit.reset()
        audit.notify(self.context, action(), 'start')
        self.assertEqual([], self.sent())
        self.conf.config(driver=['test'], group=GROUP)
        audit.notify(self.context, action(), 'start')
        self.assertEqual([], self.sent(), 'made once per process')
        audit.reset()
        audit.notify(self.context, action(), 'start')
        self.assertEqual(1, len(self.sent()))


class TestFailures(AuditTestCase):

    def test_the_broker_is_waited_for_within_a_bound(self):
        for configured, used in ((-1, 1), (0, 0), (5, 5)):
            self.conf.config(retry=configured, group=GROUP)
            audit.reset()
            _impl_test.reset()
            audit.notify(self.context, action(), 'start')
            [(_, _, _, retry)] = _impl_test.NOTIFICATIONS
            self.assertEqual(used, retry, configured)

    def test_a_transport_that_fails_to_deliver_is_logged_not_raised(self):
        self.conf.config(driver=['messagingv2'], group=GROUP)
        audit.reset()
        with mock.patch.object(
                oslo_messaging.transport.Transport, '_send_notification',
                side_effect=oslo_messaging.MessageDeliveryFailure(
                    'broker down')) as send:
            with self.assertLogs(level='ERROR') as logs:
                self.assertIsNone(
                    audit.notify(self.context, action(), 'start'))
        send.assert_called_once()
        # oslo.messaging logs what its driver could not deliver.
        self.assertIn('broker down', '\n'.join(logs.output))
        self.assertNotIn(TOKEN, '\n'.join(logs.output))

    def test_a_transport_that_cannot_be_made_is_logged_not_raised(self):
        self.conf.config(transport_url='nosuchdriver://', group=GROUP)
        audit.reset()
        asked = action()
        with self.assertLogs('magnum.lifecycle.audit', 'WARNING') as logs:
            self.assertIsNone(audit.notify(self.context, asked, 'start'))
        [record] = logs.records
        self.assertIn('action %s not sent' % asked.uuid, record.getMessage())
        self.assertIn('nosuchdriver', record.getMessage())
        # Once the configuration is mended, the next one goes out.
        self.conf.config(transport_url='fake://', group=GROUP)
        audit.notify(self.context, asked, 'start')
        self.assertEqual(1, len(self.sent()))

    def test_an_action_that_cannot_be_read_is_logged_not_raised(self):
        broken = types.SimpleNamespace(uuid='a-uuid', kind='resize')
        with self.assertLogs('magnum.lifecycle.audit', 'WARNING') as logs:
            self.assertIsNone(audit.notify(self.context, broken, 'end'))
        self.assertIn('action a-uuid not sent', logs.output[0])
        self.assertEqual([], self.sent())
