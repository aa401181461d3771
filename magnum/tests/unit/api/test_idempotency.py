"""``Idempotency-Key`` on cluster and bay creates: a repeat answers with
the first request's bay, the same status and body shape; another request
under the key is a 409 naming it; nothing else changes."""

from magnum.db import bays as db_bays
from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST


class TestIdempotentCreates(test_clusters.ClusterTestCase):

    def keyed(self, path, body, key='retry-1', **headers):
        return self.post(path, body, headers=dict(
            LATEST, **{'Idempotency-Key': key}, **headers))

    def bays(self):
        return self.get('/v1/bays').json['bays']

    def test_a_repeated_cluster_create_makes_one_cluster(self):
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        first = self.keyed('/v1/clusters', body)
        self.assertEqual(202, first.status_int, first.body)
        again = self.keyed('/v1/clusters', dict(reversed(body.items())))
        self.assertEqual((202, first.json), (again.status_int, again.json))
        self.assertEqual(1, len(self.bays()))
        self.assertEqual([('create', first.json['uuid'])], self.casts)

    def test_a_repeated_bay_create_answers_201_with_the_bay(self):
        body = {'name': 'b1', 'baymodel_id': self.template['uuid']}
        first = self.keyed('/v1/bays', body)
        self.assertEqual(201, first.status_int, first.body)
        db_bays.update_bay(first.json['uuid'], {'status': 'CREATE_COMPLETE'})
        again = self.keyed('/v1/bays', body)
        self.assertEqual(201, again.status_int, again.body)
        self.assertEqual(first.json['uuid'], again.json['uuid'])
        # The bay as it is now, in the same shape.
        self.assertEqual('CREATE_COMPLETE', again.json['status'])
        self.assertEqual(sorted(first.json), sorted(again.json))
        self.assertEqual(1, len(self.bays()))

    def test_another_request_under_the_key_is_409_and_changes_nothing(self):
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        first = self.keyed('/v1/clusters', body)
        for path, other in (
                ('/v1/clusters', dict(body, node_count=3)),
                ('/v1/bays', {'name': 'c1',
                              'baymodel_id': self.template['uuid']})):
            response = self.keyed(path, other)
            self.assertEqual(409, response.status_int, response.body)
            self.assertIn('retry-1', self.fault(response))
            self.assertIn(first.json['uuid'], self.fault(response))
        self.assertEqual(1, len(self.bays()))

    def test_keys_are_a_projects_own_and_no_key_is_no_replay(self):
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        self.keyed('/v1/clusters', body)
        self.assertEqual(202, self.post('/v1/clusters', body,
                                        headers=LATEST).status_int)
        self.assertEqual(2, len(self.bays()))

    def test_a_bad_key_is_400_naming_the_header(self):
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        response = self.keyed('/v1/clusters', body, key='x' * 300)
        self.assertEqual(400, response.status_int)
        self.assertIn('Idempotency-Key', self.fault(response))
        self.assertEqual([], self.bays())

    def test_a_key_whose_bay_was_deleted_is_409(self):
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        first = self.keyed('/v1/clusters', body)
        db_bays.update_bay(first.json['uuid'], {'status': 'CREATE_FAILED'})
        db_bays.destroy_bay(first.json['uuid'])
        response = self.keyed('/v1/clusters', body)
        self.assertEqual(409, response.status_int, response.body)
        self.assertIn('gone', self.fault(response))
        self.assertEqual([], self.bays())
