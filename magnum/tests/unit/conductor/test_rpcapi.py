import threading
from unittest import mock

import oslo_messaging as messaging

from magnum.common import exception
from magnum.conductor import api as conductor_api
from magnum.conductor import hash_ring
from magnum.conductor import rpc
from magnum.db import services as db_services
from magnum.tests import base
from magnum.tests.unit import utils


class TestConductorAPI(base.TestCase):

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.api = conductor_api.ConductorAPI()
        self.bay = utils.bay(self.context, utils.baymodel(self.context))
        self.action = mock.Mock(uuid='a1', bay_uuid=self.bay.uuid)

    def test_changes_are_casts_never_calls(self):
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            self.api.action_run(self.context, self.action)
            prepare.return_value.cast.assert_called_with(
                self.context, 'action_run', bay_uuid=self.bay.uuid,
                action_uuid='a1')
            prepare.return_value.call.assert_not_called()

    def test_unsendable_cast_is_logged_not_raised(self):
        """The row is already written; the reconciler finishes the work.

        The operator is told which message was lost, for which bay, and why.
        """
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            cast = prepare.return_value.cast
            cast.side_effect = messaging.MessageDeliveryFailure('broker down')
            with self.assertLogs('magnum.conductor.api', 'WARNING') as logs:
                # Nothing is raised: the change was accepted.
                self.assertIsNone(
                    self.api.action_run(self.context, self.action))
        cast.assert_called_once_with(self.context, 'action_run',
                                     bay_uuid=self.bay.uuid,
                                     action_uuid='a1')
        self.assertEqual(1, len(logs.records), logs.output)
        record = logs.records[0]
        self.assertEqual('WARNING', record.levelname)
        self.assertIn('Could not send action_run for bay %s (action a1)'
                      % self.bay.uuid, record.getMessage())
        self.assertTrue(record.exc_info, 'no traceback in the log')
        self.assertIs(messaging.MessageDeliveryFailure, record.exc_info[0])

    def test_bay_messages_go_to_the_owner_on_the_ring(self):
        for host in ('c1', 'c2', 'c3'):
            db_services.report_service(host, 'magnum-conductor')
        owner = hash_ring.Ring(['c1', 'c2', 'c3']).owner(self.bay.uuid)
        api = conductor_api.ConductorAPI()
        with mock.patch.object(api._client, 'prepare') as prepare:
            api.action_run(self.context, self.action)
            api.kube_object_list(self.context, 'pod', self.bay.uuid)
        self.assertEqual(
            [mock.call(server=owner, retry=1),
             mock.call(server=owner, retry=1, timeout=60)],
            prepare.call_args_list)

    def test_no_live_conductor_means_the_topic(self):
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            self.api.action_run(self.context, self.action)
        prepare.assert_called_once_with(server=None, retry=1)

    def test_unreadable_ring_means_the_topic(self):
        rings = mock.Mock()
        rings.get.side_effect = RuntimeError('database down')
        api = conductor_api.ConductorAPI(rings=rings)
        self.assertIsNone(api.owner(self.bay.uuid))

    def test_cast_reaches_the_owners_own_queue(self):
        """Over the in-process transport: only the owner's server gets it."""
        for host in ('c1', 'c2'):
            db_services.report_service(host, 'magnum-conductor')
        owner = hash_ring.Ring(['c1', 'c2']).owner(self.bay.uuid)
        got = {}
        delivered = threading.Event()
        servers = []

        class Endpoint:
            target = messaging.Target(
                version=conductor_api.ConductorAPI.RPC_API_VERSION)

            def __init__(self, host):
                self.host = host

            def action_run(self, context, bay_uuid, action_uuid):
                got[self.host] = bay_uuid
                delivered.set()

        for host in ('c1', 'c2'):
            server = rpc.get_server(
                messaging.Target(topic='ring-test', server=host),
                [Endpoint(host)])
            server.start()
            servers.append(server)
        try:
            conductor_api.ConductorAPI(topic='ring-test').action_run(
                self.context, self.action)
            # NOTE: the servers' threads are real: wait for the delivery
            # itself (bounded), not for a clock.
            self.assertTrue(delivered.wait(5), 'no server got the cast')
        finally:
            for server in servers:
                server.stop()
                server.wait()
        self.assertEqual({owner: self.bay.uuid}, got)

    def test_topic_comes_from_config(self):
        self.conf.config(topic='elsewhere', group='conductor')
        self.assertEqual('elsewhere',
                         conductor_api.ConductorAPI()._client.target.topic)


class _Endpoint:
    target = messaging.Target(
        version=conductor_api.ConductorAPI.RPC_API_VERSION)

    def answer(self, context, value):
        return {'value': value, 'project': context.project_id}

    def missing(self, context):
        raise exception.BayNotFound(bay='b1')


class TestConductorCalls(base.TestCase):
    """Synchronous calls over the in-process transport, to a real server."""

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.conf.config(rpc_call_timeout=1, group='conductor')
        self.api = conductor_api.ConductorAPI(topic='calls-test')

    def _serve(self):
        server = rpc.get_server(
            messaging.Target(topic='calls-test', server='h1'), [_Endpoint()])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def test_answer_and_context_travel(self):
        self._serve()
        self.assertEqual({'value': 3, 'project': self.context.project_id},
                         self.api._call(self.context, 'answer', value=3))

    def test_magnum_exception_comes_back_as_itself(self):
        self._serve()
        e = self.assertRaises(exception.BayNotFound,
                              self.api._call, self.context, 'missing')
        self.assertEqual(404, e.code)

    def test_a_refusal_is_an_answer_not_a_logged_error(self):
        from magnum.conductor import manager
        server = rpc.get_server(
            messaging.Target(topic='calls-test', server='h1'),
            [manager.ConductorManager('h1')])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        bay = utils.bay(self.context, utils.baymodel(self.context))
        with self.assertNoLogs('oslo_messaging', level='ERROR'):
            e = self.assertRaises(exception.BayHasNoCA, self.api._call,
                                  self.context, 'ca_sign',
                                  bay_uuid=bay.uuid, csr='x')
        self.assertEqual(404, e.code)

    def test_no_conductor_is_503(self):
        e = self.assertRaises(exception.ConductorUnavailable,
                              self.api._call, self.context, 'answer', value=1)
        self.assertEqual(503, e.code)
        self.assertIn('answer', str(e))
