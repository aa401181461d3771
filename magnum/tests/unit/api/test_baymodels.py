import uuid

from magnum.tests.unit.api import base
from magnum.tests.unit import utils


def _body(**values):
    body = {'name': 'k8s', 'coe': 'kubernetes', 'image_id': 'fedora',
            'labels': {'provisioner': 'fake'}}
    body.update(values)
    return body


class TestBayModels(base.APITestCase):

    def test_create_answers_201_with_the_full_body(self):
        response = self.post('/v1/baymodels', _body(docker_volume_size='3'))
        self.assertEqual(201, response.status_int)
        body = response.json
        self.assertEqual('k8s', body['name'])
        self.assertEqual(3, body['docker_volume_size'])
        self.assertEqual('project-a', body['project_id'])
        self.assertIsNone(body['dns_nameserver'])
        self.assertFalse(body['public'])
        self.assertEqual('vm', body['server_type'])
        self.assertEqual('self', body['links'][0]['rel'])
        self.assertTrue(body['links'][0]['href'].endswith(body['uuid']))
        self.assertTrue(body['created_at'].endswith('+00:00'))

    def test_show_by_uuid_and_by_name(self):
        created = self.post('/v1/baymodels', _body()).json
        self.assertEqual(created, self.get(
            '/v1/baymodels/%s' % created['uuid']).json)
        self.assertEqual(created['uuid'],
                         self.get('/v1/baymodels/k8s').json['uuid'])

    def test_name_shared_by_two_is_409(self):
        self.post('/v1/baymodels', _body())
        self.post('/v1/baymodels', _body())
        response = self.get('/v1/baymodels/k8s')
        self.assertEqual(409, response.status_int)
        self.assertIn('k8s', self.fault(response))

    def test_missing_is_404_naming_it(self):
        response = self.get('/v1/baymodels/nope')
        self.assertEqual(404, response.status_int)
        self.assertIn('nope', self.fault(response))

    def test_list_is_short_and_detail_is_full(self):
        self.post('/v1/baymodels', _body())
        short = self.get('/v1/baymodels').json['baymodels'][0]
        full = self.get('/v1/baymodels/detail').json['baymodels'][0]
        self.assertNotIn('labels', short)
        self.assertIn('labels', full)
        self.assertIn('links', short)

    def test_pages_follow_next_until_done(self):
        for i in range(7):
            self.post('/v1/baymodels', _body(name='bm%d' % i))
        seen, path = [], '/v1/baymodels?limit=3'
        while path:
            body = self.get(path).json
            seen += [item['name'] for item in body['baymodels']]
            path = body.get('next', '').replace('http://localhost', '')
        self.assertEqual(['bm%d' % i for i in range(7)], seen)

    def test_pages_sorted_by_nullable_and_boolean_fields_miss_nothing(self):
        for i in range(7):
            self.post('/v1/baymodels', _body(
                name='bm%d' % i, image_id=None if i % 2 else 'img%d' % i,
                hidden=bool(i % 3)))
        for key in ('image_id', 'hidden', 'name'):
            for direction in ('asc', 'desc'):
                seen = []
                path = '/v1/baymodels?limit=2&sort_key=%s&sort_dir=%s' % (
                    key, direction)
                while path:
                    response = self.get(path)
                    self.assertEqual(200, response.status_int, path)
                    seen += [m['name'] for m in response.json['baymodels']]
                    path = response.json.get('next', '').replace(
                        'http://localhost', '')
                self.assertEqual(sorted('bm%d' % i for i in range(7)),
                                 sorted(seen), (key, direction))

    def test_no_next_on_the_last_page(self):
        for i in range(3):
            self.post('/v1/baymodels', _body(name='bm%d' % i))
        self.assertNotIn('next', self.get('/v1/baymodels?limit=3').json)

    def test_sort_by_name_descending(self):
        for name in ('b', 'c', 'a'):
            self.post('/v1/baymodels', _body(name=name))
        names = [m['name'] for m in self.get(
            '/v1/baymodels?sort_key=name&sort_dir=desc').json['baymodels']]
        self.assertEqual(['c', 'b', 'a'], names)

    def test_limit_is_capped_by_max_limit(self):
        self.conf.config(max_limit=2, group='api')
        for i in range(3):
            self.post('/v1/baymodels', _body(name='bm%d' % i))
        body = self.get('/v1/baymodels?limit=50').json
        self.assertEqual(2, len(body['baymodels']))
        self.assertIn('limit=2', body['next'])

    def test_other_projects_baymodel_is_404(self):
        created = self.post('/v1/baymodels', _body()).json
        other = {'X-Project-Id': 'project-b'}
        response = self.get('/v1/baymodels/%s' % created['uuid'],
                            headers=other)
        self.assertEqual(404, response.status_int)
        self.assertEqual([], self.get('/v1/baymodels',
                                      headers=other).json['baymodels'])

    def test_public_baymodel_is_seen_by_all_but_changed_by_admin_only(self):
        created = self.post('/v1/baymodels', _body(public=True),
                            as_admin=True).json
        other = {'X-Project-Id': 'project-b'}
        self.assertEqual(200, self.get('/v1/baymodels/%s' % created['uuid'],
                                       headers=other).status_int)
        response = self.patch('/v1/baymodels/%s' % created['uuid'],
                              [{'op': 'replace', 'path': '/name',
                                'value': 'x'}], headers=other)
        self.assertEqual(403, response.status_int)

    def test_publishing_needs_admin(self):
        response = self.post('/v1/baymodels', _body(public=True))
        self.assertEqual(403, response.status_int)
        self.assertEqual([], self.get('/v1/baymodels').json['baymodels'])

    def test_admin_lists_all_projects_only_when_asked(self):
        self.post('/v1/baymodels', _body())
        admin = {'X-Project-Id': 'ops'}
        self.assertEqual([], self.get('/v1/baymodels', headers=admin,
                                      as_admin=True).json['baymodels'])
        self.assertEqual(1, len(self.get(
            '/v1/baymodels?all_projects=1', headers=admin,
            as_admin=True).json['baymodels']))

    def test_member_cannot_list_all_projects(self):
        response = self.get('/v1/baymodels?all_projects=1')
        self.assertEqual(403, response.status_int)

    def test_patch_replaces_adds_and_removes(self):
        created = self.post('/v1/baymodels', _body(http_proxy='p')).json
        path = '/v1/baymodels/%s' % created['uuid']
        response = self.patch(path, [
            {'op': 'replace', 'path': '/image_id', 'value': 'ubuntu'},
            {'op': 'add', 'path': '/labels/k', 'value': 'v'},
            {'op': 'remove', 'path': '/http_proxy'},
            {'op': 'replace', 'path': '/docker_volume_size', 'value': '5'}])
        self.assertEqual(200, response.status_int, response.body)
        body = self.get(path).json
        self.assertEqual('ubuntu', body['image_id'])
        self.assertEqual({'provisioner': 'fake', 'k': 'v'}, body['labels'])
        self.assertIsNone(body['http_proxy'])
        self.assertEqual(5, body['docker_volume_size'])
        self.assertIsNotNone(body['updated_at'])

    def test_patch_removing_a_flag_restores_its_default(self):
        created = self.post('/v1/baymodels', _body(tls_disabled=True)).json
        path = '/v1/baymodels/%s' % created['uuid']
        self.patch(path, [{'op': 'remove', 'path': '/tls_disabled'}])
        self.assertFalse(self.get(path).json['tls_disabled'])

    def test_patch_removing_coe_is_400(self):
        created = self.post('/v1/baymodels', _body()).json
        response = self.patch('/v1/baymodels/%s' % created['uuid'],
                              [{'op': 'remove', 'path': '/coe'}])
        self.assertEqual(400, response.status_int)
        self.assertIn('coe', self.fault(response))

    def test_patch_of_read_only_field_is_400(self):
        created = self.post('/v1/baymodels', _body()).json
        for field in ('uuid', 'id', 'created_at', 'updated_at', 'links',
                      'project_id', 'user_id'):
            response = self.patch(
                '/v1/baymodels/%s' % created['uuid'],
                [{'op': 'replace', 'path': '/%s' % field, 'value': 'x'}])
            self.assertEqual(400, response.status_int, field)
            self.assertIn(field, self.fault(response))
        self.assertEqual(created, self.get(
            '/v1/baymodels/%s' % created['uuid']).json)

    def test_patch_of_baymodel_in_use_is_409_except_name(self):
        created = self.post('/v1/baymodels', _body()).json
        self.post('/v1/bays', {'baymodel_id': created['uuid']})
        path = '/v1/baymodels/%s' % created['uuid']
        response = self.patch(path, [{'op': 'replace', 'path': '/coe',
                                      'value': 'swarm'}])
        self.assertEqual(409, response.status_int)
        response = self.patch(path, [{'op': 'replace', 'path': '/name',
                                      'value': 'renamed'}])
        self.assertEqual(200, response.status_int)

    def test_delete_then_404(self):
        created = self.post('/v1/baymodels', _body()).json
        path = '/v1/baymodels/%s' % created['uuid']
        self.assertEqual(204, self.delete(path).status_int)
        self.assertEqual(404, self.get(path).status_int)

    def test_delete_of_baymodel_in_use_is_409(self):
        created = self.post('/v1/baymodels', _body()).json
        self.post('/v1/bays', {'baymodel_id': created['uuid']})
        response = self.delete('/v1/baymodels/%s' % created['uuid'])
        self.assertEqual(409, response.status_int)
        self.assertIn('bay', self.fault(response))

    def test_unknown_provisioner_label_is_400(self):
        response = self.post('/v1/baymodels',
                             _body(labels={'provisioner': 'nope'}))
        self.assertEqual(400, response.status_int)
        self.assertIn('labels.provisioner', self.fault(response))

    def test_bad_docker_url_label_is_400(self):
        response = self.post('/v1/baymodels',
                             _body(labels={'docker_url': 'ftp://x'}))
        self.assertEqual(400, response.status_int)
        self.assertIn('labels.docker_url', self.fault(response))

    def test_random_uuid_marker_is_400(self):
        response = self.get('/v1/baymodels?marker=%s' % uuid.uuid4())
        self.assertEqual(400, response.status_int)
        self.assertIn('marker', self.fault(response))


