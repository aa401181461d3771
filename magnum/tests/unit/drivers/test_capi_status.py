"""A bay's state from its Cluster API objects
(magnum/drivers/capi/status.py): when an action is done or failed, what
the Cluster shows of the bay (address, nodes, counts, health)."""

import datetime
import types

from oslo_utils import timeutils
from oslo_utils import uuidutils

from magnum.drivers.capi import status
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.tests import base
from magnum.tests.unit import utils

BAY_LABEL = 'magnum.openstack.org/bay'
DEPLOYMENT_NAME = 'topology.cluster.x-k8s.io/deployment-name'
VERSION = 'v1.33.4'
DELETE_TIMEOUT = datetime.timedelta(minutes=30)


# -- builders of cluster.x-k8s.io/v1beta2 objects ---------------------------

def cond(kind, state=True, reason=None, message=None, generation=None):
    """A metav1.Condition."""
    item = {'type': kind,
            'status': {True: 'True', False: 'False', None: 'Unknown'}[state],
            'reason': reason or ('Ready' if state else 'NotReady'),
            'lastTransitionTime': '2026-01-01T00:00:00Z'}
    if message is not None:
        item['message'] = message
    if generation is not None:
        item['observedGeneration'] = generation
    return item


def ready_conditions(generation=1):
    return [cond('Available', generation=generation),
            cond('ControlPlaneAvailable', generation=generation),
            cond('InfrastructureReady', generation=generation),
            cond('TopologyReconciled', generation=generation)]


def make_cluster(bay, generation=1, observed=None, conditions=None,
                 endpoint=('203.0.113.10', 6443), workers=(
                     ('default-worker', 2),),
                 action=None, deleting=False):
    """A Cluster with spec.topology: ``workers`` are (topology name,
    replicas or None)."""
    metadata = {'name': 'c-%s' % bay.uuid[:8], 'namespace': 'magnum-p',
                'uid': 'uid-%s' % bay.uuid[:8], 'generation': generation,
                'labels': {BAY_LABEL: bay.uuid},
                'annotations': {}}
    if action is not None:
        metadata['annotations'][status.ACTION_ANNOTATION] = action
    if deleting:
        metadata['deletionTimestamp'] = '2026-01-01T00:00:00Z'
    mds = []
    for name, replicas in workers:
        entry = {'class': 'default-worker', 'name': name,
                 'metadata': {'annotations': {
                     status.NODEGROUP_ANNOTATION: name}}}
        if replicas is not None:
            entry['replicas'] = replicas
        mds.append(entry)
    spec = {'topology': {'classRef': {'name': 'magnum-x'},
                         'version': VERSION,
                         'controlPlane': {'replicas': 1},
                         'workers': {'machineDeployments': mds}}}
    if endpoint is not None:
        spec['controlPlaneEndpoint'] = {'host': endpoint[0],
                                        'port': endpoint[1]}
    return {'apiVersion': 'cluster.x-k8s.io/v1beta2', 'kind': 'Cluster',
            'metadata': metadata, 'spec': spec,
            'status': {'observedGeneration': generation if observed is None
                       else observed,
                       'conditions': ready_conditions(generation)
                       if conditions is None else conditions}}


def make_md(bay, topology_name='default-worker', nodegroup=None,
            replicas=2, ready=None, up_to_date=None, current=None,
            generation=1, observed=None, deleting=False):
    """A MachineDeployment of the topology; status counts default to all
    ``replicas`` ready and up to date."""
    metadata = {'name': 'c-%s-%s' % (topology_name, 'abcde'),
                'namespace': 'magnum-p', 'generation': generation,
                'labels': {BAY_LABEL: bay.uuid,
                           DEPLOYMENT_NAME: topology_name},
                'annotations': {status.NODEGROUP_ANNOTATION:
                                nodegroup or topology_name}}
    if deleting:
        metadata['deletionTimestamp'] = '2026-01-01T00:00:00Z'
    full = replicas or 0
    return {'apiVersion': 'cluster.x-k8s.io/v1beta2',
            'kind': 'MachineDeployment', 'metadata': metadata,
            'spec': {'replicas': replicas},
            'status': {'observedGeneration': generation if observed is None
                       else observed,
                       'replicas': full if current is None else current,
                       'readyReplicas': full if ready is None else ready,
                       'availableReplicas': full if ready is None else ready,
                       'upToDateReplicas': full if up_to_date is None
                       else up_to_date}}


