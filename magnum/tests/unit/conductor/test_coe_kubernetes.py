"""The Kubernetes COE client's own logic: namespaces, patches, errors."""

import json
import socket

import kubernetes.client

from magnum.common import exception
from magnum.conductor.coe import kubernetes as kube
from magnum.tests import base

POD = kube.KINDS['pod']
SERVICE = kube.KINDS['service']
RC = kube.KINDS['rc']


class TestNamespace(base.TestCase):

    def test_a_keystone_project_id_is_used_as_it_is(self):
        self.assertEqual('magnum-0123456789abcdef0123456789abcdef',
                         kube.namespace_for('0123456789abcdef0123456789abcdef'))

    def test_the_prefix_comes_from_config(self):
        self.conf.config(namespace_prefix='t-', group='kubernetes')
        self.assertEqual('t-abc', kube.namespace_for('abc'))

    def test_other_ids_get_a_valid_distinct_name(self):
        names = {kube.namespace_for(p) for p in (
            'Project_A', 'project-a', 'project_a', 'PROJECT-A', 'x' * 80,
            'x' * 81, '---')}
        self.assertEqual(7, len(names))
        for name in names:
            self.assertLessEqual(len(name), 63)
            self.assertRegex(name, r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')

    def test_no_project_is_refused(self):
        self.assertRaises(exception.Invalid, kube.namespace_for, None)


class TestPatch(base.TestCase):

    def test_view_fields_map_to_the_object(self):
        patch = kube.translate_patch(SERVICE, [
            {'op': 'replace', 'path': '/labels', 'value': {'a': 'b'}},
            {'op': 'add', 'path': '/selector/app', 'value': 'x'},
            {'op': 'replace', 'path': '/desc', 'value': 'd'},
        ], {'metadata': {'labels': {'old': '1'}}})
        self.assertEqual([
            {'op': 'replace', 'path': '/metadata/labels',
             'value': {'a': 'b'}},
            {'op': 'add', 'path': '/spec/selector/app', 'value': 'x'},
            {'op': 'replace', 'path': '/metadata/annotations/description',
             'value': 'd'},
        ], patch)

    def test_a_first_label_adds_the_map(self):
        patch = kube.translate_patch(POD, [
            {'op': 'add', 'path': '/labels/a', 'value': '1'},
            {'op': 'add', 'path': '/labels/b', 'value': '2'},
        ], {'metadata': {}})
        self.assertEqual([
            {'op': 'add', 'path': '/metadata/labels', 'value': {}},
            {'op': 'add', 'path': '/metadata/labels/a', 'value': '1'},
            {'op': 'add', 'path': '/metadata/labels/b', 'value': '2'},
        ], patch)

    def test_replicas_scale_and_take_strings(self):
        patch = kube.translate_patch(RC, [
            {'op': 'replace', 'path': '/replicas', 'value': '3'}], {})
        self.assertEqual([{'op': 'replace', 'path': '/spec/replicas',
                           'value': 3}], patch)

    def test_bad_replicas_are_refused_naming_the_field(self):
        for value in (-1, 'many', 1.5, True, None):
            e = self.assertRaises(exception.InvalidParameterValue,
                                  kube.translate_patch, RC, [
                                      {'op': 'replace', 'path': '/replicas',
                                       'value': value}], {})
            self.assertIn('replicas', str(e))

    def test_pods_have_no_replicas(self):
        e = self.assertRaises(exception.InvalidPatch, kube.translate_patch,
                              POD, [{'op': 'replace', 'path': '/replicas',
                                     'value': 2}], {})
        self.assertIn('/replicas', str(e))

    def test_spec_paths_pass_through(self):
        op = {'op': 'replace', 'path': '/spec/containers/0/image',
              'value': 'nginx:2'}
        self.assertEqual([op], kube.translate_patch(POD, [op], {}))

    def test_read_only_and_unknown_paths_are_refused(self):
        for path in ('/status', '/uuid', '/name', '/bay_uuid', '/images',
                     '/kind', '/apiVersion'):
            e = self.assertRaises(exception.InvalidPatch,
                                  kube.translate_patch, POD, [
                                      {'op': 'replace', 'path': path,
                                       'value': 'x'}], {})
            self.assertIn(path, str(e))

    def test_malformed_patches_are_refused(self):
        for patch in ([], {}, ['x'], [{'op': 'move', 'path': '/labels'}],
                      [{'op': 'add', 'path': 'labels', 'value': 1}],
                      [{'op': 'add', 'path': '/labels'}]):
            self.assertRaises(exception.InvalidPatch, kube.translate_patch,
                              POD, patch, {})


def _api_error(status, reason='', message='msg from k8s'):
    e = kubernetes.client.ApiException(status=status, reason='R')
    e.body = json.dumps({'kind': 'Status', 'message': message,
                         'reason': reason})
    return e


class TestErrors(base.TestCase):

    def _error(self, status, reason=''):
        return kube._error(_api_error(status, reason), 'bay-1', 'Pod', 'web')

    def test_kubernetes_status_maps_to_magnum_status(self):
        cases = {404: (exception.KubernetesObjectNotFound, 404),
                 422: (exception.KubernetesInvalid, 400),
                 400: (exception.KubernetesInvalid, 400),
                 401: (exception.BayEndpointRefused, 503),
                 403: (exception.BayEndpointRefused, 503),
                 500: (exception.BayEndpointUnavailable, 503)}
        for status, (cls, code) in cases.items():
            e = self._error(status)
            self.assertIsInstance(e, cls)
            self.assertEqual(code, e.code)
            self.assertIn('msg from k8s', str(e))
            self.assertIn('bay-1', str(e))

    def test_conflicts(self):
        e = self._error(409, 'AlreadyExists')
        self.assertIsInstance(e, exception.KubernetesObjectExists)
        self.assertIn('web', str(e))
        e = self._error(409, 'Conflict')
        self.assertIsInstance(e, exception.KubernetesConflict)
        self.assertEqual(409, e.code)

    def test_a_body_that_is_not_json_still_says_something(self):
        e = kubernetes.client.ApiException(status=502, reason='Bad Gateway')
        e.body = '<html>'
        self.assertIn('Bad Gateway', str(kube._error(e, 'b', 'Pod', 'x')))


class _Bay:
    uuid = 'bay-uuid-1'
    project_id = 'p1'

    def __init__(self, url):
        self.api_address = url


class _BayModel:
    labels = {'kube_tls_verify': 'false'}


class TestClient(base.TestCase):

    def test_unreachable_api_is_503_naming_the_bay(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        client = kube.KubernetesClient(_Bay('https://127.0.0.1:%d' % port),
                                       _BayModel())
        e = self.assertRaises(exception.BayEndpointUnavailable,
                              client.list, POD)
        self.assertEqual(503, e.code)
        self.assertIn('bay-uuid-1', str(e))

    def test_a_bay_without_address_is_503(self):
        e = self.assertRaises(exception.BayEndpointUnavailable,
                              kube.KubernetesClient, _Bay(None), _BayModel())
        self.assertIn('bay-uuid-1', str(e))

    def test_the_label_turns_verification_off(self):
        client = kube.KubernetesClient(_Bay('https://h:6443'), _BayModel())
        self.assertFalse(client.config.verify_ssl)
        self.assertEqual('magnum-p1', client.namespace)


class TestViews(base.TestCase):

    def test_pod(self):
        view = POD.view({
            'metadata': {'uid': 'u1', 'name': 'web', 'labels': {'a': 'b'},
                         'annotations': {'description': 'd'},
                         'creationTimestamp': '2026-01-02T03:04:05Z'},
            'spec': {'containers': [{'image': 'i1'}, {'image': 'i2'}],
                     'nodeName': 'n1'},
            'status': {'phase': 'Running'}}, 'b1')
        self.assertEqual({'uuid': 'u1', 'name': 'web', 'bay_uuid': 'b1',
                          'labels': {'a': 'b'}, 'desc': 'd',
                          'images': ['i1', 'i2'], 'status': 'Running',
                          'host': 'n1',
                          'created_at': '2026-01-02T03:04:05+00:00',
                          'updated_at': None}, view)

    def test_rc_and_service(self):
        rc = RC.view({'metadata': {'uid': 'u'}, 'spec': {
            'replicas': 2, 'selector': {'a': 'b'},
            'template': {'spec': {'containers': [{'image': 'x'}]}}},
            'status': {'replicas': 1}}, 'b')
        self.assertEqual((2, 1, ['x'], {}), (rc['replicas'],
                                             rc['current_replicas'],
                                             rc['images'], rc['labels']))
        svc = SERVICE.view({'metadata': {}, 'spec': {
            'clusterIP': '10.0.0.5', 'ports': [{'port': 80}]}}, 'b')
        self.assertEqual(('10.0.0.5', [{'port': 80}], {}),
                         (svc['ip'], svc['ports'], svc['selector']))