class TestBayModelsFixtures(base.APITestCase):
    """The rows made by helpers show through the API the same way."""

    def test_row_made_by_object_is_listed(self):
        utils.baymodel(self.context, name='from-object')
        names = [m['name'] for m in
                 self.get('/v1/baymodels').json['baymodels']]
        self.assertEqual(['from-object'], names)


class TestSSHAuthorizedKey(base.APITestCase):
    """python-magnumclient 1.1.0's baymodel field."""

    KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHBtR8oIKhGdN6oYd9tM3Zg3cJ7v'
           'q1dVbBoGq4n2Yb0s ops@example')

    def test_a_key_is_stored_and_shown_and_null_is_none(self):
        body = self.post('/v1/baymodels',
                         _body(ssh_authorized_key=self.KEY + '\n')).json
        self.assertEqual(self.KEY, body['ssh_authorized_key'])
        self.assertEqual(self.KEY, self.get(
            '/v1/clustertemplates/%s' % body['uuid']).json[
                'ssh_authorized_key'])
        response = self.post('/v1/baymodels',
                             _body(name='none', ssh_authorized_key=None))
        self.assertEqual(201, response.status_int, response.body)
        self.assertIsNone(response.json['ssh_authorized_key'])

    def test_what_is_not_one_public_key_is_400_and_nothing_is_made(self):
        for bad in ('hello', 'ssh-rsa AAAA!!', self.KEY + '\n' + self.KEY,
                    '-----BEGIN OPENSSH PRIVATE KEY-----', 7):
            response = self.post('/v1/baymodels',
                                 _body(ssh_authorized_key=bad))
            self.assertEqual(400, response.status_int, bad)
            self.assertIn('ssh_authorized_key', self.fault(response))
        self.assertEqual([], self.get('/v1/baymodels').json['baymodels'])

    def test_patch_sets_and_removes_it(self):
        uuid = self.post('/v1/baymodels', _body()).json['uuid']
        response = self.patch('/v1/baymodels/' + uuid, [
            {'op': 'add', 'path': '/ssh_authorized_key', 'value': self.KEY}])
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual(self.KEY, response.json['ssh_authorized_key'])
        response = self.patch('/v1/baymodels/' + uuid, [
            {'op': 'remove', 'path': '/ssh_authorized_key'}])
        self.assertIsNone(response.json['ssh_authorized_key'])


