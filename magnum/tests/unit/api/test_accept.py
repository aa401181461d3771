"""Every method of every route answers a client that accepts JSON.

gophercloud (Terraform's OpenStack provider, the cluster-autoscaler) and
Java clients send ``Accept: application/json`` on every request, DELETEs
included; the 2.x clients send ``*/*``; curl and some scripts send none.
"""

import inspect

from magnum.api.controllers.v1 import bay
from magnum.api.controllers.v1 import baymodel
from magnum.api.controllers.v1 import container
from magnum.api.controllers.v1 import kube_object
from magnum.api.controllers.v1 import nodegroup
from magnum.api.controllers.v1 import quota
from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST
ACCEPTS = ('application/json', '*/*', None)


class TestEveryMethodAcceptsJSON(test_clusters.ClusterTestCase):

    def each(self, method, path, expect, accept, body=None, as_admin=False):
        headers = dict(LATEST, Accept=accept)
        response = self.request(method, path, body=body, headers=headers,
                                as_admin=as_admin)
        self.assertEqual(expect, response.status_int,
                         '%s %s (Accept: %s): %s' % (
                             method, path, accept, response.body))
        if response.body:
            self.assertEqual('application/json', response.content_type)
        return response

    def test_each_route_and_method_with_each_accept(self):
        for n, accept in enumerate(ACCEPTS):
            for kind, coll in (('baymodels', 'baymodels'),
                               ('clustertemplates', 'clustertemplates')):
                name = '%s-%d' % (kind, n)
                self.each('POST', '/v1/' + coll, 201, accept, {
                    'name': name, 'coe': 'kubernetes',
                    'labels': {'provisioner': 'fake'}})
                for suffix in ('', '/detail', '/' + name):
                    self.each('GET', '/v1/%s%s' % (coll, suffix), 200,
                              accept)
                self.each('PATCH', '/v1/%s/%s' % (coll, name), 200, accept,
                          [{'op': 'replace', 'path': '/name',
                            'value': name + '-x'}])
                self.each('DELETE', '/v1/%s/%s-x' % (coll, name), 204,
                          accept)

            for coll, field, ref, created, changed in (
                    ('bays', 'baymodel_id', 'bay', 201, 202),
                    ('clusters', 'cluster_template_id', 'cluster', 202,
                     202)):
                name = '%s-%d' % (ref, n)
                uuid = self.each('POST', '/v1/' + coll, created, accept, {
                    'name': name, field: self.template['uuid'],
                    'node_count': 1}).json['uuid']
                self.set_status(uuid, 'CREATE_COMPLETE')
                for suffix in ('', '/detail', '/' + name):
                    self.each('GET', '/v1/%s%s' % (coll, suffix), 200,
                              accept)
                self.each('PATCH', '/v1/%s/%s' % (coll, name), changed,
                          accept, [{'op': 'replace', 'path': '/node_count',
                            'value': 2}])
                self.set_status(uuid, 'UPDATE_COMPLETE')
                if coll == 'clusters':
                    groups = '/v1/clusters/%s/nodegroups' % uuid
                    self.each('POST', groups, 202, accept,
                              {'name': 'extra', 'node_count': 1})
                    self.set_status(uuid, 'UPDATE_COMPLETE')
                    for suffix in ('', '/detail', '/extra'):
                        self.each('GET', groups + suffix, 200, accept)
                    self.each('PATCH', groups + '/extra', 202, accept,
                              [{'op': 'replace', 'path': '/node_count',
                                'value': 2}])
                    self.set_status(uuid, 'UPDATE_COMPLETE')
                    self.each('DELETE', groups + '/extra', 204, accept)
                    self.set_status(uuid, 'UPDATE_COMPLETE')
                    self.each('GET', '/v1/clusters/%s/actions' % uuid, 200,
                              accept)
                self.each('DELETE', '/v1/%s/%s' % (coll, name), 204, accept)

            self.each('POST', '/v1/quotas', 201, accept, {
                'project_id': 'project-q', 'resource': 'Cluster',
                'hard_limit': 3}, as_admin=True)
            self.each('GET', '/v1/quotas/project-q/Cluster', 200, accept,
                      as_admin=True)
            self.each('PATCH', '/v1/quotas/project-q/Cluster', 202, accept,
                      {'hard_limit': 4}, as_admin=True)
            self.each('DELETE', '/v1/quotas/project-q/Cluster', 204, accept,
                      as_admin=True)
            for path in ('/', '/v1', '/v1/mservices', '/v1/stats'):
                self.each('GET', path, 200, accept, as_admin=True)

    def test_no_handler_offers_only_html(self):
        """The routes this unit test cannot drive (containers and
        Kubernetes objects need a conductor; the functional tests drive
        them) are checked by what their handlers offer: a handler exposed
        without a content type offers text/html only, and pecan answers
        406 to a client that accepts JSON alone."""
        for module in (bay, baymodel, container, kube_object, nodegroup,
                       quota):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__:
                    continue
                for name, member in vars(cls).items():
                    config = getattr(member, '_pecan', None)
                    if not config or name == '_route':
                        continue
                    offered = config.get('content_types', {})
                    self.assertIn('application/json', offered,
                                  '%s.%s' % (cls.__name__, name))


class TestPatchBodyFirst(test_clusters.ClusterTestCase):

    def test_a_bad_patch_body_is_400_even_for_a_missing_row(self):
        """The body is checked before the row is looked up: a body that
        is not a JSON-patch list is bad input whatever the path names."""
        missing = '0e3c8b3c-1111-4111-8111-111111111111'
        paths = ('/v1/clustertemplates/' + missing,
                 '/v1/baymodels/' + missing,
                 '/v1/clusters/' + missing,
                 '/v1/bays/' + missing,
                 '/v1/clusters/%s/nodegroups/%s' % (missing, missing),
                 '/v1/mservices/99')
        for path in paths:
            for body in ({'name': 'x'}, [], [{'op': 'move', 'path': '/x'}]):
                response = self.request('PATCH', path, body=body,
                                        headers=LATEST, as_admin=True)
                self.assertEqual(400, response.status_int, (path, body))
                self.assertIn('patch', self.fault(response).lower(), path)
            response = self.request(
                'PATCH', path, headers=LATEST, as_admin=True,
                body=[{'op': 'replace', 'path': '/node_count', 'value': 2}])
            self.assertIn(response.status_int, (400, 404), path)


class TestNo500ForOddInput(test_clusters.ClusterTestCase):
    """What the fuzzing of issue 21 found: each a 4xx naming the problem."""

    def test_repeated_sort_key_is_400(self):
        for path in ('/v1/clusters', '/v1/clusters/detail', '/v1/bays'):
            response = self.get(path + '?sort_key=id&sort_key=name')
            self.assertEqual(400, response.status_int, path)
            self.assertIn('sort_key', self.fault(response))

    def test_service_ids_that_are_no_ids_are_404(self):
        for ident in ('%C2%B2', '99999999999999999999', '-1'):
            response = self.get('/v1/mservices/' + ident, as_admin=True)
            self.assertEqual(404, response.status_int, ident)

    def test_a_marker_out_of_the_ids_range_is_400(self):
        response = self.get('/v1/quotas?marker=99999999999999999999',
                            as_admin=True)
        self.assertEqual(400, response.status_int)
        self.assertIn('marker', self.fault(response))
