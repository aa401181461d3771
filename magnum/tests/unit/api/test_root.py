from oslo_middleware import cors  # noqa: F401  (its options)
from oslo_middleware import sizelimit  # noqa: F401

from magnum.api import app
from magnum.tests.unit.api import base


class TestRoot(base.APITestCase):

    def test_root_lists_v1_with_versions(self):
        response = self.get('/')
        self.assertEqual(200, response.status_int)
        body = response.json
        self.assertEqual('v1', body['default_version']['id'])
        version = body['versions'][0]
        self.assertEqual('1.1', version['min_version'])
        self.assertEqual('CURRENT', version['status'])
        self.assertEqual('http://localhost/v1/', version['links'][0]['href'])

    def test_v1_links_every_collection(self):
        body = self.get('/v1').json
        for name in ('baymodels', 'bays', 'mservices'):
            self.assertEqual('http://localhost/v1/%s' % name,
                             body[name][0]['href'])
        self.assertEqual('v1', body['id'])
        self.assertIn('media_types', body)

    def test_every_response_carries_a_request_id(self):
        for path in ('/', '/v1', '/v1/bays', '/v1/nothing-here'):
            response = self.get(path)
            self.assertTrue(response.headers['X-OpenStack-Request-Id']
                            .startswith('req-'), path)

    def test_no_version_header_answers_with_the_minimum(self):
        response = self.get('/v1/bays')
        self.assertEqual('container-infra 1.1',
                         response.headers['OpenStack-API-Version'])
        self.assertEqual('container-infra 1.1',
                         response.headers['OpenStack-API-Minimum-Version'])

    def test_latest_answers_with_the_maximum(self):
        response = self.get(
            '/v1/bays',
            headers={'OpenStack-API-Version': 'container-infra latest'})
        self.assertEqual(200, response.status_int)
        self.assertEqual(response.headers['OpenStack-API-Maximum-Version'],
                         response.headers['OpenStack-API-Version'])

    def test_unsupported_version_is_406_with_the_range(self):
        response = self.get(
            '/v1/bays',
            headers={'OpenStack-API-Version': 'container-infra 2.0'})
        self.assertEqual(406, response.status_int)
        self.assertIn('1.1', self.fault(response))

    def test_garbage_version_is_406(self):
        response = self.get(
            '/v1/bays',
            headers={'OpenStack-API-Version': 'container-infra one'})
        self.assertEqual(406, response.status_int)

    def test_unknown_path_is_404_in_the_error_format(self):
        response = self.get('/v1/nothing-here')
        self.assertEqual(404, response.status_int)
        self.assertTrue(self.fault(response))

    def test_version_documents_answer_get_only(self):
        for path in ('/', '/v1'):
            self.assertEqual(405, self.delete(path).status_int, path)
            self.assertEqual(405, self.post(path, {}).status_int, path)

    def test_collection_refuses_other_methods_with_allow(self):
        response = self.delete('/v1/bays')
        self.assertEqual(405, response.status_int)
        self.assertEqual('GET, POST', response.headers['Allow'])

    def test_healthcheck_answers(self):
        self.assertEqual(200, self.get('/healthcheck').status_int)


class TestMiddlewareConfiguration(base.APITestCase):
    """The oslo.middleware filters read Magnum's own configuration."""

    def test_body_size_limit_comes_from_magnum_config(self):
        self.conf.config(max_request_body_size=100, group='oslo_middleware')
        self.app = app.load_app()
        response = self.post('/v1/baymodels',
                             {'coe': 'docker', 'name': 'x' * 200})
        self.assertEqual(413, response.status_int)
        self.assertTrue(self.fault(response))
        self.assertEqual([], self.get('/v1/baymodels').json['baymodels'])

    def test_cors_allows_the_configured_origin(self):
        self.conf.config(allowed_origin=['http://dash.example'],
                         group='cors')
        self.app = app.load_app()
        response = self.request(
            'OPTIONS', '/v1/bays',
            headers={'Origin': 'http://dash.example',
                     'Access-Control-Request-Method': 'GET'})
        self.assertEqual('http://dash.example',
                         response.headers['Access-Control-Allow-Origin'])
