"""/v1/clustertemplates and /v1/clusters: the same rows as the bay era."""

import sqlalchemy as sa

from magnum.db import actions as db_actions
from magnum.db import api as db_api
from magnum.db import bays as db_bays
from magnum.tests.unit.api import base
from magnum.tests.unit import utils

LATEST = {'OpenStack-API-Version': 'container-infra latest'}


class ClusterTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        response = self.post('/v1/clustertemplates', {
            'name': 'ct', 'coe': 'kubernetes', 'keypair_id': 'kp',
            'flavor_id': 'm1.small', 'docker_volume_size': 5,
            'labels': {'provisioner': 'fake', 'kube_tag': 'v1.20'}})
        self.assertEqual(201, response.status_int, response.body)
        self.template = response.json

    def create(self, expect=202, **values):
        headers = values.pop('headers', LATEST)
        body = {'name': 'c1', 'cluster_template_id': self.template['uuid']}
        body.update(values)
        response = self.post('/v1/clusters', body, headers=headers)
        self.assertEqual(expect, response.status_int, response.body)
        return response

    def set_status(self, uuid, status, **values):
        db_bays.update_bay(uuid, dict(values, status=status))

    def action(self, uuid, name, body, query='', headers=LATEST):
        return self.post('/v1/clusters/%s/actions/%s%s' % (uuid, name, query),
                         body, headers=headers)


class TestClusterTemplates(ClusterTestCase):

    def test_template_is_a_baymodel(self):
        self.assertTrue(self.template['links'][0]['href'].endswith(
            '/v1/clustertemplates/' + self.template['uuid']))
        baymodel = self.get('/v1/baymodels/ct').json
        self.assertEqual(self.template['uuid'], baymodel['uuid'])
        rows = self.get('/v1/clustertemplates/detail').json[
            'clustertemplates']
        self.assertEqual(['ct'], [row['name'] for row in rows])
        self.assertEqual('kp', rows[0]['keypair_id'])

    def test_baymodel_shows_as_template(self):
        self.post('/v1/baymodels', {'name': 'old', 'coe': 'docker'})
        names = [row['name'] for row in self.get(
            '/v1/clustertemplates').json['clustertemplates']]
        self.assertEqual(['ct', 'old'], names)

    def test_bad_coe_is_400_naming_the_field(self):
        response = self.post('/v1/clustertemplates',
                             {'name': 'x', 'coe': 'mesos'})
        self.assertEqual(400, response.status_int)
        self.assertIn('coe', self.fault(response))

    def test_booleans_spelled_as_python_prints_them_are_accepted(self):
        # python-magnumclient (and so magnum-ui's forms) sends str(value).
        response = self.post('/v1/clustertemplates', {
            'name': 'ui', 'coe': 'kubernetes', 'floating_ip_enabled': 'True',
            'tls_disabled': 'TRUE', 'master_lb_enabled': 'False',
            'registry_enabled': 'false', 'labels': {'provisioner': 'fake'}})
        self.assertEqual(201, response.status_int, response.body)
        self.assertIs(True, response.json['floating_ip_enabled'])
        self.assertIs(True, response.json['tls_disabled'])
        self.assertIs(False, response.json['master_lb_enabled'])
        self.assertIs(False, response.json['registry_enabled'])
        response = self.create(name='ui-c', master_lb_enabled='True',
                               floating_ip_enabled='False')
        cluster = self.get('/v1/clusters/ui-c', headers=LATEST).json
        self.assertIs(True, cluster['master_lb_enabled'])
        self.assertIs(False, cluster['floating_ip_enabled'])

    def test_what_magnum_ui_sends_for_a_cluster_is_accepted(self):
        # Its form: every value as text, "" for an empty URL, checkboxes
        # as JSON booleans among the labels.
        self.create(name='ui', discovery_url='', create_timeout='60',
                    master_count='1', node_count='2',
                    master_lb_enabled='False', labels={
                        'availability_zone': 'nova',
                        'auto_scaling_enabled': False,
                        'max_node_count': 3, 'provisioner': 'fake'})
        cluster = self.get('/v1/clusters/ui', headers=LATEST).json
        self.assertIsNone(cluster['discovery_url'])
        self.assertEqual(2, cluster['node_count'])
        self.assertEqual({'availability_zone': 'nova',
                          'auto_scaling_enabled': 'false',
                          'max_node_count': '3', 'provisioner': 'fake'},
                         cluster['labels'])

    def test_a_label_that_is_a_list_is_400_naming_it(self):
        response = self.create(expect=400, name='bad',
                               labels={'zones': ['a', 'b']})
        self.assertIn('labels.zones', self.fault(response))

    def test_a_boolean_that_is_no_boolean_is_400_naming_the_field(self):
        response = self.post('/v1/clustertemplates', {
            'name': 'x', 'coe': 'kubernetes', 'public': 'maybe'})
        self.assertEqual(400, response.status_int)
        self.assertIn('public', self.fault(response))
        self.assertIn("'maybe' is not a boolean", self.fault(response))
        self.assertEqual(404, self.get('/v1/clustertemplates/x').status_int)

    def test_patch_and_delete(self):
        response = self.patch('/v1/clustertemplates/ct', [
            {'op': 'replace', 'path': '/name', 'value': 'ct2'}])
        self.assertEqual(200, response.status_int)
        self.assertEqual('ct2', response.json['name'])
        self.assertEqual(204, self.delete('/v1/clustertemplates/ct2')
                         .status_int)


