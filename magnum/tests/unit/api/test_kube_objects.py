"""``/v1/pods``, ``/v1/services`` and ``/v1/rcs`` through the whole API and
a real conductor endpoint on the in-process RPC transport. Kubernetes
itself is an in-memory stand-in here (the functional tests use a real
kube-apiserver); the conductor's handler, manifest parsing and patch
translation are the real ones.
"""

import json
import threading
import uuid

import fixtures
import jsonpatch
from oslo_config import cfg
import oslo_messaging as messaging

from magnum.common import exception
from magnum.conductor.coe import kubernetes as kube
from magnum.conductor.handlers import kubernetes as kube_handler
from magnum.conductor import manager as conductor_manager
from magnum.conductor import rpc
from magnum.db import bays as db_bays
from magnum.objects import bay as bay_obj
from magnum.tests.unit.api import base

READER = {'X-Roles': 'reader'}
PROJECT_B = {'X-Project-Id': 'project-b', 'X-User-Id': 'user-b'}


class FakeKubernetes:
    """Objects by (namespace, kind, name), as the real client shows them."""

    store = {}

    def __init__(self, bay, baymodel):
        self.bay = bay.uuid
        self.namespace = kube.namespace_for(bay.project_id)

    def _key(self, kind, ident):
        for key, obj in self.store.items():
            if key[:2] == (self.namespace, kind.kind) and ident in (
                    key[2], obj['metadata']['uid']):
                return key
        raise exception.KubernetesObjectNotFound(
            kind=kind.kind, name=ident, bay=self.bay, reason='not found')

    def list(self, kind):
        return [kind.view(obj, self.bay) for key, obj in self.store.items()
                if key[:2] == (self.namespace, kind.kind)]

    def get(self, kind, ident):
        return kind.view(self.store[self._key(kind, ident)], self.bay)

    def create(self, kind, document):
        key = (self.namespace, kind.kind, document['metadata']['name'])
        if key in self.store:
            raise exception.KubernetesObjectExists(
                kind=kind.kind, name=key[2], bay=self.bay,
                reason='already exists')
        obj = json.loads(json.dumps(document))
        obj['metadata']['uid'] = str(uuid.uuid4())
        self.store[key] = obj
        return kind.view(obj, self.bay)

    def update(self, kind, ident, patch=None, manifest=None):
        key = self._key(kind, ident)
        obj = self.store[key]
        if manifest is not None:
            obj['spec'] = manifest['spec']
        else:
            obj = jsonpatch.apply_patch(
                obj, kube.translate_patch(kind, patch, obj))
        self.store[key] = obj
        return kind.view(obj, self.bay)

    def delete(self, kind, ident):
        del self.store[self._key(kind, ident)]


POD = {'apiVersion': 'v1', 'kind': 'Pod',
       'metadata': {'name': 'web', 'labels': {'app': 'web'}},
       'spec': {'containers': [{'name': 'c', 'image': 'nginx'}]}}
RC_YAML = """kind: ReplicationController
apiVersion: v1
metadata: {name: rc1}
spec:
  replicas: 1
  selector: {app: x}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: busybox}]}
"""


class KubeObjectsTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        FakeKubernetes.store = {}
        self.useFixture(fixtures.MonkeyPatch(
            'magnum.conductor.handlers.kubernetes.kube.KubernetesClient',
            FakeKubernetes))
        manager = conductor_manager.ConductorManager('test-host')
        server = rpc.get_server(
            messaging.Target(topic=cfg.CONF.conductor.topic,
                             server='test-host'), [manager])
        server.start()
        # NOTE: the executor's idle threads take a second to notice the
        # end; they finish in the background rather than in every test.
        self.addCleanup(lambda: threading.Thread(
            target=server.wait, daemon=True).start())
        self.addCleanup(server.stop)
        self.bay = self.make_bay('bay1')

    def make_bay(self, name, coe='kubernetes',
                 status=bay_obj.CREATE_COMPLETE, headers=None):
        baymodel = self.post('/v1/baymodels', {
            'name': 'bm-%s' % name, 'coe': coe,
            'labels': {'provisioner': 'fake'}}, headers=headers).json
        bay = self.post('/v1/bays', {'name': name,
                                     'baymodel_id': baymodel['uuid']},
                        headers=headers).json
        db_bays.update_bay(bay['uuid'], {
            'status': status, 'api_address': 'https://10.0.0.1:6443'})
        return bay

    def create_pod(self, headers=None, **values):
        body = {'bay_uuid': self.bay['uuid'], 'manifest': json.dumps(POD)}
        body.update(values)
        return self.post('/v1/pods', body, headers=headers)


