"""The auth seam: which pipeline runs, and what each one trusts."""

from keystonemiddleware import auth_token  # noqa: F401  (its options)

from magnum.api import app
from magnum.tests.unit.api import base


class TestKeystonePipeline(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(auth_strategy='keystone')
        # Where a 401 tells clients to authenticate; nothing is contacted.
        self.conf.config(www_authenticate_uri='http://keystone.invalid/v3',
                         group='keystone_authtoken')
        self.app = app.load_app()

    def test_version_documents_need_no_token(self):
        for path in ('/', '/v1', '/v1/'):
            self.assertEqual(200, self.get(path).status_int, path)

    def test_resources_without_a_token_are_401_in_the_error_format(self):
        response = self.get('/v1/bays', headers={'X-Auth-Token': None})
        self.assertEqual(401, response.status_int)
        self.assertTrue(self.fault(response))

    def test_healthcheck_needs_no_token(self):
        self.assertEqual(200, self.get('/healthcheck').status_int)


class TestNoAuthPipeline(base.APITestCase):

    def test_identity_comes_from_headers(self):
        body = self.post('/v1/baymodels', {'coe': 'docker'},
                         headers={'X-Project-Id': 'p9',
                                  'X-User-Id': 'u9'}).json
        self.assertEqual(('p9', 'u9'), (body['project_id'], body['user_id']))

    def test_defaults_apply_without_headers(self):
        self.conf.config(project_id='demo', group='noauth')
        body = self.post('/v1/baymodels', {'coe': 'docker'},
                         headers={'X-Project-Id': None, 'X-User-Id': None,
                                  'X-Roles': None}).json
        self.assertEqual('demo', body['project_id'])
