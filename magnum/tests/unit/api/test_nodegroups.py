"""/v1/clusters/<ident>/nodegroups."""

from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST


class NodeGroupTestCase(test_clusters.ClusterTestCase):
    """A cluster CREATE_COMPLETE (``self.uuid``), its node groups at
    ``self.path``."""

    def setUp(self):
        super().setUp()
        self.uuid = self.create(node_count=2).json['uuid']
        self.set_status(self.uuid, 'CREATE_COMPLETE')
        self.casts.clear()
        self.path = '/v1/clusters/%s/nodegroups' % self.uuid

    def ng(self, method, suffix='', body=None, version=LATEST):
        return self.request(method, self.path + suffix, body=body,
                            headers=version)


class TestNodeGroups(NodeGroupTestCase):

    def test_a_change_of_a_group_named_detail_is_no_500(self):
        """``detail`` is the detail list for a GET only."""
        for method in ('PATCH', 'DELETE'):
            response = self.ng(method, '/detail',
                               [{'op': 'replace', 'path': '/node_count',
                                 'value': 2}] if method == 'PATCH' else None)
            self.assertEqual(404, response.status_int, method)
            self.assertIn('detail', self.fault(response))

    def test_list_with_and_without_trailing_slash_and_detail(self):
        for suffix in ('', '/', '/detail'):
            response = self.ng('GET', suffix)
            self.assertEqual(200, response.status_int, suffix)
            names = sorted(g['name'] for g in response.json['nodegroups'])
            self.assertEqual(['default-master', 'default-worker'], names)
        role = self.ng('GET', '?role=master').json['nodegroups']
        self.assertEqual(['default-master'], [g['name'] for g in role])

    def test_nodegroups_need_version_1_9(self):
        response = self.ng('GET', version={
            'OpenStack-API-Version': 'container-infra 1.8'})
        self.assertEqual(406, response.status_int)

    def test_create_show_update_delete(self):
        response = self.ng('POST', '/', {'name': 'gpu', 'node_count': 2,
                                         'flavor_id': 'g1',
                                         'max_node_count': 5})
        self.assertEqual(202, response.status_int, response.body)
        created = response.json
        self.assertEqual('worker', created['role'])
        self.assertFalse(created['is_default'])
        self.assertEqual('CREATE_IN_PROGRESS', created['status'])
        self.assertEqual([('nodegroup_create', self.uuid)], self.casts)
        shown = self.get('/v1/clusters/%s' % self.uuid).json
        self.assertEqual('UPDATE_IN_PROGRESS', shown['status'])
        self.assertEqual('g1', self.ng('GET', '/gpu').json['flavor_id'])
        self.assertEqual(created['uuid'],
                         self.ng('GET', '/' + created['uuid']).json['uuid'])

        # busy cluster: 409
        response = self.ng('PATCH', '/gpu', [
            {'op': 'replace', 'path': '/node_count', 'value': 3}])
        self.assertEqual(409, response.status_int)
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        response = self.ng('PATCH', '/gpu', [
            {'op': 'replace', 'path': '/node_count', 'value': 3}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(3, response.json['node_count'])
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        response = self.ng('PATCH', '/gpu', [
            {'op': 'replace', 'path': '/node_count', 'value': 9}])
        self.assertEqual(400, response.status_int)
        self.assertIn('max_node_count', self.fault(response))
        response = self.ng('DELETE', '/gpu')
        self.assertEqual(204, response.status_int)
        self.assertEqual(404, self.ng('GET', '/gpu').status_int)

    def test_default_worker_follows_the_cluster(self):
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'replace', 'path': '/node_count', 'value': 4}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(4, self.get('/v1/clusters/%s' % self.uuid)
                         .json['node_count'])
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        response = self.ng('PATCH', '/default-master', [
            {'op': 'replace', 'path': '/node_count', 'value': 3}])
        self.assertEqual(400, response.status_int)
        self.assertIn('nodegroup', self.fault(response))
        response = self.ng('DELETE', '/default-worker')
        self.assertEqual(400, response.status_int)

    def test_default_worker_to_zero_with_its_minimum(self):
        """From 1.10 the cluster's own workers may be 0, as its create
        may ask; the refusal of 0 names the minimum the group has."""
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'replace', 'path': '/node_count', 'value': 0}])
        self.assertEqual(400, response.status_int)
        self.assertIn("min_node_count 1", self.fault(response))
        response = self.ng('PATCH', '/default-worker', [
            {'op': 'replace', 'path': '/min_node_count', 'value': 0},
            {'op': 'replace', 'path': '/node_count', 'value': 0}])
        self.assertEqual(202, response.status_int, response.body)
        shown = self.ng('GET', '/default-worker').json
        self.assertEqual((0, 0), (shown['min_node_count'],
                                  shown['node_count']))

    def test_bad_input_is_400_naming_the_field(self):
        cases = [({}, 'name'), ({'name': '9x'}, 'name'),
                 ({'name': 'a', 'node_count': -1}, 'node_count'),
                 ({'name': 'a', 'node_count': 'x'}, 'node_count'),
                 ({'name': 'a', 'role': 'master'}, 'role'),
                 ({'name': 'a', 'min_node_count': 3, 'max_node_count': 2},
                  'max_node_count'),
                 ({'name': 'a', 'node_count': 5, 'max_node_count': 2},
                  'node_count'),
                 ({'name': 'a', 'labels': []}, 'labels'),
                 ({'name': 'a', 'project_id': 'other'}, 'project_id'),
                 ({'name': 'a', 'what': 1}, 'what')]
        for body, field in cases:
            response = self.ng('POST', '', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response), body)
        response = self.ng('POST', '', {'name': 'default-worker'})
        self.assertEqual(409, response.status_int)
        self.assertEqual([], self.casts)

    def test_merge_labels_over_the_clusters(self):
        """The cluster's labels, with the group's over them; shown as
        OpenStack Magnum shows the difference (the cluster's values)."""
        response = self.ng('POST', '', {'name': 'm', 'merge_labels': True,
                                        'labels': {'kube_tag': 'v1.21',
                                                   'gpu': 'yes'}})
        self.assertEqual(202, response.status_int, response.body)
        shown = self.ng('GET', '/m').json
        self.assertEqual({'provisioner': 'fake', 'kube_tag': 'v1.21',
                          'gpu': 'yes'}, shown['labels'])
        self.assertEqual({'kube_tag': 'v1.20'}, shown['labels_overridden'])
        self.assertEqual({'gpu': 'yes'}, shown['labels_added'])
        self.assertEqual({}, shown['labels_skipped'])

    def test_zero_nodes_from_1_10(self):
        old = {'OpenStack-API-Version': 'container-infra 1.9'}
        response = self.ng('POST', '', {'name': 'z', 'node_count': 0},
                           version=old)
        self.assertEqual(400, response.status_int)
        self.assertIn('1.10', self.fault(response))
        response = self.ng('POST', '', {'name': 'z', 'node_count': 0})
        self.assertEqual(202, response.status_int, response.body)