class TestCreate(KubeObjectsTestCase):

    def test_create_answers_201_with_links(self):
        response = self.create_pod()
        self.assertEqual(201, response.status_int, response.text)
        pod = response.json
        self.assertEqual('web', pod['name'])
        self.assertEqual(self.bay['uuid'], pod['bay_uuid'])
        self.assertEqual(['nginx'], pod['images'])
        self.assertTrue(pod['links'][0]['href'].endswith(
            '/v1/pods/%s/%s' % (pod['uuid'], self.bay['uuid'])))

    def test_yaml_and_a_bay_name(self):
        response = self.post('/v1/rcs', {'bay_uuid': 'bay1',
                                         'manifest': RC_YAML,
                                         'manifest_url': None})
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(1, response.json['replicas'])

    def test_wrong_kind_is_400_naming_it(self):
        response = self.post('/v1/services', {
            'bay_uuid': self.bay['uuid'], 'manifest': json.dumps(POD)})
        self.assertEqual(400, response.status_int)
        self.assertIn("'Pod'", self.fault(response))
        self.assertIn("'Service'", self.fault(response))

    def test_both_or_neither_input_is_400(self):
        for extra in ({'manifest_url': 'http://example.com/x'},
                      {'manifest': None}, {'manifest': ''}):
            response = self.create_pod(**extra)
            self.assertEqual(400, response.status_int, extra)
            self.assertIn('manifest', self.fault(response))

    def test_bad_fields_are_400_naming_them(self):
        for body, field in (({'manifest': 'x'}, 'bay_uuid'),
                            ({'bay_uuid': 5, 'manifest': 'x'}, 'bay_uuid'),
                            ({'bay_uuid': 'bay1', 'manifest': 5},
                             'manifest'),
                            ({'bay_uuid': 'bay1', 'manifest_url': 'ftp://x'},
                             'manifest_url'),
                            ({'bay_uuid': 'bay1', 'nope': 1}, 'nope')):
            response = self.post('/v1/pods', body)
            self.assertEqual(400, response.status_int, body)
            self.assertIn(field, self.fault(response))

    def test_oversized_manifest_is_400(self):
        self.conf.config(manifest_max_bytes=50, group='kubernetes')
        response = self.create_pod()
        self.assertEqual(400, response.status_int)
        self.assertIn('larger than 50 bytes', self.fault(response))

    def test_existing_name_is_409(self):
        self.create_pod()
        response = self.create_pod()
        self.assertEqual(409, response.status_int)
        self.assertIn('already exists', self.fault(response))

    def test_unknown_bay_is_404(self):
        response = self.create_pod(bay_uuid='nosuchbay')
        self.assertEqual(404, response.status_int)

    def test_docker_bay_is_400(self):
        self.make_bay('dbay', coe='docker')
        response = self.create_pod(bay_uuid='dbay')
        self.assertEqual(400, response.status_int)
        self.assertIn('docker', self.fault(response))

    def test_bay_in_progress_is_409(self):
        self.make_bay('busy', status=bay_obj.CREATE_IN_PROGRESS)
        response = self.create_pod(bay_uuid='busy')
        self.assertEqual(409, response.status_int)
        self.assertIn('CREATE_IN_PROGRESS', self.fault(response))

    def test_reader_may_not_create(self):
        response = self.create_pod(headers=READER)
        self.assertEqual(403, response.status_int)