class TestClusterCreate(ClusterTestCase):

    def test_create_is_202_with_the_uuid_only(self):
        response = self.create(node_count=2)
        self.assertEqual({'uuid'}, set(response.json))
        uuid = response.json['uuid']
        self.assertEqual([('create', uuid)], self.casts)
        shown = self.get('/v1/clusters/%s' % uuid).json
        self.assertEqual(self.template['uuid'], shown['cluster_template_id'])
        self.assertEqual(60, shown['create_timeout'])
        self.assertEqual(2, shown['node_count'])
        self.assertEqual('CREATE_IN_PROGRESS', shown['status'])

    def test_cluster_inherits_the_templates_values(self):
        uuid = self.create().json['uuid']
        shown = self.get('/v1/clusters/%s' % uuid).json
        self.assertEqual('kp', shown['keypair'])
        self.assertEqual('m1.small', shown['flavor_id'])
        self.assertEqual(5, shown['docker_volume_size'])
        self.assertEqual({'provisioner': 'fake', 'kube_tag': 'v1.20'},
                         shown['labels'])
        self.assertEqual({}, shown['labels_added'])

    def test_own_values_and_merged_labels(self):
        uuid = self.create(keypair='mine', labels={'a': 'b',
                                                   'kube_tag': 'v1.21'},
                           merge_labels=True, create_timeout=5).json['uuid']
        shown = self.get('/v1/clusters/%s' % uuid).json
        self.assertEqual('mine', shown['keypair'])
        self.assertEqual(5, shown['create_timeout'])
        self.assertEqual('b', shown['labels']['a'])
        self.assertEqual('fake', shown['labels']['provisioner'])
        self.assertEqual({'a': 'b'}, shown['labels_added'])
        # as OpenStack Magnum shows it: the template's value
        self.assertEqual({'kube_tag': 'v1.20'}, shown['labels_overridden'])
        self.assertEqual({}, shown['labels_skipped'])
        # without merge_labels, the template's others are skipped
        uuid = self.create(name='own', labels={'a': 'b'}).json['uuid']
        shown = self.get('/v1/clusters/%s' % uuid).json
        self.assertEqual({'a': 'b'}, shown['labels'])
        self.assertEqual({'provisioner': 'fake', 'kube_tag': 'v1.20'},
                         shown['labels_skipped'])

    def test_bad_input_is_400_naming_the_field(self):
        cases = [
            ({'cluster_template_id': 'nope'}, 'cluster_template_id'),
            ({'node_count': -1}, 'node_count'),
            ({'node_count': 0, 'headers': {
                'OpenStack-API-Version': 'container-infra 1.9'}},
             'node_count'),
            ({'node_count': 'many'}, 'node_count'),
            ({'master_count': -1}, 'master_count'),
            ({'create_timeout': -1}, 'create_timeout'),
            ({'discovery_url': 'ftp://x'}, 'discovery_url'),
            ({'labels': {'a': {}}}, 'labels.a'),
            ({'floating_ip_enabled': 'maybe'}, 'floating_ip_enabled'),
            ({'docker_volume_size': 0}, 'docker_volume_size'),
            ({'bogus': 1}, 'bogus'),
            ({'name': '1bad'}, 'name'),
        ]
        for values, field in cases:
            response = self.create(expect=400, **values)
            self.assertIn(field, self.fault(response), values)
        self.assertEqual([], self.get('/v1/clusters').json['clusters'])
        self.assertEqual([], self.casts)

    def test_unknown_field_names_the_closest_known_one(self):
        response = self.post('/v1/clusters', {
            'name': 'c1', 'cluster_template': self.template['uuid']},
            headers=LATEST)
        self.assertEqual(400, response.status_int)
        self.assertEqual("Unknown field 'cluster_template'; did you mean "
                         "'cluster_template_id'?", self.fault(response))
        self.assertEqual([], self.get('/v1/clusters').json['clusters'])

    def test_static_template_without_its_label_is_400_in_cluster_words(
            self):
        response = self.post('/v1/clustertemplates', {
            'name': 'static-ct', 'coe': 'kubernetes',
            'labels': {'provisioner': 'static',
                       'kube_api_ulr': 'https://k:6443'}})
        self.assertEqual(201, response.status_int, response.body)
        response = self.create(expect=400,
                               cluster_template_id='static-ct')
        fault = self.fault(response)
        self.assertTrue(fault.startswith(
            'Invalid value for cluster_template_id: template static-ct has '
            'no label kube_api_url'), fault)
        self.assertIn('did you mean kube_api_url?', fault)
        self.assertEqual([], self.get('/v1/clusters').json['clusters'])
        self.assertEqual([], self.casts)

    def test_missing_template_is_400(self):
        response = self.post('/v1/clusters', {'name': 'c'}, headers=LATEST)
        self.assertEqual(400, response.status_int)
        self.assertIn('cluster_template_id', self.fault(response))

    def test_default_nodegroups_exist(self):
        uuid = self.create(node_count=3, master_count=1).json['uuid']
        groups = self.get('/v1/clusters/%s/nodegroups' % uuid,
                          headers=LATEST).json['nodegroups']
        counts = {g['name']: (g['role'], g['node_count']) for g in groups}
        self.assertEqual({'default-master': ('master', 1),
                          'default-worker': ('worker', 3)}, counts)