class TestQuotasAndStats(test_clusters.ClusterTestCase):

    def admin(self, method, path, body=None):
        return self.request(method, path, body=body,
                            headers=dict(LATEST, **{'X-Roles': 'admin'}))

    def test_default_quota_is_shown_and_enforced(self):
        shown = self.get('/v1/quotas/project-a/Cluster').json
        self.assertEqual(20, shown['hard_limit'])
        self.conf.config(max_clusters_per_project=2, group='quotas')
        self.create(name='q1')
        self.create(name='q2')
        response = self.create(expect=403, name='q3')
        self.assertIn('hard_limit', self.fault(response))
        self.assertIn('2', self.fault(response))
        response = self.post('/v1/bays', {'name': 'b3', 'baymodel_id': 'ct'})
        self.assertEqual(403, response.status_int)
        self.assertEqual(2, len(self.get('/v1/clusters').json['clusters']))

    def test_quota_crud(self):
        response = self.admin('POST', '/v1/quotas', {
            'project_id': 'project-a', 'resource': 'Cluster',
            'hard_limit': 1})
        self.assertEqual(201, response.status_int, response.body)
        self.assertEqual(409, self.admin('POST', '/v1/quotas', {
            'project_id': 'project-a', 'resource': 'Cluster',
            'hard_limit': 1}).status_int)
        self.create(name='q1')
        self.create(expect=403, name='q2')
        response = self.admin('PATCH', '/v1/quotas/project-a/Cluster',
                              {'hard_limit': 5})
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(5, response.json['hard_limit'])
        self.create(name='q2')
        rows = self.admin('GET', '/v1/quotas?all_tenants=True').json
        self.assertEqual([('project-a', 'Cluster', 5)],
                         [(q['project_id'], q['resource'], q['hard_limit'])
                          for q in rows['quotas']])
        # a member sees its own with all_tenants (the dashboard asks so)
        mine = self.get('/v1/quotas?all_tenants=True').json['quotas']
        self.assertEqual(1, len(mine))
        other = self.get('/v1/quotas', headers={
            'X-Project-Id': 'project-b'}).json['quotas']
        self.assertEqual([], other)
        self.assertEqual(204, self.admin(
            'DELETE', '/v1/quotas/project-a/Cluster').status_int)
        self.assertEqual(20, self.get('/v1/quotas/project-a/Cluster')
                         .json['hard_limit'])
        self.assertEqual(404, self.admin(
            'DELETE', '/v1/quotas/project-a/Cluster').status_int)

    def test_quota_changes_are_admin_only(self):
        response = self.post('/v1/quotas', {
            'project_id': 'project-a', 'resource': 'Cluster',
            'hard_limit': 100})
        self.assertEqual(403, response.status_int)
        response = self.get('/v1/quotas/project-b/Cluster')
        self.assertEqual(403, response.status_int)

    def test_quota_bad_input(self):
        cases = [({'resource': 'Cluster', 'hard_limit': 1}, 'project_id'),
                 ({'project_id': 'p', 'hard_limit': 1}, 'resource'),
                 ({'project_id': 'p', 'resource': 'Pods', 'hard_limit': 1},
                  'resource'),
                 ({'project_id': 'p', 'resource': 'Cluster'}, 'hard_limit'),
                 ({'project_id': 'p', 'resource': 'Cluster',
                   'hard_limit': -2}, 'hard_limit'),
                 ({'project_id': 'p', 'resource': 'Cluster',
                   'hard_limit': 'x'}, 'hard_limit')]
        for body, field in cases:
            response = self.admin('POST', '/v1/quotas', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response), body)
        self.admin('POST', '/v1/quotas', {
            'project_id': 'p', 'resource': 'Cluster', 'hard_limit': 1})
        for body, field in (({'hard_limit': 'x'}, 'hard_limit'),
                            ({'project_id': 'q', 'hard_limit': 2},
                             'project_id'),
                            ({}, 'hard_limit')):
            response = self.admin('PATCH', '/v1/quotas/p/Cluster', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response), body)
        response = self.admin('GET', '/v1/quotas/p/Pods')
        self.assertEqual(400, response.status_int)
        self.assertIn('resource', self.fault(response))
        response = self.admin('GET', '/v1/quotas?limit=0')
        self.assertEqual(400, response.status_int)

    def test_stats(self):
        self.create(name='s1', node_count=3)
        self.create(name='s2', node_count=1,
                    headers=dict(LATEST, **{'X-Project-Id': 'project-b',
                                            'X-Roles': 'admin'}))
        mine = self.get('/v1/stats', headers=LATEST).json
        self.assertEqual({'clusters': 1, 'nodes': 4}, mine)
        everyone = self.admin('GET', '/v1/stats').json
        self.assertEqual({'clusters': 2, 'nodes': 6}, everyone)
        other = self.get('/v1/stats?project_id=project-b', headers=LATEST)
        self.assertEqual(403, other.status_int)
        self.assertEqual({'clusters': 1, 'nodes': 2}, self.admin(
            'GET', '/v1/stats?project_id=project-b').json)
        bad = self.get('/v1/stats?type=pods', headers=LATEST)
        self.assertEqual(400, bad.status_int)
        self.assertIn('type', self.fault(bad))
        bad = self.get('/v1/stats?what=1', headers=LATEST)
        self.assertEqual(400, bad.status_int)
        self.assertIn('what', self.fault(bad))
        old = self.get('/v1/stats', headers={
            'OpenStack-API-Version': 'container-infra 1.3'})
        self.assertEqual(406, old.status_int)

    def test_microversion_headers(self):
        response = self.get('/v1/clusters', headers={
            'OpenStack-API-Version': 'container-infra 1.14'})
        self.assertEqual('container-infra 1.14',
                         response.headers['OpenStack-API-Version'])
        self.assertEqual('container-infra 1.14',
                         response.headers['OpenStack-API-Maximum-Version'])
        response = self.get('/v1/clusters', headers={
            'OpenStack-API-Version': 'container-infra 1.15'})
        self.assertEqual(406, response.status_int)