def make_machine(bay, name, control_plane=False, deployment=None,
                 server=None, addresses=(('InternalIP', '10.0.0.5'),),
                 node=None, conditions=None, phase='Running',
                 version=VERSION, deleting=False):
    """A Machine of the control plane or of MachineDeployment
    ``deployment`` (its object name)."""
    labels = {BAY_LABEL: bay.uuid,
              'cluster.x-k8s.io/cluster-name': 'c-%s' % bay.uuid[:8]}
    if control_plane:
        labels[status.CONTROL_PLANE_LABEL] = ''
    if deployment:
        labels[status.DEPLOYMENT_LABEL] = deployment
    metadata = {'name': name, 'namespace': 'magnum-p', 'labels': labels}
    if deleting:
        metadata['deletionTimestamp'] = '2026-01-01T00:00:00Z'
    machine_status = {'phase': phase,
                      'addresses': [{'type': kind, 'address': address}
                                    for kind, address in addresses],
                      'conditions': [cond('NodeHealthy')]
                      if conditions is None else conditions}
    if node is not None:
        machine_status['nodeRef'] = {'name': node}
    spec = {'clusterName': 'c-%s' % bay.uuid[:8], 'version': version}
    if server is not None:
        spec['providerID'] = 'openstack:///%s' % server
    return {'apiVersion': 'cluster.x-k8s.io/v1beta2', 'kind': 'Machine',
            'metadata': metadata, 'spec': spec, 'status': machine_status}


def make_action(state='IN_PROGRESS', uuid=None, age=None):
    """An action as state_of reads it; ``age``: started that long ago."""
    started = None
    if age is not None:
        started = timeutils.utcnow() - age
    return types.SimpleNamespace(
        uuid=uuid or uuidutils.generate_uuid(), status=state,
        started_at=started, created_at=started)


class CapiStatusTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.model = utils.baymodel(self.context, coe='kubernetes',
                                    labels={'provisioner': 'capi'})
        self.bay = utils.bay(self.context, self.model, provisioner='capi',
                             stack_id='magnum-p/c1')
        self.now = timeutils.utcnow()

    def objects(self, bay=None, **cluster_values):
        """A whole healthy bay: (cluster, mds, machines)."""
        bay = bay or self.bay
        cluster = make_cluster(bay, **cluster_values)
        md = make_md(bay)
        machines = [
            make_machine(bay, 'c-cp-1', control_plane=True, server='srv-cp',
                         node='cp-1',
                         addresses=(('InternalIP', '10.0.0.2'),
                                    ('ExternalIP', '203.0.113.2'))),
            make_machine(bay, 'c-w-1', deployment=md['metadata']['name'],
                         server='srv-w1', node='w-1',
                         addresses=(('InternalIP', '10.0.0.3'),)),
            make_machine(bay, 'c-w-2', deployment=md['metadata']['name'],
                         server='srv-w2', node='w-2',
                         addresses=(('InternalIP', '10.0.0.4'),
                                    ('ExternalIP', '203.0.113.4')))]
        return cluster, [md], machines

    def state(self, action, cluster, mds, machines, bay=None, now=None):
        return status.state_of(bay or self.bay, action, cluster, mds,
                               machines, now or self.now, DELETE_TIMEOUT)

    def other_bay(self, bay_status, **values):
        return utils.bay(self.context, self.model, provisioner='capi',
                         status=bay_status, name='b-%s' % bay_status,
                         **values)