class TestBothEras(ClusterTestCase):

    def test_bay_shows_as_cluster_and_cluster_as_bay(self):
        bay = self.post('/v1/bays', {'name': 'bay1',
                                     'baymodel_id': 'ct'}).json
        cluster = self.create(name='cl1').json['uuid']
        clusters = self.get('/v1/clusters').json['clusters']
        self.assertEqual({bay['uuid'], cluster},
                         {c['uuid'] for c in clusters})
        bays = self.get('/v1/bays').json['bays']
        self.assertEqual({bay['uuid'], cluster}, {b['uuid'] for b in bays})
        shown = self.get('/v1/clusters/bay1').json
        self.assertEqual('kp', shown['keypair'])
        self.assertEqual(self.template['uuid'], shown['cluster_template_id'])


class TestClusterReadsAndScope(ClusterTestCase):

    def test_other_projects_cluster_is_404(self):
        uuid = self.create().json['uuid']
        other = {'X-Project-Id': 'project-b'}
        for path in ('/v1/clusters/%s', '/v1/clusters/c1',
                     '/v1/clusters/%s/nodegroups'):
            path = path % uuid if '%s' in path else path
            response = self.get(path, headers=dict(LATEST, **other))
            self.assertEqual(404, response.status_int, path)
        response = self.action(uuid, 'resize', {'node_count': 2},
                               headers=dict(LATEST, **other))
        self.assertEqual(404, response.status_int)
        response = self.request('DELETE', '/v1/clusters/%s' % uuid,
                                headers=other)
        self.assertEqual(404, response.status_int)
        self.assertEqual([], self.get('/v1/clusters',
                                      headers=other).json['clusters'])

    def test_list_short_and_detail_and_paging(self):
        for name in ('a1', 'a2', 'a3'):
            self.create(name=name)
        page = self.get('/v1/clusters?limit=2').json
        self.assertEqual(2, len(page['clusters']))
        self.assertIn('next', page)
        self.assertIn('health_status', page['clusters'][0])
        self.assertNotIn('api_address', page['clusters'][0])
        detail = self.get('/v1/clusters/detail').json['clusters']
        self.assertIn('api_address', detail[0])
        self.assertIn('labels_overridden', detail[0])

    def test_sort_by_later_name(self):
        self.create(name='b1', create_timeout=9)
        response = self.get('/v1/clusters?sort_key=create_timeout')
        self.assertEqual(200, response.status_int, response.body)
        response = self.get('/v1/clusters?sort_key=bogus')
        self.assertEqual(400, response.status_int)
        self.assertIn('sort_key', self.fault(response))


def selects(statements):
    """The queries among ``statements`` (on SQLite each read is also a
    BEGIN)."""
    return [s for s in statements if s.lstrip().upper().startswith('SELECT')]