class TestRead(KubeObjectsTestCase):

    def setUp(self):
        super().setUp()
        self.pod = self.create_pod().json

    def test_list_needs_a_bay(self):
        response = self.get('/v1/pods')
        self.assertEqual(400, response.status_int)
        self.assertIn('bay_ident', self.fault(response))

    def test_list_short_and_detail(self):
        short = self.get('/v1/pods?bay_ident=bay1').json['pods']
        self.assertEqual(['web'], [p['name'] for p in short])
        self.assertNotIn('host', short[0])
        detail = self.get('/v1/pods/detail?bay_ident=bay1').json['pods']
        self.assertIn('host', detail[0])

    def test_list_pages(self):
        for n in range(3):
            pod = dict(POD, metadata={'name': 'p%d' % n})
            self.create_pod(manifest=json.dumps(pod))
        page = self.get('/v1/pods?bay_ident=bay1&limit=2').json
        self.assertEqual(['p0', 'p1'], [p['name'] for p in page['pods']])
        self.assertIn('marker=', page['next'])
        rest = self.get('/v1/pods?bay_ident=bay1&limit=2&marker=%s'
                        % page['pods'][-1]['uuid']).json
        self.assertEqual(['p2', 'web'], [p['name'] for p in rest['pods']])
        self.assertNotIn('next', rest)

    def test_unknown_query_parameter_is_400(self):
        response = self.get('/v1/pods?bay_ident=bay1&nope=1')
        self.assertEqual(400, response.status_int)
        self.assertIn('nope', self.fault(response))

    def test_both_addressings_by_name_and_uuid(self):
        for path in ('/v1/pods/web?bay_ident=bay1',
                     '/v1/pods/web/?bay_ident=%s' % self.bay['uuid'],
                     '/v1/pods/%s/bay1' % self.pod['uuid'],
                     '/v1/pods/%s/%s' % (self.pod['uuid'],
                                         self.bay['uuid'])):
            response = self.get(path)
            self.assertEqual(200, response.status_int, path)
            self.assertEqual(self.pod['uuid'], response.json['uuid'])

    def test_path_and_query_naming_different_bays_is_400(self):
        self.make_bay('bay2')
        response = self.get('/v1/pods/web/bay1?bay_ident=bay2')
        self.assertEqual(400, response.status_int)

    def test_missing_object_is_404(self):
        response = self.get('/v1/pods/nope/bay1')
        self.assertEqual(404, response.status_int)
        self.assertIn('nope', self.fault(response))

    def test_reader_may_read(self):
        self.assertEqual(200, self.get('/v1/pods/web/bay1',
                                       headers=READER).status_int)

    def test_other_project_sees_neither_bay_nor_objects(self):
        self.assertEqual(404, self.get('/v1/pods?bay_ident=%s'
                                       % self.bay['uuid'],
                                       headers=PROJECT_B).status_int)
        self.make_bay('bayb', headers=PROJECT_B)
        listed = self.get('/v1/pods?bay_ident=bayb', headers=PROJECT_B)
        self.assertEqual([], listed.json['pods'])

    def test_v1_links_the_collections(self):
        body = self.get('/v1').json
        for name in ('pods', 'services', 'rcs'):
            self.assertIn(name, body)


class TestChange(KubeObjectsTestCase):

    def test_rc_replicas_scale(self):
        self.post('/v1/rcs', {'bay_uuid': 'bay1', 'manifest': RC_YAML})
        response = self.patch('/v1/rcs/rc1/bay1', [
            {'op': 'replace', 'path': '/replicas', 'value': 4}])
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(4, response.json['replicas'])

    def test_label_patch(self):
        self.create_pod()
        response = self.patch('/v1/pods/web?bay_ident=bay1', [
            {'op': 'add', 'path': '/labels/tier', 'value': 'x'}])
        self.assertEqual({'app': 'web', 'tier': 'x'},
                         response.json['labels'])

    def test_manifest_patch_must_be_alone_and_of_the_kind(self):
        self.create_pod()
        response = self.patch('/v1/pods/web/bay1', [
            {'op': 'replace', 'path': '/manifest', 'value': RC_YAML}])
        self.assertEqual(400, response.status_int)
        self.assertIn("'ReplicationController'", self.fault(response))
        response = self.patch('/v1/pods/web/bay1', [
            {'op': 'replace', 'path': '/manifest', 'value': 'x'},
            {'op': 'add', 'path': '/labels/a', 'value': 'b'}])
        self.assertEqual(400, response.status_int)

    def test_read_only_field_is_400(self):
        self.create_pod()
        response = self.patch('/v1/pods/web/bay1', [
            {'op': 'replace', 'path': '/uuid', 'value': 'x'}])
        self.assertEqual(400, response.status_int)
        self.assertIn('/uuid', self.fault(response))

    def test_reader_may_not_change_or_delete(self):
        self.create_pod()
        self.assertEqual(403, self.patch('/v1/pods/web/bay1', [
            {'op': 'add', 'path': '/labels/a', 'value': 'b'}],
            headers=READER).status_int)
        self.assertEqual(403, self.delete('/v1/pods/web/bay1',
                                          headers=READER).status_int)

    def test_delete_is_204_then_404(self):
        self.create_pod()
        self.assertEqual(204, self.delete('/v1/pods/web/bay1').status_int)
        self.assertEqual(404, self.delete('/v1/pods/web/bay1').status_int)


class TestHandler(KubeObjectsTestCase):

    def test_unknown_kind_is_refused(self):
        handler = kube_handler.KubernetesHandler()
        self.assertRaises(exception.Invalid, handler.object_list,
                          self.context, 'deployment', self.bay['uuid'])
