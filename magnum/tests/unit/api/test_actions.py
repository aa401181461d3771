"""/v1/clusters/<ident>/actions and /v1/bays/<ident>/actions: what was
done to a cluster, newest first, in the cluster's scope."""

from magnum.db import bays as db_bays
from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST


class TestActions(test_clusters.ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.create(node_count=2).json['uuid']
        db_bays.update_bay(self.uuid, {'status': 'CREATE_COMPLETE'})
        response = self.action(self.uuid, 'resize', {'node_count': 3},
                               query='?rollback=True')
        self.assertEqual(202, response.status_int, response.body)

    def actions(self, path='clusters', query='', **kwargs):
        return self.get('/v1/%s/%s/actions%s' % (path, self.uuid, query),
                        **kwargs)

    def test_newest_first_with_what_was_asked_and_who_asked(self):
        response = self.actions()
        self.assertEqual(200, response.status_int, response.body)
        rows = response.json['actions']
        self.assertEqual(['resize', 'create'], [r['kind'] for r in rows])
        resize = rows[0]
        self.assertEqual('PENDING', resize['status'])
        self.assertEqual(3, resize['params']['node_count'])
        self.assertTrue(resize['params']['rollback'])
        self.assertEqual({'bay': {'node_count': 2}},
                         resize['params']['restore'])
        self.assertEqual(('project-a', 'user-a'),
                         (resize['project_id'], resize['user_id']))
        self.assertTrue(resize['request_id'].startswith('req-'))
        self.assertTrue(resize['created_at'].endswith('+00:00'))
        self.assertIsNone(resize['finished_at'])
        self.assertNotIn('conductor', resize)   # not the member's business
        self.assertTrue(resize['links'][0]['href'].endswith(
            '/v1/clusters/%s/actions/%s' % (self.uuid, resize['uuid'])))

    def test_the_request_id_is_the_one_the_caller_got(self):
        response = self.action(self.uuid, 'resize', {'node_count': 4})
        self.assertEqual(409, response.status_int)   # busy: no action
        self.assertEqual(2, len(self.actions().json['actions']))
        db_bays.update_bay(self.uuid, {'status': 'UPDATE_COMPLETE'})
        response = self.action(self.uuid, 'resize', {'node_count': 4})
        newest = self.actions().json['actions'][0]
        self.assertEqual(response.headers['X-OpenStack-Request-Id'],
                         newest['request_id'])

    def test_show_one_and_bays_path_too(self):
        listed = self.actions().json['actions'][1]
        for path in ('clusters', 'bays'):
            response = self.get('/v1/%s/%s/actions/%s'
                                % (path, self.uuid, listed['uuid']),
                                headers={'Accept': 'application/json'})
            self.assertEqual(200, response.status_int, response.body)
            self.assertEqual(('create', listed['uuid']),
                             (response.json['kind'], response.json['uuid']))
        response = self.get('/v1/clusters/%s/actions/%s'
                            % (self.uuid, 'f' * 8))
        self.assertEqual(404, response.status_int)
        self.assertIn('ffffffff', self.fault(response))

    def test_paged_like_every_collection(self):
        first = self.actions(query='?limit=1').json
        self.assertEqual(['resize'], [r['kind'] for r in first['actions']])
        self.assertIn('marker=%s' % first['actions'][0]['uuid'],
                      first['next'])
        second = self.actions(
            query='?limit=1&marker=%s' % first['actions'][0]['uuid']).json
        self.assertEqual(['create'], [r['kind'] for r in second['actions']])
        self.assertNotIn('next', second)
        oldest_first = self.actions(query='?sort_dir=asc').json['actions']
        self.assertEqual(['create', 'resize'],
                         [r['kind'] for r in oldest_first])
        for query, field in (('?marker=nope', 'marker'),
                             ('?limit=0', 'limit'), ('?colour=red', 'colour'),
                             ('?sort_key=kind', 'sort_key')):
            response = self.actions(query=query)
            self.assertEqual(400, response.status_int, query)
            self.assertIn(field, self.fault(response), query)

    def test_another_projects_cluster_is_404_and_admin_sees_conductor(self):
        response = self.actions(headers={'X-Project-Id': 'project-b'})
        self.assertEqual(404, response.status_int)
        rows = self.actions(as_admin=True).json['actions']
        self.assertIn('conductor', rows[0])

    def test_actions_are_read_only(self):
        response = self.post('/v1/clusters/%s/actions' % self.uuid, {})
        self.assertEqual(405, response.status_int)
        self.assertIn('GET', response.headers['Allow'])

    def test_a_reader_may_list(self):
        response = self.actions(headers={'X-Roles': 'reader'})
        self.assertEqual(200, response.status_int, response.body)

    def test_a_generic_client_accepting_json_is_answered(self):
        """What Go and Java clients send, on the list and on errors."""
        json_only = {'Accept': 'application/json'}
        response = self.actions(headers=json_only)
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual('application/json', response.content_type)
        response = self.actions(query='?limit=x', headers=json_only)
        self.assertEqual(400, response.status_int)
        self.assertIn('limit', self.fault(response))
