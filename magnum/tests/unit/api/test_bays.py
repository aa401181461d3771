import datetime

import sqlalchemy as sa

from magnum.db import api as db_api
from magnum.db import bays as db_bays
from magnum.db import services as db_services
from magnum.objects import bay as bay_obj
from magnum.tests.unit.api import base


class BayTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.baymodel = self.post('/v1/baymodels', {
            'name': 'bm', 'coe': 'docker',
            'labels': {'provisioner': 'fake'}}).json

    def create(self, **values):
        body = {'name': 'bay1', 'baymodel_id': self.baymodel['uuid']}
        body.update(values)
        return self.post('/v1/bays', body)

    def set_status(self, uuid, status, **values):
        db_bays.update_bay(uuid, dict(values, status=status))


class TestBayCreate(BayTestCase):

    def test_create_answers_201_in_progress_and_casts(self):
        response = self.create(node_count='3')
        self.assertEqual(201, response.status_int)
        body = response.json
        self.assertEqual('CREATE_IN_PROGRESS', body['status'])
        self.assertEqual(3, body['node_count'])
        self.assertEqual(1, body['master_count'])
        self.assertEqual(60, body['bay_create_timeout'])
        self.assertTrue(body['links'][0]['href'].endswith(body['uuid']))
        self.assertEqual([('create', body['uuid'])], self.casts)

    def test_baymodel_by_name(self):
        body = self.create(baymodel_id='bm').json
        self.assertEqual(self.baymodel['uuid'], body['baymodel_id'])

    def test_missing_baymodel_is_400_naming_the_field(self):
        response = self.create(baymodel_id='nope')
        self.assertEqual(400, response.status_int)
        self.assertIn('baymodel_id', self.fault(response))
        self.assertEqual([], self.get('/v1/bays').json['bays'])
        self.assertEqual([], self.casts)

    def test_other_projects_baymodel_is_400(self):
        response = self.create(headers={'X-Project-Id': 'project-b'})
        self.assertEqual(400, response.status_int)

    def test_name_is_generated_when_missing(self):
        body = self.post('/v1/bays',
                         {'baymodel_id': self.baymodel['uuid']}).json
        self.assertTrue(body['name'].startswith('bay-'))

    def test_provisioner_follows_the_baymodel_label(self):
        body = self.create().json
        self.assertEqual('fake',
                         db_bays.get_bay_by_uuid_unscoped(
                             body['uuid']).provisioner)

    def test_zero_nodes_is_400_and_changes_nothing(self):
        response = self.create(node_count=0)
        self.assertEqual(400, response.status_int)
        self.assertIn('node_count', self.fault(response))
        self.assertEqual([], self.get('/v1/bays').json['bays'])


class TestStaticEndpointLabel(BayTestCase):
    """A bay on a template that the static provisioner serves needs the
    template's endpoint label; the template itself does not."""

    def template(self, name, coe='docker', labels=None):
        response = self.post('/v1/baymodels', {'name': name, 'coe': coe,
                                               'labels': labels})
        self.assertEqual(201, response.status_int, response.body)
        return response.json

    def refused(self, baymodel):
        response = self.create(baymodel_id=baymodel['uuid'])
        self.assertEqual(400, response.status_int, response.body)
        self.assertEqual([], self.get('/v1/bays').json['bays'])
        self.assertEqual([], self.casts)
        return self.fault(response)

    def test_docker_template_without_docker_url_is_400_naming_it(self):
        self.conf.config(default_provisioner='static', group='bay')
        fault = self.refused(self.template('plain'))
        self.assertEqual(
            'Invalid value for baymodel_id: template plain has no label '
            'docker_url, which the static provisioner needs: a docker bay '
            'of it registers the existing Docker Engine at that URL '
            '(unix:///var/run/docker.sock, tcp://host:port or '
            'http(s)://host:port). Add the label to the template, or name '
            'another provisioner in its label provisioner.', fault)

    def test_misspelled_label_is_400_naming_both(self):
        self.conf.config(default_provisioner='static', group='bay')
        fault = self.refused(self.template(
            'typo', labels={'docker_ulr': 'unix:///var/run/docker.sock'}))
        self.assertIn('template typo has no label docker_url', fault)
        self.assertTrue(fault.endswith(
            'It has a label docker_ulr: did you mean docker_url?'), fault)

    def test_kubernetes_and_swarm_need_their_labels(self):
        fault = self.refused(self.template(
            'k', coe='kubernetes', labels={'provisioner': 'static',
                                           'kube_tag': 'v1.30'}))
        self.assertIn('template k has no label kube_api_url', fault)
        self.assertIn('Kubernetes API server', fault)
        # NOTE: named outright, the provisioner is not the default.
        self.assertNotIn('another provisioner', fault)
        self.assertNotIn('did you mean', fault)
        fault = self.refused(self.template(
            's', coe='swarm', labels={'kube_api_url': 'https://k:6443'}))
        self.assertIn('template s has no label docker_url', fault)
        self.assertIn('Its label kube_api_url is the endpoint of kubernetes '
                      'bays', fault)

    def test_template_with_its_label_makes_bays(self):
        baymodel = self.template(
            'good', labels={'docker_url': 'unix:///var/run/docker.sock'})
        response = self.create(baymodel_id='good')
        self.assertEqual(201, response.status_int, response.body)
        self.assertEqual([('create', response.json['uuid'])], self.casts)
        self.assertEqual('static', db_bays.get_bay_by_uuid_unscoped(
            response.json['uuid']).provisioner)
        self.assertEqual(baymodel['uuid'], response.json['baymodel_id'])

    def test_another_default_provisioner_is_not_asked_for_the_label(self):
        self.conf.config(default_provisioner='fake', group='bay')
        self.template('plain')
        self.assertEqual(201, self.create(baymodel_id='plain').status_int)