class TestClusterReadQueries(ClusterTestCase):
    """What a read costs the database: a fixed number of statements,
    whatever the number of clusters on the page and of their templates."""

    def clusters_on_own_templates(self, count, first=0):
        """``count`` clusters, each on a template of its own, numbered from
        ``first``; returns the clusters."""
        made = []
        for i in range(first, first + count):
            template = utils.baymodel(
                self.context, name='ct-%d' % i, coe='kubernetes',
                labels={'provisioner': 'fake', 'kube_tag': 'v1.%d' % i,
                        'gone': 'x'})
            made.append(utils.bay(
                self.context, template, name='c-%d' % i,
                status='CREATE_COMPLETE',
                labels={'provisioner': 'fake', 'kube_tag': 'mine',
                        'own': str(i)}))
        return made

    def statements(self, path):
        """The SQL statements a GET of ``path`` runs, and its answer."""
        executed = []

        def record(conn, cursor, statement, *args):
            executed.append(statement)

        facade = db_api._facade()
        engines = {facade.writer.get_engine(), facade.reader.get_engine()}
        for engine in engines:
            sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            response = self.get(path, headers=LATEST)
        finally:
            for engine in engines:
                sa.event.remove(engine, 'before_cursor_execute', record)
        self.assertEqual(200, response.status_int, response.body)
        return executed, response.json

    def test_a_page_costs_the_same_statements_for_1_and_for_9_templates(self):
        self.clusters_on_own_templates(1)
        costs = {}
        for path in ('/v1/clusters', '/v1/clusters/detail',
                     '/v1/bays/detail'):
            costs[path] = len(self.statements(path)[0])
        self.clusters_on_own_templates(8, first=1)
        for path, cost in costs.items():
            executed, body = self.statements(path)
            self.assertEqual(cost, len(executed), (path, executed))
            self.assertEqual(1, len(selects(executed)), (path, executed))
            rows = body.get('clusters') or body['bays']
            self.assertEqual(9, len(rows))
        executed, body = self.statements('/v1/clusters/detail?limit=3')
        self.assertEqual(3, len(body['clusters']))
        executed, body = self.statements(
            '/v1/clusters/detail?limit=3&marker=%s'
            % body['clusters'][-1]['uuid'])
        # NOTE: one more with a marker: its row, where the page starts.
        self.assertEqual(2, len(selects(executed)), executed)
        # Each cluster's labels against its own template's.
        for shown in body['clusters'][:3]:
            i = shown['name'].split('-')[1]
            self.assertEqual({'kube_tag': 'v1.%s' % i},
                             shown['labels_overridden'])
            self.assertEqual({'own': i}, shown['labels_added'])
            self.assertEqual({'gone': 'x'}, shown['labels_skipped'])

    def test_get_one_cluster_costs_a_get_one_template(self):
        cluster = self.clusters_on_own_templates(1)[0]
        template, _ = self.statements('/v1/clustertemplates/ct-0')
        for ident in (cluster.uuid, cluster.name):
            executed, shown = self.statements('/v1/clusters/%s' % ident)
            self.assertEqual(len(template), len(executed), executed)
            self.assertEqual(1, len(selects(executed)), executed)
            self.assertEqual({'kube_tag': 'v1.0'},
                             shown['labels_overridden'])
            self.assertEqual({'own': '0'}, shown['labels_added'])
            self.assertEqual({'gone': 'x'}, shown['labels_skipped'])


