"""API 1.14: node groups' ``node_labels`` and ``node_taints``, as
python-magnumclient 5.0.0's ``coe nodegroup create --node-labels
--node-taints`` and ``coe nodegroup update`` send them."""

from magnum.tests.unit.api import test_clusters
from magnum.tests.unit.api import test_nodegroups

LATEST = test_clusters.LATEST
V1_13 = {'OpenStack-API-Version': 'container-infra 1.13'}
TAINTS = [{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'},
          {'key': 'example.com/spot', 'value': '', 'effect': 'NoExecute'}]


class TestNodeRegistration(test_nodegroups.NodeGroupTestCase):

    def test_create_show_and_update_as_the_client_sends_them(self):
        response = self.ng('POST', '/', {
            'name': 'gpu', 'node_count': 1, 'max_node_count': None,
            'min_node_count': 0, 'role': 'worker',
            'node_labels': {'x': '1', 'example.com/role': 'gpu'},
            'node_taints': TAINTS})
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'x': '1', 'example.com/role': 'gpu'},
                         response.json['node_labels'])
        shown = self.ng('GET', '/gpu').json
        self.assertEqual(TAINTS, shown['node_taints'])
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        self.casts.clear()
        # ``coe nodegroup update c gpu --node-labels a=b,c=d
        # --node-taints k1=v1:NoSchedule``: Python literals, whole.
        response = self.ng('PATCH', '/gpu', [
            {'op': 'replace', 'path': '/node_labels',
             'value': "{'a': 'b', 'c': 'd'}"},
            {'op': 'replace', 'path': '/node_taints',
             'value': "[{'key': 'k1', 'value': 'v1', "
                      "'effect': 'NoSchedule'}]"}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'a': 'b', 'c': 'd'}, response.json['node_labels'])
        self.assertEqual([{'key': 'k1', 'value': 'v1',
                           'effect': 'NoSchedule'}],
                         response.json['node_taints'])
        # they reach the provisioner: a node group update
        self.assertEqual([('nodegroup_update', self.uuid)], self.casts)
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        # ``--node-labels '' --node-taints ''`` clears them
        response = self.ng('PATCH', '/gpu', [
            {'op': 'replace', 'path': '/node_labels', 'value': '{}'},
            {'op': 'replace', 'path': '/node_taints', 'value': '[]'}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(({}, []), (response.json['node_labels'],
                                    response.json['node_taints']))

    def test_the_default_workers_take_them_too(self):
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'add', 'path': '/node_labels/tier', 'value': 'web'}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'tier': 'web'}, self.ng(
            'GET', '/default-worker').json['node_labels'])

    def test_malformed_is_400_naming_the_label_or_taint(self):
        cases = [
            ({'node_labels': {'-bad': 'x'}}, 'node_labels.-bad'),
            ({'node_labels': {'a': 'b c'}}, 'node_labels.a'),
            ({'node_labels': {'a' * 64: 'b'}}, 'node_labels.'),
            ({'node_labels': {'Bad_Prefix/a': 'b'}}, 'prefix'),
            ({'node_labels': {'kubernetes.io/role': 'x'}},
             'node_labels.kubernetes.io/role'),
            ({'node_labels': {'a': 1}}, 'node_labels'),
            ({'node_labels': ['a']}, 'node_labels'),
            ({'node_taints': [{'key': 'k', 'effect': 'Sometimes'}]},
             'node_taints.0.effect'),
            ({'node_taints': [{'value': 'v', 'effect': 'NoSchedule'}]},
             'node_taints.0.key'),
            ({'node_taints': [{'key': 'k', 'effect': 'NoSchedule',
                               'colour': 'red'}]}, 'colour'),
            ({'node_taints': {'key': 'k'}}, 'node_taints'),
        ]
        for extra, words in cases:
            body = dict({'name': 'bad'}, **extra)
            response = self.ng('POST', '/', body)
            self.assertEqual(400, response.status_int, extra)
            fault = self.fault(response)
            self.assertIn(words, fault, extra)
            self.assertNotIn('<class', fault)
        names = [g['name'] for g in self.ng('GET').json['nodegroups']]
        self.assertNotIn('bad', names)
        self.assertEqual([], self.casts)

    def test_masters_take_none(self):
        response = self.ng('PATCH', '/default-master', [
            {'op': 'add', 'path': '/node_labels/a', 'value': 'b'}])
        self.assertEqual(400, response.status_int, response.body)
        self.assertIn('masters', self.fault(response))
        self.assertEqual('CREATE_COMPLETE', self.get(
            '/v1/clusters/' + self.uuid).json['status'])

    def test_below_1_14_they_are_unknown_fields(self):
        response = self.ng('POST', '/', {'name': 'old', 'node_labels': {
            'a': 'b'}}, version=V1_13)
        self.assertEqual(400, response.status_int)
        self.assertIn('1.14', self.fault(response))
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'add', 'path': '/node_labels/a', 'value': 'b'}],
            version=V1_13)
        self.assertEqual(400, response.status_int)
        self.assertIn('/node_labels/a', self.fault(response))
        shown = self.ng('GET', '/default-worker', version=V1_13).json
        self.assertNotIn('node_labels', shown)
        self.assertNotIn('node_taints', shown)

    def test_a_refused_patch_changes_nothing(self):
        """A bad taint beside a good bound: neither is written."""
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'replace', 'path': '/max_node_count', 'value': 9},
            {'op': 'replace', 'path': '/node_taints',
             'value': [{'key': 'k', 'effect': 'Never'}]}])
        self.assertEqual(400, response.status_int)
        shown = self.ng('GET', '/default-worker').json
        self.assertIsNone(shown['max_node_count'])
        self.assertEqual([], shown['node_taints'])

    def test_removing_min_node_count_is_400(self):
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'remove', 'path': '/min_node_count'}])
        self.assertEqual(400, response.status_int)
        self.assertIn('min_node_count', self.fault(response))