class TestBayUpdate(BayTestCase):

    def test_patch_node_count_scales_asynchronously(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE)
        response = self.patch('/v1/bays/bay1', [
            {'op': 'replace', 'path': '/node_count', 'value': '4'}])
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual('UPDATE_IN_PROGRESS', response.json['status'])
        self.assertEqual(4, response.json['node_count'])
        self.assertEqual(('update', bay['uuid']), self.casts[-1])

    def test_failed_bay_can_be_updated_again(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.UPDATE_FAILED)
        response = self.patch('/v1/bays/bay1', [
            {'op': 'replace', 'path': '/node_count', 'value': 2}])
        self.assertEqual(202, response.status_int)

    def test_patch_in_progress_is_409(self):
        self.create()
        response = self.patch('/v1/bays/bay1', [
            {'op': 'replace', 'path': '/node_count', 'value': 2}])
        self.assertEqual(409, response.status_int)
        self.assertIn('CREATE_IN_PROGRESS', self.fault(response))

    def test_patch_of_locked_bay_is_409_and_changes_nothing(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE,
                        reservation='conductor-1')
        response = self.patch('/v1/bays/bay1', [
            {'op': 'replace', 'path': '/node_count', 'value': 2}])
        self.assertEqual(409, response.status_int)
        self.assertIn('locked', self.fault(response))
        body = self.get('/v1/bays/bay1').json
        self.assertEqual(1, body['node_count'])
        self.assertEqual('CREATE_COMPLETE', body['status'])

    def test_patch_of_other_fields_is_400(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE)
        for path in ('/name', '/status', '/api_address', '/uuid',
                     '/baymodel_id', '/master_count'):
            response = self.patch('/v1/bays/bay1', [
                {'op': 'replace', 'path': path, 'value': 'x'}])
            self.assertEqual(400, response.status_int, path)
            self.assertIn(path, self.fault(response))

    def test_patch_removing_node_count_is_400(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE)
        response = self.patch('/v1/bays/bay1', [
            {'op': 'remove', 'path': '/node_count'}])
        self.assertEqual(400, response.status_int)


class TestBayDelete(BayTestCase):

    def test_delete_answers_204_and_marks_the_row(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE)
        self.assertEqual(204, self.delete('/v1/bays/bay1').status_int)
        self.assertEqual('DELETE_IN_PROGRESS',
                         self.get('/v1/bays/bay1').json['status'])
        self.assertEqual(('delete', bay['uuid']), self.casts[-1])

    def test_stuck_create_can_be_deleted(self):
        self.create()
        self.assertEqual(204, self.delete('/v1/bays/bay1').status_int)

    def test_delete_again_while_deleting_recasts(self):
        bay = self.create().json
        self.assertEqual(204, self.delete('/v1/bays/bay1').status_int)
        self.assertEqual(204, self.delete('/v1/bays/bay1').status_int)
        self.assertEqual([('delete', bay['uuid'])] * 2, self.casts[-2:])

    def test_delete_of_locked_bay_is_409(self):
        bay = self.create().json
        self.set_status(bay['uuid'], bay_obj.CREATE_COMPLETE,
                        reservation='conductor-1')
        self.assertEqual(409, self.delete('/v1/bays/bay1').status_int)

    def test_other_project_gets_404(self):
        self.create()
        response = self.delete('/v1/bays/bay1',
                               headers={'X-Project-Id': 'project-b'})
        self.assertEqual(404, response.status_int)


class TestBayRead(BayTestCase):

    def test_detail_has_addresses_and_list_does_not(self):
        self.create()
        short = self.get('/v1/bays').json['bays'][0]
        full = self.get('/v1/bays/detail').json['bays'][0]
        self.assertNotIn('node_addresses', short)
        self.assertIn('node_addresses', full)
        self.assertNotIn('reservation', full)

    def test_sort_by_status(self):
        self.create(name='a')
        self.create(name='b')
        self.assertEqual(200, self.get(
            '/v1/bays?sort_key=status&sort_dir=desc').status_int)

    def test_bad_sort_key_is_400_listing_the_choices(self):
        response = self.get('/v1/bays?sort_key=reservation')
        self.assertEqual(400, response.status_int)
        self.assertIn('sort_key', self.fault(response))


class TestMServices(base.APITestCase):

    def test_admin_sees_conductors_up_and_down(self):
        db_services.report_service('c1', 'magnum-conductor')
        db_services.report_service('c2', 'magnum-conductor')
        with db_api.writer() as session:
            session.execute(sa.update(db_api.SERVICE).where(
                db_api.SERVICE.c.host == 'c2').values(
                    last_seen_up=datetime.datetime(2000, 1, 1)))
        body = self.get('/v1/mservices', as_admin=True).json
        states = {s['host']: s['state'] for s in body['mservices']}
        self.assertEqual({'c1': 'up', 'c2': 'down'}, states)

    def test_member_is_refused(self):
        self.assertEqual(403, self.get('/v1/mservices').status_int)
