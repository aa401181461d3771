import time
from unittest import mock

import oslo_messaging as messaging

from magnum.common import exception
from magnum.common import rpc
from magnum.conductor import api as conductor_api
from magnum.conductor import hash_ring
from magnum.db import api as db_api
from magnum.tests import base
from magnum.tests.unit import utils


class TestConductorAPI(base.TestCase):

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.api = conductor_api.ConductorAPI()
        self.bay = utils.bay(self.context, utils.baymodel(self.context))

    def test_changes_are_casts_never_calls(self):
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            for method in ('bay_create', 'bay_update', 'bay_delete'):
                getattr(self.api, method)(self.context, self.bay)
                prepare.return_value.cast.assert_called_with(
                    self.context, method, bay=self.bay)
            prepare.return_value.call.assert_not_called()

    def test_unsendable_cast_is_logged_not_raised(self):
        """The row is already written; the reconciler finishes the work."""
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            prepare.return_value.cast.side_effect = (
                messaging.MessageDeliveryFailure('broker down'))
            self.api.bay_create(self.context, self.bay)

    def test_bay_messages_go_to_the_owner_on_the_ring(self):
        for host in ('c1', 'c2', 'c3'):
            db_api.report_service(host, 'magnum-conductor')
        owner = hash_ring.Ring(['c1', 'c2', 'c3']).owner(self.bay.uuid)
        api = conductor_api.ConductorAPI()
        with mock.patch.object(api._client, 'prepare') as prepare:
            api.bay_delete(self.context, self.bay)
            api.kube_object_list(self.context, 'pod', self.bay.uuid)
        self.assertEqual(
            [mock.call(server=owner, retry=1),
             mock.call(server=owner, retry=1, timeout=60)],
            prepare.call_args_list)

    def test_no_live_conductor_means_the_topic(self):
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            self.api.bay_create(self.context, self.bay)
        prepare.assert_called_once_with(server=None, retry=1)

    def test_unreadable_ring_means_the_topic(self):
        rings = mock.Mock()
        rings.get.side_effect = RuntimeError('database down')
        api = conductor_api.ConductorAPI(rings=rings)
        self.assertIsNone(api.owner(self.bay.uuid))

    def test_cast_reaches_the_owners_own_queue(self):
        """Over the in-process transport: only the owner's server gets it."""
        for host in ('c1', 'c2'):
            db_api.report_service(host, 'magnum-conductor')
        owner = hash_ring.Ring(['c1', 'c2']).owner(self.bay.uuid)
        got = {}
        servers = []

        class Endpoint:
            target = messaging.Target(
                version=conductor_api.ConductorAPI.RPC_API_VERSION)

            def __init__(self, host):
                self.host = host

            def bay_create(self, context, bay):
                got[self.host] = bay.uuid

        for host in ('c1', 'c2'):
            server = rpc.get_server(
                messaging.Target(topic='ring-test', server=host),
                [Endpoint(host)])
            server.start()
            servers.append(server)
        try:
            conductor_api.ConductorAPI(topic='ring-test').bay_create(
                self.context, self.bay)
            for _ in range(100):
                if got:
                    break
                time.sleep(0.05)
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
