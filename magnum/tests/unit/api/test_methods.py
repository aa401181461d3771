"""Which methods a path serves (magnum/api/controllers/v1/collection.py
Router): a 405 lists the others in ``Allow``, HEAD goes where GET does, and
a path that serves nothing is a 404 that says where to go."""

from magnum.tests.unit.api import base


class TestMethods(base.APITestCase):

    def test_a_refused_method_is_405_listing_the_others(self):
        response = self.request('PUT', '/v1/credentials/some-cluster')
        self.assertEqual(405, response.status_int)
        self.assertEqual('PATCH', response.headers['Allow'])
        self.assertEqual('PUT is not allowed here; use PATCH',
                         self.fault(response))

    def test_credentials_without_a_cluster_is_404_naming_the_request(self):
        for method in ('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'):
            response = self.request(method, '/v1/credentials')
            self.assertEqual(404, response.status_int, method)
            self.assertEqual('No resource at /v1/credentials; use PATCH '
                             '/v1/credentials/<ident>',
                             self.fault(response), method)
            self.assertNotIn('Allow', response.headers)

    def test_head_is_served_where_get_is(self):
        for path in ('/v1/bays', '/v1/bays/detail', '/v1/clustertemplates',
                     '/v1/clusters'):
            response = self.request('HEAD', path)
            self.assertEqual(200, response.status_int, path)
        self.assertEqual(404, self.request('HEAD', '/v1/bays/nosuch')
                         .status_int)

    def test_head_is_405_where_get_is_not(self):
        response = self.request('HEAD', '/v1/certificates')
        self.assertEqual(405, response.status_int)
        self.assertEqual('POST', response.headers['Allow'])

    def test_detail_is_an_item_where_there_is_no_detail_list(self):
        # Certificates and services list no details: "detail" is a name.
        response = self.get('/v1/certificates/detail')
        self.assertEqual(404, response.status_int)
        self.assertIn('detail', self.fault(response))
        response = self.get('/v1/credentials/detail')
        self.assertEqual(405, response.status_int)
        self.assertEqual('PATCH', response.headers['Allow'])

    def test_no_path_answers_an_empty_allow(self):
        for path in ('/v1/credentials', '/v1/credentials/detail',
                     '/v1/certificates/detail', '/v1/mservices/detail'):
            for method in ('GET', 'POST', 'PATCH', 'DELETE', 'PUT'):
                response = self.request(method, path)
                self.assertNotEqual('', response.headers.get('Allow'),
                                    (method, path))