class TestNodeGroupServers(test_clusters.ClusterTestCase):
    """What a resize and an upgrade leave for the heat provisioner."""

    ng = TestNodeGroups.ng

    def setUp(self):
        super().setUp()
        self.uuid = self.create(node_count=2).json['uuid']
        self.set_status(self.uuid, 'CREATE_COMPLETE')
        self.path = '/v1/clusters/%s/nodegroups' % self.uuid
        self.assertEqual(202, self.ng('POST', '/', {
            'name': 'gpu', 'node_count': 2}).status_int)
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        from magnum.db import nodes as db_nodes
        db_nodes.replace_bay_nodes(self.uuid, [
            {'server_id': 's-m', 'name': 'c1-master-0', 'type': 'master',
             'nodegroup': 'default-master'},
            {'server_id': 's-w', 'name': 'c1-node-0', 'type': 'node'},
            {'server_id': 's-g0', 'name': 'c1-gpu-0', 'type': 'node',
             'nodegroup': 'gpu'},
            {'server_id': 's-g1', 'name': 'c1-gpu-1', 'type': 'node',
             'nodegroup': 'gpu'}])
        self.casts.clear()

    def removal(self, name):
        """The servers the newest resize of group ``name`` removes."""
        from magnum.db import actions as db_actions
        from magnum.db import nodegroups as db_nodegroups
        group = db_nodegroups.get_nodegroup(self.uuid, name)
        for action in db_actions.list_of(self.uuid):
            if action.kind == 'resize' and (
                    action.params['nodegroup'] == group.uuid):
                return action.params.get('nodes_to_remove')
        return None

    def test_nodes_to_remove_by_name_or_id_are_kept_as_server_ids(self):
        response = self.action(self.uuid, 'resize', {
            'node_count': 1, 'nodegroup': 'gpu',
            'nodes_to_remove': ['c1-gpu-0']})
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(['s-g0'], self.removal('gpu'))
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        # The default workers: a row of before node groups (no group).
        response = self.action(self.uuid, 'resize', {
            'node_count': 1, 'nodes_to_remove': ['s-w']})
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(['s-w'], self.removal('default-worker'))

    def test_nodes_to_remove_of_another_group_or_none_is_400(self):
        for name in ('c1-master-0', 'c1-node-0', 'no-such-server'):
            response = self.action(self.uuid, 'resize', {
                'node_count': 1, 'nodegroup': 'gpu',
                'nodes_to_remove': [name]})
            self.assertEqual(400, response.status_int, name)
            self.assertIn('nodes_to_remove.0', self.fault(response))
        self.assertIsNone(self.removal('gpu'))
        self.assertEqual([], self.casts)
        self.assertEqual('UPDATE_COMPLETE', self.get(
            '/v1/clusters/%s' % self.uuid).json['status'])

    def test_an_extra_group_upgrades_to_its_clusters_template_only(self):
        other = self.post('/v1/clustertemplates', {
            'name': 'ct2', 'coe': 'kubernetes', 'image_id': 'img-2',
            'labels': {'provisioner': 'fake'}}, headers=LATEST).json
        response = self.action(self.uuid, 'upgrade', {
            'cluster_template': other['uuid'], 'nodegroup': 'gpu'})
        self.assertEqual(400, response.status_int)
        self.assertIn('cluster_template', self.fault(response))
        self.assertEqual([], self.casts)
        response = self.action(self.uuid, 'upgrade', {
            'cluster_template': other['uuid']}, query='?rollback=True')
        self.assertEqual(202, response.status_int, response.body)
        before = self.ng('GET', '/gpu').json['image_id']
        self.set_status(self.uuid, 'UPDATE_COMPLETE')
        response = self.action(self.uuid, 'upgrade', {
            'cluster_template': other['uuid'], 'nodegroup': 'gpu'},
            query='?rollback=True')
        self.assertEqual(202, response.status_int, response.body)
        group = self.ng('GET', '/gpu').json
        self.assertEqual('img-2', group['image_id'])
        self.assertEqual('UPDATE_IN_PROGRESS', group['status'])
        from magnum.db import actions as db_actions
        action = db_actions.open_of(self.uuid)
        self.assertEqual(('upgrade', group['uuid'], other['uuid']),
                         (action.kind, action.params['nodegroup'],
                          action.params['cluster_template']))
        self.assertEqual({'nodegroup': {'uuid': group['uuid'],
                                        'image_id': before}},
                         action.params['restore'])
