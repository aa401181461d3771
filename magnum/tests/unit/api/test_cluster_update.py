"""What 2026 clients send to a cluster: python-magnumclient 5.0.0's
``coe cluster update``, magnum-auto-healer's health reports, API 1.13's
``cluster_id`` and clusters of 0 workers (1.10)."""

import os
import tempfile

from magnum.common import policy
from magnum.db import bays as db_bays
from magnum.tests.unit.api import test_clusters

LATEST = test_clusters.LATEST
V1_9 = {'OpenStack-API-Version': 'container-infra 1.9'}


class ClusterUpdateTestCase(test_clusters.ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.create(node_count=2).json['uuid']
        self.set_status(self.uuid, 'CREATE_COMPLETE')
        self.casts.clear()

    def policy(self, rules):
        """A policy file of ``rules`` over the defaults."""
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as f:
            for name, check in rules.items():
                f.write('"%s": "%s"\n' % (name, check))
        self.addCleanup(os.unlink, f.name)
        self.conf.config(policy_file=f.name, group='oslo_policy')
        policy.reset()

    def cluster(self):
        return self.get('/v1/clusters/' + self.uuid, headers=LATEST).json

    def update(self, ops, expect=202, query='', **kwargs):
        response = self.request('PATCH', '/v1/clusters/%s%s' % (
            self.uuid, query), body=ops, headers=kwargs.pop(
                'headers', LATEST), **kwargs)
        self.assertEqual(expect, response.status_int, response.body)
        return response


class TestClusterUpdate(ClusterUpdateTestCase):

    def test_what_coe_cluster_update_sends(self):
        """``--name n2 --label a=b --label x=y=z --no-label k`` and
        ``--master-count 3``, as 5.0.0 sends them."""
        db_bays.update_bay(self.uuid, {'labels': {'k': 'v', 'kube_tag': 'x'}})
        self.update([{'op': 'replace', 'path': '/name', 'value': 'n2'},
                     {'op': 'add', 'path': '/labels/a', 'value': 'b'},
                     {'op': 'add', 'path': '/labels/x', 'value': 'y=z'},
                     {'op': 'remove', 'path': '/labels/k'}])
        shown = self.cluster()
        self.assertEqual('n2', shown['name'])
        self.assertEqual({'a': 'b', 'x': 'y=z', 'kube_tag': 'x'},
                         shown['labels'])
        # name and labels are recorded: no action, the status as it was
        self.assertEqual('CREATE_COMPLETE', shown['status'])
        self.assertEqual([], self.casts)

        self.update([{'op': 'replace', 'path': '/master_count',
                      'value': 3}], query='?rollback=True')
        shown = self.cluster()
        self.assertEqual(3, shown['master_count'])
        self.assertEqual('UPDATE_IN_PROGRESS', shown['status'])
        self.assertEqual([('update', self.uuid)], self.casts)
        action = self.get('/v1/clusters/%s/actions' % self.uuid,
                          headers=LATEST).json['actions'][0]
        self.assertEqual('update', action['kind'])
        groups = {g['name']: g['node_count'] for g in self.get(
            '/v1/clusters/%s/nodegroups' % self.uuid,
            headers=LATEST).json['nodegroups']}
        self.assertEqual(3, groups['default-master'])

    def test_label_keys_with_dots_and_slashes(self):
        self.update([{'op': 'add', 'path': '/labels/example.com/role',
                      'value': 'gpu'},
                     {'op': 'add', 'path': '/labels/a~1b', 'value': 'c'}])
        labels = self.cluster()['labels']
        self.assertEqual('gpu', labels['example.com/role'])
        self.assertEqual('c', labels['a/b'])

    def test_a_busy_cluster_refuses_a_rename_and_changes_nothing(self):
        self.set_status(self.uuid, 'UPDATE_IN_PROGRESS')
        self.update([{'op': 'replace', 'path': '/name', 'value': 'n2'}],
                    expect=409)
        self.assertEqual('c1', self.cluster()['name'])

    def test_refused_paths_name_the_path_and_why(self):
        for ops, words in (
                ([{'op': 'replace', 'path': '/uuid', 'value': 'x'}],
                 ("'/uuid' cannot be changed",)),
                ([{'op': 'replace', 'path': '/master_count', 'value': 0}],
                 ('master_count',)),
                ([{'op': 'remove', 'path': '/master_count'}],
                 ('master_count', 'required')),
                ([{'op': 'replace', 'path': '/name', 'value': '1x'}],
                 ('name',)),
                ([{'op': 'remove', 'path': '/labels/missing'}],
                 ('/labels/missing',)),
                ([{'op': 'replace', 'path': '/name/0', 'value': 'x'}],
                 ('/name/0', 'no parts')),
                ([{'op': 'replace', 'path': '/labels', 'value': '[1'}],
                 ('/labels', 'not a dict')),
                ([{'op': 'replace', 'path': '/health_status',
                   'value': 'FINE'}], ('health_status',))):
            response = self.update(ops, expect=400)
            fault = self.fault(response)
            for word in words:
                self.assertIn(word, fault, ops)
            self.assertNotIn('<class', fault)
        shown = self.cluster()
        self.assertEqual(('c1', 1, 'CREATE_COMPLETE'), (
            shown['name'], shown['master_count'], shown['status']))
        self.assertEqual([], self.casts)

    def test_a_refused_patch_writes_nothing_of_its_other_operations(self):
        self.update([{'op': 'replace', 'path': '/name', 'value': 'n2'},
                     {'op': 'replace', 'path': '/node_count', 'value': -1}],
                    expect=400)
        self.assertEqual('c1', self.cluster()['name'])

    def test_labels_given_whole_as_python_prints_them(self):
        """python-magnumclient 4.x's ``update c replace labels=a=b``."""
        self.update([{'op': 'replace', 'path': '/labels',
                      'value': "{'a': 'b', 'c': 'd'}"}])
        self.assertEqual({'a': 'b', 'c': 'd'}, self.cluster()['labels'])
        response = self.update([{'op': 'replace', 'path': '/labels',
                                 'value': "__import__('os')"}], expect=400)
        self.assertIn('/labels', self.fault(response))


class TestHealthReports(ClusterUpdateTestCase):
    """magnum-auto-healer's PATCH (cloud-provider-openstack,
    pkg/autohealing/cloudprovider/openstack/provider.go), as gophercloud
    sends it."""

    GOPHERCLOUD = dict(LATEST, Accept='application/json')

    def report(self, status, reason, expect=202, **kwargs):
        return self.update(
            [{'op': 'replace', 'path': '/health_status', 'value': status},
             {'op': 'replace', 'path': '/health_status_reason',
              'value': reason}], expect=expect,
            headers=dict(self.GOPHERCLOUD, **kwargs.pop('headers', {})),
            **kwargs)

    def test_a_report_is_stored_and_shown_and_moves_nothing(self):
        response = self.report(
            'UNHEALTHY', "{'k8s-abc-node-0.EndpointCheck':'error',"
            "'updated_at':'2026-12-03 12:18:49.165628688 +0000 UTC "
            "m=+0.000233699'}")
        self.assertEqual({'uuid': self.uuid}, response.json)
        shown = self.cluster()
        self.assertEqual('UNHEALTHY', shown['health_status'])
        self.assertEqual({'k8s-abc-node-0.EndpointCheck': 'error',
                          'updated_at': '2026-12-03 12:18:49.165628688 '
                                        '+0000 UTC m=+0.000233699'},
                         shown['health_status_reason'])
        self.assertEqual('CREATE_COMPLETE', shown['status'])
        self.assertEqual([], self.casts)

    def test_a_busy_or_locked_cluster_takes_a_report(self):
        self.set_status(self.uuid, 'UPDATE_IN_PROGRESS',
                        reservation='conductor-1')
        self.report('HEALTHY', "{'api':'ok','nodes':'ok'}")
        shown = self.cluster()
        self.assertEqual('HEALTHY', shown['health_status'])
        self.assertEqual('UPDATE_IN_PROGRESS', shown['status'])

    def test_its_own_rule_alone(self):
        """An operator may let a reporter report health and nothing else.
        """
        self.policy({'cluster:update': '!'})
        self.report('HEALTHY', "{'api':'ok'}")
        response = self.update([{'op': 'replace', 'path': '/name',
                                 'value': 'n2'}], expect=403)
        self.assertTrue(self.fault(response))
        self.policy({'cluster:update_health_status': '!'})
        self.report('UNHEALTHY', "{'api':'error'}", expect=403)
        self.assertEqual('HEALTHY', self.cluster()['health_status'])

    def test_another_project_cannot_report(self):
        self.report('UNHEALTHY', "{'api':'error'}", expect=404,
                    headers={'X-Project-Id': 'project-b'})

    def test_never_evaluated_as_code(self):
        response = self.report('HEALTHY', "__import__('os').getcwd()",
                               expect=400)
        self.assertIn('health_status_reason', self.fault(response))
        response = self.report('HEALTHY', "{'a': {'nested': 1}}",
                               expect=400)
        self.assertIn('health_status_reason', self.fault(response))
        self.assertIsNone(self.cluster()['health_status_reason'])


class TestClusterId(ClusterUpdateTestCase):

    def test_1_13_shows_cluster_id_beside_stack_id(self):
        db_bays.update_bay(self.uuid, {'stack_id': 'stack-1'})
        for path in ('/v1/clusters/' + self.uuid, '/v1/clusters',
                     '/v1/clusters/detail'):
            body = self.get(path, headers={
                'OpenStack-API-Version': 'container-infra 1.13'}).json
            row = body if 'uuid' in body else body['clusters'][0]
            self.assertEqual('stack-1', row['cluster_id'], path)
            self.assertEqual('stack-1', row['stack_id'], path)
            old = self.get(path, headers={
                'OpenStack-API-Version': 'container-infra 1.12'}).json
            row = old if 'uuid' in old else old['clusters'][0]
            self.assertNotIn('cluster_id', row, path)


class TestNoWorkers(test_clusters.ClusterTestCase):

    def test_a_cluster_of_masters_only_from_1_10(self):
        uuid = self.create(name='m', node_count=0).json['uuid']
        groups = {g['name']: g for g in self.get(
            '/v1/clusters/%s/nodegroups/detail' % uuid,
            headers=LATEST).json['nodegroups']}
        self.assertEqual((0, 0), (groups['default-worker']['node_count'],
                                  groups['default-worker']['min_node_count']))
        self.assertEqual(0, self.get('/v1/clusters/m', headers=LATEST)
                         .json['node_count'])
        response = self.create(expect=400, name='n', node_count=0,
                               headers=V1_9)
        self.assertIn('1.10', self.fault(response))
        self.set_status(uuid, 'CREATE_COMPLETE')
        response = self.request('PATCH', '/v1/clusters/m', body=[
            {'op': 'replace', 'path': '/node_count', 'value': 2}],
            headers=LATEST)
        self.assertEqual(202, response.status_int, response.body)
