from unittest import mock

import oslo_messaging as messaging

from magnum.conductor import api as conductor_api
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

    def test_topic_comes_from_config(self):
        self.conf.config(topic='elsewhere', group='conductor')
        self.assertEqual('elsewhere',
                         conductor_api.ConductorAPI()._client.target.topic)
