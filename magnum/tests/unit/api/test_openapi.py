"""``/v1/openapi.json``: a valid OpenAPI 3.1 description of every route.

Every answer of the API unit tests is checked against the description
(``magnum/tests/openapi_check.py``, from ``base.APITestCase.request``);
here: the document itself, and that the routes and the description are the
same set both ways.
"""

import re

from openapi_spec_validator import validate
from wsme import types as wtypes

from magnum.api.controllers import v1
from magnum.api.controllers.v1 import baymodel
from magnum.api.controllers.v1 import cluster
from magnum.api.controllers.v1 import collection
from magnum.api.middleware import auth
from magnum.api import openapi
from magnum.tests import openapi_check
from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST


class TestDescription(test_clusters.ClusterTestCase):

    def test_it_is_valid_openapi_3_1(self):
        document = openapi.document()
        self.assertEqual('3.1.0', document['openapi'])
        validate(document)

    def test_it_is_served_as_json_and_needs_no_token(self):
        response = self.get('/v1/openapi.json', headers={
            'X-Roles': None, 'X-Project-Id': None, 'X-User-Id': None})
        self.assertEqual(200, response.status_int)
        self.assertEqual('application/json', response.content_type)
        self.assertEqual(openapi.document(), response.json)
        self.assertTrue(auth._PUBLIC.match('/v1/openapi.json'))
        self.assertEqual(405, self.post('/v1/openapi.json', {}).status_int)

    def test_bodies_are_the_handlers_own_fields(self):
        paths = openapi.document()['paths']
        create = paths['/v1/baymodels']['post']['requestBody']['content'][
            'application/json']['schema']
        self.assertEqual(set(baymodel.WRITABLE), set(create['properties']))
        self.assertEqual(['coe'], create['required'])
        self.assertFalse(create['additionalProperties'])
        resize = paths['/v1/clusters/{ident}/actions/resize']['post']
        fields = resize['requestBody']['content']['application/json'][
            'schema']['properties']
        self.assertEqual({a.name for a in wtypes.list_attributes(
            cluster.ResizeFields)}, set(fields))
        self.assertEqual({'type': 'integer', 'minimum': 0,
                          'maximum': 100000}, fields['node_count'])
        self.assertEqual('1.7', resize[openapi.MIN_VERSION])
        listing = paths['/v1/clusters']['get']['parameters']
        sort_key = [p for p in listing if p.get('name') == 'sort_key'][0]
        self.assertEqual(sorted(cluster.SORT_KEYS),
                         sort_key['schema']['enum'])
        patch = paths['/v1/clusters/{ident}']['patch']['requestBody'][
            'content']['application/json']['schema']
        pattern = re.compile(patch['items']['properties']['path']['pattern'])
        self.assertTrue(pattern.match('/labels/kube_tag'))
        self.assertFalse(pattern.match('/uuid'))

    def test_every_collection_of_v1_is_described(self):
        paths = openapi.document()['paths']
        for name, value in vars(v1.V1Controller).items():
            if name.startswith('_') or callable(value):
                continue
            self.assertTrue(
                any(path.startswith('/v1/%s' % name) for path in paths),
                '/v1/%s is not described' % name)
        # Each collection's handlers, each where the description says.
        where = {'get_all': ('get', ''), 'detail': ('get', '/detail'),
                 'post': ('post', ''), 'get_one': ('get', '/{ident}'),
                 'patch': ('patch', '/{ident}'),
                 'delete': ('delete', '/{ident}')}
        for name, value in vars(v1.V1Controller).items():
            if not isinstance(value, collection.CollectionController):
                continue
            for handler, (method, suffix) in where.items():
                if getattr(value, handler, None) is None:
                    continue
                path = '/v1/%s%s' % (name, suffix)
                template, op = openapi_check.operation(method, path)
                self.assertIsNotNone(op, '%s %s (%s.%s) is not described'
                                     % (method.upper(), path, name, handler))

    def test_every_described_operation_reaches_its_handler(self):
        """Each operation, with made-up names in its path: the answer is
        the handler's (a 2xx, or a 4xx saying what it did not find), never
        the router's "No resource at" or a 405."""
        cluster = self.create().json['uuid']
        # NOTE: the one call that would wait for a conductor (there is
        # none here) before it refuses anything.
        self.mock_out('magnum.conductor.api.ConductorAPI.bay_config',
                      return_value={'ca': 'pem'})
        names = {'ident': cluster, 'nodegroup': 'nope',
                 'action': 'nope', 'bay_ident': 'nope', 'id': '1',
                 'project_id': 'p', 'resource': 'Cluster'}
        for path, operations in openapi.document()['paths'].items():
            concrete = re.sub(r'\{([^}]+)\}',
                              lambda m: names[m.group(1)], path)
            for method in operations:
                body = [] if method == 'patch' else (
                    {} if method in ('post', 'put') else None)
                response = self.request(method.upper(), concrete, body=body,
                                        headers=LATEST, as_admin=True)
                what = '%s %s -> %d %s' % (method.upper(), concrete,
                                           response.status_int,
                                           response.text[:200])
                self.assertNotEqual(405, response.status_int, what)
                self.assertNotIn('No resource at', response.text, what)
