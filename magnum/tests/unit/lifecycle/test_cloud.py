"""What magnum/lifecycle/cloud.py decides without a cloud: which requests
are checked at all, what a catalog without the services skips, and how
the image's os_distro decides cluster_distro.

The lookups themselves run against a real Glance, Nova API and
neutron-server in magnum/tests/functional/test_cloud_checks.py.
"""

import fixtures
from keystoneauth1 import access
from keystoneauth1 import fixture as ks_fixture
from keystonemiddleware.auth_token import _user_plugin
import requests

from magnum.common import exception
from magnum.lifecycle import cloud
from magnum.tests import base

TEMPLATE = {'image_id': 'fedora-40', 'flavor_id': 'm1.small',
            'master_flavor_id': 'm1.medium', 'keypair_id': 'default',
            'external_network_id': 'public', 'fixed_network': 'private',
            'fixed_subnet': 'private-subnet'}


def user_auth(catalog=()):
    """keystonemiddleware's plugin of a user's token whose catalog has the
    services ``catalog`` ((type, url) pairs), as the API gets it."""
    token = ks_fixture.V3Token(user_id='user-a', project_id='project-a')
    for service_type, url in catalog:
        token.add_service(service_type).add_standard_endpoints(public=url)
    return _user_plugin.UserAuthPlugin(
        access.create(body=token, auth_token='token-a'), None)


class TestWhatIsChecked(base.TestCase):

    def setUp(self):
        super().setUp()
        cloud._said.clear()
        self.addCleanup(cloud._said.clear)

    def test_a_static_template_is_not_looked_up(self):
        self.context.user_auth = user_auth()
        self.assertEqual({}, cloud.check_template(self.context, 'static',
                                                  dict(TEMPLATE)))

    def test_without_a_token_nothing_is_looked_up_and_the_log_says_so(self):
        self.context.user_auth = None
        with self.assertLogs('magnum.lifecycle.cloud', 'INFO') as logs:
            self.assertEqual({}, cloud.check_template(
                self.context, 'heat', dict(TEMPLATE)))
            cloud.check_template(self.context, 'heat', dict(TEMPLATE))
        [line] = logs.output
        self.assertIn('carry no Keystone token', line)

    def test_services_missing_from_the_catalog_are_skipped_once_each(self):
        # NOTE: the catalog has only Keystone: every lookup finds no
        # endpoint, before any request is sent.
        self.context.user_auth = user_auth(
            [('identity', 'http://127.0.0.1:1/identity')])
        with self.assertLogs('magnum.lifecycle.cloud', 'INFO') as logs:
            for _ in range(2):
                self.assertEqual({}, cloud.check_template(
                    self.context, 'capi', dict(TEMPLATE)))
        said = '\n'.join(logs.output)
        self.assertEqual(4, len(logs.output), said)
        for check, service in (('image', 'image'), ('flavor', 'compute'),
                               ('keypair', 'compute'),
                               ('network', 'network')):
            self.assertIn('The %s check of templates and bays is skipped: '
                          'the catalog has no %s endpoint' % (check, service),
                          said)

    def test_checks_turned_off_look_nothing_up(self):
        self.conf.config(checks=[], group='cloud_checks')
        # NOTE: an endpoint nothing listens on: a lookup would be a 503.
        self.context.user_auth = user_auth(
            [('image', 'http://127.0.0.1:9/'), ('compute', 'http://127.0.0.1:9/'),
             ('network', 'http://127.0.0.1:9/')])
        self.assertEqual({}, cloud.check_template(self.context, 'heat',
                                                  dict(TEMPLATE)))

    def test_a_service_that_does_not_answer_is_a_503_naming_it(self):
        """No network here: the HTTP transport under keystoneauth raises
        as it does when nothing listens, keystoneauth makes its own
        ConnectFailure of it."""
        self.conf.config(checks=['flavor'], group='cloud_checks')
        self.context.user_auth = user_auth([('compute', 'http://nova/')])
        self.useFixture(fixtures.MockPatch(
            'requests.Session.request',
            side_effect=requests.exceptions.ConnectionError(
                'Connection refused')))
        e = self.assertRaises(exception.ServiceUnavailable,
                              cloud.check_template, self.context, 'heat',
                              dict(TEMPLATE))
        self.assertIn('the compute service (Nova) did not answer', str(e))
        self.assertEqual(503, e.code)


class TestDistro(base.TestCase):

    def test_the_image_decides_the_distro(self):
        values = {'image_id': 'img'}
        cloud.decide_distro(values, {'cluster_distro': 'ubuntu'})
        self.assertEqual('ubuntu', values['cluster_distro'])

    def test_the_same_distro_asked_is_fine(self):
        values = {'image_id': 'img', 'cluster_distro': 'ubuntu'}
        cloud.decide_distro(values, {'cluster_distro': 'ubuntu'})
        self.assertEqual('ubuntu', values['cluster_distro'])

    def test_another_distro_than_the_images_is_a_400_naming_it(self):
        values = {'image_id': 'img', 'cluster_distro': 'fedora'}
        e = self.assertRaises(exception.InvalidParameterValue,
                              cloud.decide_distro, values,
                              {'cluster_distro': 'ubuntu'})
        self.assertEqual('cluster_distro', e.kwargs['field'])
        self.assertIn("the image 'img' runs 'ubuntu' (its os_distro), not "
                      "'fedora'", str(e))

    def test_nothing_found_leaves_the_distro_as_asked(self):
        values = {'image_id': 'img', 'cluster_distro': 'fedora'}
        cloud.decide_distro(values, {})
        self.assertEqual('fedora', values['cluster_distro'])