class TestClusterChanges(ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.create(node_count=2).json['uuid']
        self.set_status(self.uuid, 'CREATE_COMPLETE')
        self.casts.clear()

    def shown(self):
        return self.get('/v1/clusters/%s' % self.uuid).json

    def test_patch_node_count_is_202(self):
        response = self.request('PATCH', '/v1/clusters/%s' % self.uuid,
                                body=[{'op': 'replace', 'path': '/node_count',
                                       'value': 3}], headers=LATEST)
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'uuid': self.uuid}, response.json)
        self.assertEqual(3, self.shown()['node_count'])
        self.assertEqual([('update', self.uuid)], self.casts)

    def test_patch_other_field_is_400(self):
        response = self.request('PATCH', '/v1/clusters/%s' % self.uuid,
                                body=[{'op': 'replace', 'path': '/keypair',
                                       'value': 'x'}], headers=LATEST)
        self.assertEqual(400, response.status_int)
        self.assertIn('keypair', self.fault(response))

    def test_resize_is_202_and_async(self):
        response = self.action(self.uuid, 'resize', {'node_count': 4})
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'uuid': self.uuid}, response.json)
        shown = self.shown()
        self.assertEqual(4, shown['node_count'])
        self.assertEqual('UPDATE_IN_PROGRESS', shown['status'])
        self.assertEqual([('resize', self.uuid)], self.casts)

    def test_resize_needs_version_1_7(self):
        response = self.action(self.uuid, 'resize', {'node_count': 4},
                               headers={'OpenStack-API-Version':
                                        'container-infra 1.6'})
        self.assertEqual(406, response.status_int)
        self.assertIn('1.7', self.fault(response))

    def test_resize_bad_input(self):
        cases = [({}, 'node_count'), ({'node_count': 0}, 'node_count'),
                 ({'node_count': 'x'}, 'node_count'),
                 ({'node_count': 1, 'nodes_to_remove': 'a'},
                  'nodes_to_remove'),
                 ({'node_count': 1, 'nodegroup': 'default-master'},
                  'nodegroup'),
                 ({'node_count': 1, 'extra': 1}, 'extra')]
        for body, field in cases:
            response = self.action(self.uuid, 'resize', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response), body)
        response = self.action(self.uuid, 'resize',
                               {'node_count': 1, 'nodegroup': 'nope'})
        self.assertEqual(404, response.status_int)
        self.assertEqual('CREATE_COMPLETE', self.shown()['status'])
        self.assertEqual([], self.casts)

    def test_resize_of_busy_cluster_is_409(self):
        self.set_status(self.uuid, 'UPDATE_IN_PROGRESS')
        response = self.action(self.uuid, 'resize', {'node_count': 4})
        self.assertEqual(409, response.status_int)
        db_bays.update_bay(self.uuid, {'status': 'CREATE_COMPLETE',
                                       'reservation': 'conductor-1'})
        response = self.action(self.uuid, 'resize', {'node_count': 4})
        self.assertEqual(409, response.status_int)
        self.assertEqual(2, self.shown()['node_count'])

    def test_rollback_is_recorded_and_checked(self):
        response = self.action(self.uuid, 'resize', {'node_count': 5},
                               query='?rollback=True')
        self.assertEqual(202, response.status_int, response.body)
        action = db_actions.open_of(self.uuid)
        self.assertEqual('resize', action.kind)
        self.assertTrue(action.params['rollback'])
        self.assertEqual({'bay': {'node_count': 2}},
                         action.params['restore'])
        response = self.action(self.uuid, 'resize', {'node_count': 5},
                               query='?rollback=perhaps')
        self.assertEqual(400, response.status_int)
        self.assertIn('rollback', self.fault(response))

    def test_upgrade(self):
        new = self.post('/v1/clustertemplates', {
            'name': 'ct2', 'coe': 'kubernetes',
            'labels': {'provisioner': 'fake', 'kube_tag': 'v1.21'}}).json
        response = self.action(self.uuid, 'upgrade',
                               {'cluster_template': 'ct2',
                                'max_batch_size': 1})
        self.assertEqual(202, response.status_int, response.body)
        shown = self.shown()
        self.assertEqual(new['uuid'], shown['cluster_template_id'])
        self.assertEqual('v1.21', shown['coe_version'])
        self.assertEqual('UPDATE_IN_PROGRESS', shown['status'])

    def test_upgrade_bad_input(self):
        self.post('/v1/clustertemplates', {'name': 'sw', 'coe': 'swarm'})
        cases = [({}, 'cluster_template'),
                 ({'cluster_template': 'nope'}, 'cluster_template'),
                 ({'cluster_template': 'sw'}, 'cluster_template'),
                 ({'cluster_template': 'ct', 'max_batch_size': 0},
                  'max_batch_size')]
        for body, field in cases:
            response = self.action(self.uuid, 'upgrade', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response), body)

    def test_delete_is_204(self):
        response = self.delete('/v1/clusters/%s' % self.uuid)
        self.assertEqual(204, response.status_int)
        self.assertEqual('DELETE_IN_PROGRESS', self.shown()['status'])
        self.assertEqual([('delete', self.uuid)], self.casts)

    def test_credential_rotate_is_202(self):
        response = self.request('PATCH', '/v1/credentials/%s' % self.uuid,
                                headers=LATEST)
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual({'uuid': self.uuid}, response.json)
        self.assertEqual([('rotate_credential', self.uuid)], self.casts)
        response = self.request('PATCH', '/v1/credentials/nope')
        self.assertEqual(404, response.status_int)
