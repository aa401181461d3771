"""``/v1/nodes``: rows the provisioner records, and hand-made ones."""

from magnum.db import bays as db_bays
from magnum.db import nodes as db_nodes
from magnum.tests.unit.api import base


class TestNodes(base.APITestCase):

    def setUp(self):
        super().setUp()
        baymodel = self.post('/v1/baymodels', {
            'name': 'bm', 'coe': 'docker',
            'labels': {'provisioner': 'fake'}}).json
        self.bay = self.post('/v1/bays', {
            'name': 'bay1', 'baymodel_id': baymodel['uuid']}).json

    def _record(self, servers):
        db_nodes.replace_bay_nodes(self.bay['uuid'], [
            {'server_id': s, 'name': 'bay1-%s' % s, 'type': 'node',
             'image_id': 'img', 'addresses': ['10.0.0.%d' % i]}
            for i, s in enumerate(servers)])

    def test_provisioner_rows_are_listed_and_replaced(self):
        self._record(['s1', 's2'])
        first = self.get('/v1/nodes/detail').json['nodes']
        self.assertEqual(['bay1-s1', 'bay1-s2'], [n['name'] for n in first])
        self.assertEqual({self.bay['uuid']}, {n['bay_uuid'] for n in first})
        # s1 stays (same uuid), s2 goes, s3 comes.
        self._record(['s1', 's3'])
        second = self.get('/v1/nodes/detail').json['nodes']
        self.assertEqual(['bay1-s1', 'bay1-s3'],
                         [n['name'] for n in second])
        self.assertEqual(first[0]['uuid'], second[0]['uuid'])
        shown = self.get('/v1/nodes/%s' % second[1]['uuid']).json
        self.assertEqual(['10.0.0.1'], shown['addresses'])

    def test_post_registers_a_node_without_a_bay(self):
        response = self.post('/v1/nodes', {'type': 'virt',
                                           'image_id': 'fedora'})
        self.assertEqual(201, response.status_int)
        self.assertEqual('virt', response.json['type'])
        self.assertIsNone(response.json['bay_uuid'])
        listed = self.get('/v1/nodes').json['nodes']
        self.assertEqual([response.json['uuid']], [n['uuid'] for n in listed])

    def test_bad_input_names_the_field_and_changes_nothing(self):
        for body, field in (({'type': 'x' * 33}, 'type'),
                            ({'image_id': 5}, 'image_id'),
                            ({'bay_uuid': 'x'}, 'bay_uuid')):
            response = self.post('/v1/nodes', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response))
        self.assertEqual([], self.get('/v1/nodes').json['nodes'])

    def test_other_projects_nodes_are_404(self):
        self._record(['s1'])
        node = self.get('/v1/nodes').json['nodes'][0]
        other = {'X-Project-Id': 'project-b', 'X-User-Id': 'user-b'}
        self.assertEqual([], self.get('/v1/nodes',
                                      headers=other).json['nodes'])
        self.assertEqual(404, self.get('/v1/nodes/%s' % node['uuid'],
                                       headers=other).status_int)

    def test_nodes_go_with_their_bay(self):
        self._record(['s1'])
        db_bays.destroy_bay(self.bay['uuid'])
        self.assertEqual([], self.get('/v1/nodes').json['nodes'])
