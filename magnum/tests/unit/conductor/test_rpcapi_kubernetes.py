"""The conductor API's Kubernetes object calls, and how a conductor's
exception reaches the API over a real broker's wire format.
"""

import sys
from unittest import mock

from oslo_messaging._drivers import common as driver_common

from magnum.common import exception
from magnum.conductor import api as conductor_api
from magnum.tests import base


class TestKubeObjectCalls(base.TestCase):

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.api = conductor_api.ConductorAPI()

    def test_every_kube_object_method_is_a_call(self):
        calls = [
            ('kube_object_list', ('pod', 'b'), {}),
            ('kube_object_show', ('rc', 'b', 'x'), {}),
            ('kube_object_create', ('service', 'b'), {'manifest': 'm'}),
            ('kube_object_update', ('pod', 'b', 'x', []), {}),
            ('kube_object_delete', ('pod', 'b', 'x'), {}),
        ]
        with mock.patch.object(self.api._client, 'prepare') as prepare:
            for method, args, kwargs in calls:
                getattr(self.api, method)(self.context, *args, **kwargs)
                self.assertEqual(method,
                                 prepare.return_value.call.call_args[0][1])
                self.assertEqual(args[0], prepare.return_value.call
                                 .call_args[1]['kind'])
            prepare.return_value.cast.assert_not_called()


class TestRemoteException(base.TestCase):
    """A broker carries the conductor's traceback with the exception."""

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.api = conductor_api.ConductorAPI()

    def _remote(self, e):
        try:
            raise e
        except exception.MagnumException:
            data = driver_common.serialize_remote_exception(sys.exc_info())
        return driver_common.deserialize_remote_exception(
            data, ['magnum.common.exception'])

    def test_users_see_the_message_not_the_traceback(self):
        remote = self._remote(exception.KubernetesObjectExists(
            kind='Pod', name='web', bay='b1', reason='pods "web" exists'))
        self.assertIn('Traceback', str(remote))  # what oslo.messaging does

        with mock.patch.object(self.api._client, 'prepare') as prepare:
            prepare.return_value.call.side_effect = remote
            e = self.assertRaises(exception.KubernetesObjectExists,
                                  self.api.kube_object_list, self.context,
                                  'pod', 'b1')
        self.assertEqual(409, e.code)
        self.assertEqual('Pod web already exists in bay b1: pods "web" '
                         'exists', str(e))
        self.assertNotIn('Traceback', str(e))