class TestCreate(CapiStatusTestCase):

    def test_a_real_create_action(self):
        action = action_obj.Action.open_of(self.context, self.bay.uuid)
        self.assertEqual('PENDING', action.status)
        state = self.state(action, *self.objects())
        self.assertEqual(bay_obj.CREATE_COMPLETE, state.status)
        self.assertIsNone(state.status_reason)
        self.assertIsNone(state.redo)

    def test_done_with_what_the_cluster_shows(self):
        state = self.state(make_action(), *self.objects())
        self.assertEqual(bay_obj.CREATE_COMPLETE, state.status)
        self.assertEqual('https://203.0.113.10:6443', state.api_address)
        self.assertEqual('HEALTHY', state.health_status)
        self.assertEqual(3, len(state.nodes))
        self.assertEqual({'default-worker': 2}, state.nodegroup_counts)

    def test_not_done_while_a_condition_is_not_true(self):
        for kind in ('Available', 'ControlPlaneAvailable',
                     'InfrastructureReady'):
            conditions = [c if c['type'] != kind else
                          cond(kind, False, message='%s waits' % kind)
                          for c in ready_conditions()]
            cluster, mds, machines = self.objects(conditions=conditions)
            self.assertIsNone(self.state(make_action(), cluster, mds,
                                         machines), kind)
            self.assertEqual('%s waits' % kind,
                             status.settled(cluster, mds, machines))
            conditions = [c for c in ready_conditions() if c['type'] != kind]
            cluster, mds, machines = self.objects(conditions=conditions)
            self.assertIsNone(self.state(make_action(), cluster, mds,
                                         machines), kind)

    def test_not_done_while_the_generation_is_not_observed(self):
        cluster, mds, machines = self.objects(generation=3, observed=2)
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        self.assertIn('generation 3',
                      status.settled(cluster, mds, machines))

    def test_not_done_while_the_topology_is_of_an_older_generation(self):
        conditions = ready_conditions(3)
        conditions[-1] = cond('TopologyReconciled', generation=2)
        cluster, mds, machines = self.objects(generation=3,
                                              conditions=conditions)
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        conditions[-1] = cond('TopologyReconciled', generation=3)
        self.assertEqual(bay_obj.CREATE_COMPLETE, self.state(
            make_action(), cluster, mds, machines).status)

    def test_not_done_while_the_topology_is_not_reconciled(self):
        conditions = ready_conditions()
        conditions[-1] = cond('TopologyReconciled', False,
                              reason='ReconcilePending',
                              message='MachineDeployment rolling out')
        cluster, mds, machines = self.objects(conditions=conditions)
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        self.assertEqual('MachineDeployment rolling out',
                         status.settled(cluster, mds, machines))

    def test_not_done_while_a_machine_deployment_is_not_ready(self):
        cluster, _, machines = self.objects()
        for md in (make_md(self.bay, ready=1),
                   make_md(self.bay, up_to_date=1),
                   make_md(self.bay, current=3),
                   make_md(self.bay, generation=2, observed=1),
                   make_md(self.bay, replicas=1),
                   make_md(self.bay, deleting=True)):
            self.assertIsNone(self.state(make_action(), cluster, [md],
                                         machines), md)
            self.assertIsNotNone(status.settled(cluster, [md], machines))

    def test_not_done_while_a_machine_deployment_is_missing(self):
        cluster, mds, machines = self.objects(
            workers=(('default-worker', 2), ('gpu', 1)))
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        self.assertIn('gpu', status.settled(cluster, mds, machines))
        mds.append(make_md(self.bay, 'gpu', replicas=1))
        self.assertEqual(bay_obj.CREATE_COMPLETE, self.state(
            make_action(), cluster, mds, machines).status)

    def test_not_done_while_one_is_left_over(self):
        cluster, mds, machines = self.objects()
        mds.append(make_md(self.bay, 'old', replicas=1))
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))

    def test_autoscaled_replicas_are_the_autoscalers(self):
        cluster, _, machines = self.objects(
            workers=(('default-worker', None),))
        md = make_md(self.bay, replicas=5)
        state = self.state(make_action(), cluster, [md], machines)
        self.assertEqual(bay_obj.CREATE_COMPLETE, state.status)
        self.assertEqual({'default-worker': 5}, state.nodegroup_counts)

    def test_not_done_while_a_machine_is_deleted_or_of_another_version(self):
        cluster, mds, machines = self.objects()
        machines[1]['spec']['version'] = 'v1.32.0'
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        machines[1]['spec']['version'] = VERSION
        machines[1]['metadata']['deletionTimestamp'] = 'now'
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))

    def test_a_pending_action_in_progress_is_marked_taken(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        state = self.state(make_action('PENDING'), cluster, mds, machines)
        self.assertIsNotNone(state)
        self.assertEqual({}, state.changes())

    def test_in_progress_with_nothing_new_is_none(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        self.assertIsNone(self.state(make_action('IN_PROGRESS'), cluster,
                                     mds, machines))

    def test_no_cluster_yet_for_a_pending_create_is_a_redo(self):
        state = self.state(make_action('PENDING'), None, [], [])
        self.assertTrue(state.redo)
        self.assertIsNone(state.status)

    def test_a_cluster_gone_fails_the_create(self):
        state = self.state(make_action('IN_PROGRESS'), None, [], [])
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertIn('magnum-p/c1', state.status_reason)

    def test_a_create_needs_no_action_annotation(self):
        cluster, mds, machines = self.objects(action='another-action')
        self.assertEqual(bay_obj.CREATE_COMPLETE, self.state(
            make_action(), cluster, mds, machines).status)


class TestFailure(CapiStatusTestCase):

    def test_a_failed_machine_fails_the_create_word_for_word(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        message = ('Instance c-w-1 failed: No valid host was found. There '
                   'are not enough hosts available.')
        machines[1]['status']['phase'] = 'Failed'
        machines[1]['status']['conditions'] = [
            cond('Ready', False, reason='NotReady', message=message)]
        state = self.state(make_action(), cluster, mds, machines)
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertEqual('NotReady: ' + message, state.status_reason)

    def test_a_failed_machine_without_a_message_is_named(self):
        cluster, mds, machines = self.objects()
        machines[2]['status']['phase'] = 'Failed'
        machines[2]['status']['conditions'] = []
        state = self.state(make_action(), cluster, mds, machines)
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertIn('c-w-2', state.status_reason)

    def test_an_instance_that_could_not_be_made_word_for_word(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        message = ('Failed to create server c-w-1: Quota exceeded for '
                   'cores: Requested 4, but already used 20 of 20 cores')
        machines[1]['status']['conditions'] = [
            cond('InfrastructureReady', False,
                 reason='InstanceCreateFailed', message=message)]
        state = self.state(make_action(), cluster, mds, machines)
        because = 'InstanceCreateFailed: ' + message
        self.assertEqual((bay_obj.CREATE_FAILED, because),
                         (state.status, state.status_reason))
        self.assertEqual(because, status.failure(cluster, machines))

    def test_the_clusters_infrastructure_failing(self):
        message = 'Failed to create load balancer: quota exceeded'
        conditions = ready_conditions()
        conditions[2] = cond('InfrastructureReady', False,
                             reason='LoadBalancerCreateFailed',
                             message=message)
        cluster, mds, machines = self.objects(conditions=conditions)
        state = self.state(make_action(), cluster, mds, machines)
        self.assertEqual((bay_obj.CREATE_FAILED,
                          'LoadBalancerCreateFailed: ' + message),
                         (state.status, state.status_reason))

    def test_a_reason_that_is_not_a_failure_waits(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        machines[1]['status']['conditions'] = [
            cond('InfrastructureReady', False, reason='InstanceNotReady',
                 message='The server is building')]
        self.assertIsNone(self.state(make_action(), cluster, mds, machines))
        self.assertIsNone(status.failure(cluster, machines))

    def test_a_machine_being_deleted_fails_nothing(self):
        cluster, mds, machines = self.objects(generation=2, observed=1)
        machines[1]['metadata']['deletionTimestamp'] = 'now'
        machines[1]['status']['phase'] = 'Failed'
        self.assertIsNone(status.failure(cluster, machines))

    def test_an_update_fails_as_an_update(self):
        bay = self.other_bay(bay_obj.UPDATE_IN_PROGRESS)
        action = make_action()
        cluster, mds, machines = self.objects(bay, action=action.uuid)
        machines[1]['status']['conditions'] = [
            cond('InfrastructureReady', False,
                 reason='InstanceCreateFailed', message='no flavor g1')]
        state = self.state(action, cluster, mds, machines, bay=bay)
        self.assertEqual((bay_obj.UPDATE_FAILED,
                          'InstanceCreateFailed: no flavor g1'),
                         (state.status, state.status_reason))


class TestUpdate(CapiStatusTestCase):

    def setUp(self):
        super().setUp()
        self.bay = self.other_bay(bay_obj.UPDATE_IN_PROGRESS)

    def test_done_once_the_cluster_has_the_action(self):
        action = make_action()
        state = self.state(action, *self.objects(action=action.uuid))
        self.assertEqual(bay_obj.UPDATE_COMPLETE, state.status)

    def test_a_cluster_without_the_action_is_a_redo(self):
        for annotation in (None, 'an-older-action'):
            for phase in ('PENDING', 'IN_PROGRESS'):
                action = make_action(phase)
                state = self.state(action,
                                   *self.objects(action=annotation))
                self.assertTrue(state.redo, (annotation, phase))
                self.assertIsNone(state.status)

    def test_no_cluster_for_a_pending_update_is_a_redo(self):
        self.assertTrue(self.state(make_action('PENDING'), None, [],
                                   []).redo)

    def test_a_cluster_gone_fails_the_update(self):
        state = self.state(make_action(), None, [], [])
        self.assertEqual(bay_obj.UPDATE_FAILED, state.status)

    def test_an_update_never_times_out_here(self):
        self.bay.bay_create_timeout = 1
        action = make_action(age=datetime.timedelta(hours=5))
        cluster, mds, machines = self.objects(action=action.uuid,
                                              generation=2, observed=1)
        self.assertIsNone(self.state(action, cluster, mds, machines))


class TestDelete(CapiStatusTestCase):

    def setUp(self):
        super().setUp()
        self.bay = self.other_bay(bay_obj.DELETE_IN_PROGRESS)

    def test_no_cluster_is_deleted(self):
        for phase in ('PENDING', 'IN_PROGRESS'):
            state = self.state(make_action(phase), None, [], [])
            self.assertEqual(bay_obj.DELETE_COMPLETE, state.status)

    def test_a_cluster_not_being_deleted_and_a_pending_delete_is_a_redo(self):
        state = self.state(make_action('PENDING'), *self.objects())
        self.assertTrue(state.redo)
        self.assertIsNone(state.status)

    def test_a_cluster_not_being_deleted_in_progress_is_no_news(self):
        self.assertIsNone(self.state(make_action('IN_PROGRESS'),
                                     *self.objects()))

    def test_being_deleted(self):
        objects = self.objects(deleting=True)
        self.assertIsNone(self.state(make_action('IN_PROGRESS'), *objects))
        state = self.state(make_action('PENDING'), *objects)
        self.assertEqual({}, state.changes())

    def test_past_the_timeout_fails_with_the_deleting_message(self):
        message = ('* Machines: deleting 2 Machines\n* OpenStackCluster: '
                   'waiting for the load balancer to go')
        conditions = ready_conditions() + [
            cond('Deleting', True, reason='WaitingForWorkersDeletion',
                 message=message)]
        objects = self.objects(deleting=True, conditions=conditions)
        action = make_action(age=DELETE_TIMEOUT + datetime.timedelta(
            minutes=1))
        state = self.state(action, *objects)
        self.assertEqual(bay_obj.DELETE_FAILED, state.status)
        self.assertEqual(message, state.status_reason)

    def test_past_the_timeout_without_a_message(self):
        objects = self.objects(deleting=True)
        action = make_action(age=DELETE_TIMEOUT * 2)
        state = self.state(action, *objects)
        self.assertEqual(bay_obj.DELETE_FAILED, state.status)
        self.assertTrue(state.status_reason)

    def test_within_the_timeout_waits(self):
        objects = self.objects(deleting=True)
        action = make_action(age=DELETE_TIMEOUT - datetime.timedelta(
            minutes=1))
        self.assertIsNone(self.state(action, *objects))


class TestCreateTimeout(CapiStatusTestCase):

    def test_a_create_past_its_timeout_names_what_it_waits_for(self):
        self.bay.bay_create_timeout = 10
        cluster, _, machines = self.objects()
        md = make_md(self.bay, ready=1)
        action = make_action(age=datetime.timedelta(minutes=11))
        state = self.state(action, cluster, [md], machines)
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertIn('timed out after 10 minute', state.status_reason)
        self.assertIn(status.settled(cluster, [md], machines),
                      state.status_reason)
        self.assertIn('readyReplicas 1 of 2', state.status_reason)

    def test_within_its_timeout_it_waits(self):
        self.bay.bay_create_timeout = 10
        cluster, _, machines = self.objects()
        action = make_action(age=datetime.timedelta(minutes=9))
        self.assertIsNone(self.state(action, cluster,
                                     [make_md(self.bay, ready=1)], machines))

    def test_a_zero_timeout_never_times_out(self):
        self.bay.bay_create_timeout = 0
        cluster, _, machines = self.objects()
        action = make_action(age=datetime.timedelta(days=3))
        self.assertIsNone(self.state(action, cluster,
                                     [make_md(self.bay, ready=1)], machines))

    def test_a_done_create_past_its_timeout_is_done(self):
        self.bay.bay_create_timeout = 10
        action = make_action(age=datetime.timedelta(minutes=11))
        self.assertEqual(bay_obj.CREATE_COMPLETE,
                         self.state(action, *self.objects()).status)


class TestObserved(CapiStatusTestCase):

    def test_the_api_address(self):
        cluster, mds, machines = self.objects()
        self.assertEqual('https://203.0.113.10:6443', status.observed(
            cluster, mds, machines).api_address)
        cluster['spec']['controlPlaneEndpoint'] = {'host': 'api.example',
                                                   'port': 443}
        self.assertEqual('https://api.example:443', status.observed(
            cluster, mds, machines).api_address)
        del cluster['spec']['controlPlaneEndpoint']
        self.assertIsNone(status.observed(cluster, mds,
                                          machines).api_address)

    def test_nodes(self):
        state = status.observed(*self.objects())
        self.assertIsNone(state.status)
        self.assertEqual([
            {'server_id': 'srv-cp', 'name': 'cp-1', 'type': 'master',
             'image_id': None, 'nodegroup': 'default-master',
             'addresses': ['10.0.0.2', '203.0.113.2']},
            {'server_id': 'srv-w1', 'name': 'w-1', 'type': 'node',
             'image_id': None, 'nodegroup': 'default-worker',
             'addresses': ['10.0.0.3']},
            {'server_id': 'srv-w2', 'name': 'w-2', 'type': 'node',
             'image_id': None, 'nodegroup': 'default-worker',
             'addresses': ['10.0.0.4', '203.0.113.4']}], state.nodes)

    def test_a_nodegroup_is_the_machine_deployments_annotation(self):
        cluster = make_cluster(self.bay, workers=(('gpu-pool', 1),))
        md = make_md(self.bay, 'gpu-pool', nodegroup='GPU Pool', replicas=1)
        machine = make_machine(self.bay, 'm1',
                               deployment=md['metadata']['name'],
                               server='s1')
        state = status.observed(cluster, [md], [machine])
        self.assertEqual('GPU Pool', state.nodes[0]['nodegroup'])
        self.assertEqual({'GPU Pool': 1}, state.nodegroup_counts)
        self.assertEqual({'GPU Pool': ['10.0.0.5']},
                         state.nodegroup_addresses)

    def test_a_machine_without_provider_id_or_node(self):
        cluster, mds, _ = self.objects()
        machine = make_machine(self.bay, 'c-w-9',
                               deployment=mds[0]['metadata']['name'])
        node = status.observed(cluster, mds, [machine]).nodes[0]
        self.assertEqual(('c-w-9', 'c-w-9'), (node['server_id'],
                                              node['name']))

    def test_addresses_external_preferred(self):
        state = status.observed(*self.objects())
        self.assertEqual(['203.0.113.2'], state.master_addresses)
        self.assertEqual(['10.0.0.3', '203.0.113.4'], state.node_addresses)
        self.assertEqual({'default-master': ['203.0.113.2'],
                          'default-worker': ['10.0.0.3', '203.0.113.4']},
                         state.nodegroup_addresses)

    def test_machines_being_deleted_are_left_out(self):
        cluster, mds, machines = self.objects()
        machines[2]['metadata']['deletionTimestamp'] = 'now'
        state = status.observed(cluster, mds, machines)
        self.assertEqual(['srv-cp', 'srv-w1'],
                         [n['server_id'] for n in state.nodes])

    def test_node_counts_from_the_machine_deployments(self):
        cluster, _, machines = self.objects(
            workers=(('default-worker', None), ('gpu', 2)))
        mds = [make_md(self.bay, replicas=7),
               make_md(self.bay, 'gpu', replicas=2)]
        self.assertEqual({'default-worker': 7, 'gpu': 2}, status.observed(
            cluster, mds, machines).nodegroup_counts)

    def test_healthy(self):
        state = status.observed(*self.objects())
        self.assertEqual('HEALTHY', state.health_status)
        self.assertEqual({'api': 'ok', 'cp-1.Ready': 'True',
                          'w-1.Ready': 'True', 'w-2.Ready': 'True'},
                         state.health_status_reason)

    def test_a_node_not_healthy(self):
        cluster, mds, machines = self.objects()
        machines[1]['status']['conditions'] = [
            cond('NodeHealthy', False, reason='NodeConditionsFailed',
                 message='kubelet stopped posting node status')]
        state = status.observed(cluster, mds, machines)
        self.assertEqual('UNHEALTHY', state.health_status)
        self.assertEqual('False', state.health_status_reason['w-1.Ready'])

    def test_the_control_plane_not_available(self):
        conditions = ready_conditions()
        conditions[1] = cond('ControlPlaneAvailable', False,
                             reason='NotAvailable',
                             message='etcd has no quorum')
        cluster, mds, machines = self.objects(conditions=conditions)
        state = status.observed(cluster, mds, machines)
        self.assertEqual('UNHEALTHY', state.health_status)
        self.assertEqual('etcd has no quorum',
                         state.health_status_reason['api'])

    def test_unknown(self):
        cluster, mds, machines = self.objects()
        machines[1]['status']['conditions'] = []
        state = status.observed(cluster, mds, machines)
        self.assertEqual('UNKNOWN', state.health_status)
        self.assertEqual('Unknown', state.health_status_reason['w-1.Ready'])
        conditions = [c for c in ready_conditions()
                      if c['type'] != 'ControlPlaneAvailable']
        cluster, mds, machines = self.objects(conditions=conditions)
        state = status.observed(cluster, mds, machines)
        self.assertEqual('UNKNOWN', state.health_status)
        self.assertEqual('Unknown', state.health_status_reason['api'])

    def test_a_state_without_status(self):
        changes = status.observed(*self.objects()).changes()
        for name in ('status', 'status_reason', 'redo', 'stack_id'):
            self.assertNotIn(name, changes)


class TestConditions(base.TestCase):

    def test_condition_and_is_true(self):
        obj = {'status': {'conditions': [
            cond('Available', generation=2), cond('Paused', False)]}}
        self.assertEqual('Available', status.condition(obj,
                                                       'Available')['type'])
        self.assertIsNone(status.condition(obj, 'Nope'))
        self.assertIsNone(status.condition(None, 'Available'))
        self.assertIsNone(status.condition({'status': None}, 'Available'))
        self.assertTrue(status.is_true(obj, 'Available'))
        self.assertTrue(status.is_true(obj, 'Available', 2))
        self.assertFalse(status.is_true(obj, 'Available', 3))
        self.assertFalse(status.is_true(obj, 'Paused'))
        self.assertFalse(status.is_true(obj, 'Nope'))