class TestDrivers(base.APITestCase):
    """network_driver and volume_driver: a closed list per COE."""

    def test_each_coe_takes_its_own_drivers(self):
        for coe, network, volume in (('kubernetes', 'calico', 'cinder'),
                                     ('kubernetes', 'flannel', None),
                                     ('swarm', 'docker', 'rexray'),
                                     ('docker', 'flannel', None)):
            response = self.post('/v1/clustertemplates', _body(
                name='%s-%s' % (coe, network), coe=coe,
                network_driver=network, volume_driver=volume))
            self.assertEqual(201, response.status_int, response.body)

    def test_anything_else_is_400_naming_the_field_and_the_choices(self):
        for values, field, choices in (
                ({'network_driver': 'invalid_network_driver'},
                 'network_driver', 'flannel or calico'),
                ({'volume_driver': 'invalid_volume_driver'},
                 'volume_driver', 'cinder'),
                ({'network_driver': 'cilium'}, 'network_driver',
                 'flannel or calico'),
                ({'coe': 'swarm', 'volume_driver': 'cinder'},
                 'volume_driver', 'rexray')):
            response = self.post('/v1/clustertemplates', _body(**values))
            self.assertEqual(400, response.status_int, values)
            self.assertIn(field, self.fault(response))
            self.assertIn(choices, self.fault(response))
        self.assertEqual(
            [], self.get('/v1/clustertemplates').json['clustertemplates'])

    def test_the_operator_allows_more(self):
        self.conf.config(kubernetes_allowed_network_drivers=['all'],
                         group='cluster_template')
        response = self.post('/v1/clustertemplates',
                             _body(network_driver='cilium'))
        self.assertEqual(201, response.status_int, response.body)

    def test_patch_is_checked_against_the_coe(self):
        uuid = self.post('/v1/clustertemplates', _body(
            network_driver='calico')).json['uuid']
        path = '/v1/clustertemplates/' + uuid
        response = self.patch(path, [{'op': 'replace', 'path': '/coe',
                                      'value': 'swarm'}])
        self.assertEqual(400, response.status_int)
        self.assertIn('network_driver', self.fault(response))
        response = self.patch(path, [{'op': 'replace',
                                      'path': '/volume_driver',
                                      'value': 'rexray'}])
        self.assertEqual(400, response.status_int)
        shown = self.get(path).json
        self.assertEqual(('kubernetes', None),
                         (shown['coe'], shown['volume_driver']))
        response = self.patch(path, [{'op': 'replace',
                                      'path': '/network_driver',
                                      'value': 'flannel'}])
        self.assertEqual(200, response.status_int, response.body)
