"""The Cluster API test tooling (magnum/tests/functional/capi), checked for
real.

What is real: the session's kube-apiserver 1.20 with tokens and RBAC
(conftest.py's ``kube``) and its kube-controller-manager; the CRDs of
capi/crds.yaml installed in it; the stand-in (capi/standin.py) as a process
of its own, on the admin kubeconfig. What is not: Cluster API itself (the
stand-in plays its controllers) and Magnum (not involved: the tests write
the Clusters themselves, the way Magnum's capi provisioner does, and read
what the stand-in made with the admin's own client).

The stand-in is the session's (conftest.py's ``capi``: a Machine runs
0.3 s after it is made, a deleted one is released 0.5 s after its deletion
began); the tests read its delays from it.
"""

import re
import time
import uuid

import kubernetes.client
from kubernetes.client import exceptions as kube_exc
from kubernetes import watch
import pytest

from magnum.tests.functional.capi import management
from magnum.tests.functional.capi import standin as s

pytestmark = [pytest.mark.kubernetes]

TIMEOUT = 15
OLD, NEW = 'v1.30.1', 'v1.31.0'
BAY_LABEL = 'magnum.openstack.org/bay'
NODEGROUP_ANNOTATION = 'magnum.openstack.org/nodegroup'
MAX_SIZE_ANNOTATION = (
    'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size')
RUNNING_TYPES = [kind for kind, _ in s.RUNNING_CONDITIONS]
CLUSTER_CLASSES = 'clusterclasses'
# The garbage collector of kube-controller-manager learns of new resources
# (the CRDs) by discovery, every 30 s.
GC_TIMEOUT = 90


# -- fixtures ----------------------------------------------------------------

@pytest.fixture(scope='module')
def custom(kube):
    with kube.client() as client:
        yield kubernetes.client.CustomObjectsApi(client)


@pytest.fixture(scope='module')
def core(kube):
    with kube.client() as client:
        yield kubernetes.client.CoreV1Api(client)


@pytest.fixture(scope='module')
def namespace(core, capi):
    name = 'capi-standin-%s' % uuid.uuid4().hex[:8]
    core.create_namespace({'metadata': {'name': name}})
    return name


# -- objects -----------------------------------------------------------------

def worker(name, replicas=1, flavor=None, labels=None, annotations=None):
    """A topology.workers.machineDeployments entry."""
    entry = {'class': 'default-worker', 'name': name,
             'metadata': {'labels': labels or {},
                          'annotations': annotations or {}}}
    if replicas is not None:
        entry['replicas'] = replicas
    if flavor:
        entry['variables'] = {'overrides': [
            {'name': 'workerFlavor', 'value': flavor}]}
    return entry


def cluster_body(name, workers=(), control_plane=1, version=OLD,
                 cp_flavor='m1.medium', bay='bay-uuid'):
    """A Cluster shaped like the ones Magnum's capi provisioner makes."""
    body = {
        'apiVersion': s.API_VERSION, 'kind': 'Cluster',
        'metadata': {'name': name, 'labels': {BAY_LABEL: bay}},
        'spec': {
            'clusterNetwork': {
                'apiServerPort': 6444,
                'services': {'cidrBlocks': ['10.254.0.0/16']},
                'pods': {'cidrBlocks': ['10.100.0.0/16']}},
            'topology': {
                'classRef': {'name': 'magnum-v1',
                             'namespace': 'magnum-system'},
                'version': version,
                'controlPlane': {'replicas': control_plane,
                                 'metadata': {'labels': {BAY_LABEL: bay}},
                                 'healthCheck': {'enabled': False}},
                'variables': [
                    {'name': 'workerFlavor', 'value': 'm1.small'},
                    {'name': 'controlPlaneFlavor', 'value': cp_flavor},
                    {'name': 'sshKeyName', 'value': ''},
                    {'name': 'bootVolume',
                     'value': {'type': '', 'size': 0}}]}}}
    if workers:
        # NOTE: an empty list is refused (minItems 1), as by Cluster API.
        body['spec']['topology']['workers'] = {
            'machineDeployments': list(workers)}
    return body


def create(custom, namespace, plural, body, dry_run=None, group=s.GROUP,
           version=s.VERSION):
    return custom.create_namespaced_custom_object(
        group, version, namespace, plural, body, dry_run=dry_run)


def get(custom, namespace, plural, name):
    try:
        return custom.get_namespaced_custom_object(
            s.GROUP, s.VERSION, namespace, plural, name)
    except kube_exc.ApiException as e:
        if e.status == 404:
            return None
        raise


def patch(custom, namespace, plural, name, body):
    return custom.patch_namespaced_custom_object(
        s.GROUP, s.VERSION, namespace, plural, name, body)


def of_cluster(custom, namespace, plural, cluster):
    return sorted(custom.list_namespaced_custom_object(
        s.GROUP, s.VERSION, namespace, plural,
        label_selector='%s=%s' % (s.CLUSTER_NAME_LABEL, cluster))['items'],
        key=lambda o: o['metadata']['name'])


def condition(obj, kind):
    for item in (obj.get('status') or {}).get('conditions') or ():
        if item['type'] == kind:
            return item
    return None


def names(objects):
    return {o['metadata']['name'] for o in objects}


def active(objects):
    return [o for o in objects if not o['metadata'].get('deletionTimestamp')]


def wait_until(custom, namespace, name, predicate, what):
    """The Cluster once ``predicate(cluster)`` holds."""
    return management.wait_for(
        lambda: (lambda c: c if c and predicate(c) else None)(
            get(custom, namespace, s.CLUSTERS, name)),
        TIMEOUT, '%s/%s %s' % (namespace, name, what))


def settled(cluster):
    """Available and done with its current generation."""
    generation = cluster['metadata']['generation']
    reconciled = condition(cluster, 'TopologyReconciled') or {}
    return ((cluster.get('status') or {}).get('observedGeneration')
            == generation
            and (condition(cluster, 'Available') or {}).get('status')
            == 'True'
            and reconciled.get('status') == 'True'
            and reconciled.get('observedGeneration') == generation)


def wait_settled(custom, namespace, name):
    return wait_until(custom, namespace, name, settled, 'available')


def assert_events(capi, select, expected):
    """The stand-in's events (``capi.read_events()``), each through
    ``select`` (None leaves it out), come to ``expected`` within TIMEOUT.

    NOTE: the stand-in appends an event just after the status write it
    follows: a test that saw the status may read the file a moment before
    the line is there (seen once in a whole-suite run).
    """
    def seen():
        return [v for v in map(select, capi.read_events()) if v is not None]
    try:
        management.wait_for(lambda: seen() == expected, TIMEOUT,
                            'the events')
    except AssertionError:
        pass
    assert seen() == expected


def wait_gone(custom, namespace, plural, name):
    management.wait_for(
        lambda: get(custom, namespace, plural, name) is None, TIMEOUT,
        '%s %s/%s gone' % (plural, namespace, name))


def set_workers(custom, namespace, name, workers):
    """The topology's MachineDeployment entries (a JSON merge patch
    replaces a list whole); none: no ``workers`` at all."""
    return patch(custom, namespace, s.CLUSTERS, name, {'spec': {'topology': {
        'workers': {'machineDeployments': workers} if workers else None}}})


# -- the schemas -------------------------------------------------------------

def _machine(**spec):
    body = {'apiVersion': s.API_VERSION, 'kind': 'Machine',
            'metadata': {'name': 'm'},
            'spec': dict({'clusterName': 'c', 'bootstrap': {},
                          'infrastructureRef': {
                              'apiGroup': s.INFRASTRUCTURE_GROUP,
                              'kind': 'OpenStackMachine', 'name': 'm'}},
                         **spec)}
    return body


def _without(body, *path):
    """``body`` with the key at ``path`` taken out."""
    inner = body
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return body


def _cluster_with(path, value):
    body = cluster_body('bad', workers=[worker('w')])
    inner = body['spec']['topology']
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return body


def _class_body():
    def ref(kind, name, api_version):
        return {'templateRef': {'apiVersion': api_version, 'kind': kind,
                                'name': name}}
    infra = '%s/v1beta1' % s.INFRASTRUCTURE_GROUP
    return {
        'apiVersion': s.API_VERSION, 'kind': 'ClusterClass',
        'metadata': {'name': 'magnum-v1'},
        'spec': {
            'infrastructure': ref('OpenStackClusterTemplate', 'os', infra),
            'controlPlane': dict(
                ref('KubeadmControlPlaneTemplate', 'kcp',
                    'controlplane.cluster.x-k8s.io/v1beta2'),
                machineInfrastructure=ref('OpenStackMachineTemplate', 'cp',
                                          infra)),
            'workers': {'machineDeployments': [{
                'class': 'default-worker',
                'bootstrap': ref('KubeadmConfigTemplate', 'kct',
                                 'bootstrap.cluster.x-k8s.io/v1beta2'),
                'infrastructure': ref('OpenStackMachineTemplate', 'w',
                                      infra)}]},
            'variables': [{'name': 'workerFlavor', 'required': True,
                           'schema': {'openAPIV3Schema': {
                               'type': 'string', 'minLength': 1}}}],
            'patches': [{'name': 'flavor', 'definitions': [{
                'selector': {'apiVersion': infra,
                             'kind': 'OpenStackMachineTemplate',
                             'matchResources': {'machineDeploymentClass': {
                                 'names': ['default-worker']}}},
                'jsonPatches': [{
                    'op': 'replace', 'path': '/spec/template/spec/flavor',
                    'valueFrom': {'variable': 'workerFlavor'}}]}]}]}}


def _template(kind, spec):
    return {'apiVersion': '%s/v1beta1' % s.INFRASTRUCTURE_GROUP,
            'kind': kind, 'metadata': {'name': 't'},
            'spec': {'template': {'spec': spec}}}


INFRA = (s.INFRASTRUCTURE_GROUP, 'v1beta1')
MALFORMED = {
    'replicas as a string': (
        s.CLUSTERS, _cluster_with(('controlPlane', 'replicas'), '3'),
        'spec.topology.controlPlane.replicas in body must be of type '
        'integer'),
    'no version': (
        s.CLUSTERS, _without(cluster_body('bad'), 'spec', 'topology',
                             'version'),
        'spec.topology.version: Required value'),
    'an entry without class': (
        s.CLUSTERS, _cluster_with(('workers', 'machineDeployments'),
                                  [{'name': 'w'}]),
        'spec.topology.workers.machineDeployments.class: Required value'),
    'an empty workers list': (
        s.CLUSTERS, _cluster_with(('workers', 'machineDeployments'), []),
        'spec.topology.workers.machineDeployments in body should have at '
        'least 1 items'),
    'a taint effect': (
        s.CLUSTERS, _cluster_with(('controlPlane', 'taints'), [{
            'key': 'k', 'effect': 'Sometimes', 'propagation': 'Always'}]),
        'spec.topology.controlPlane.taints.effect: Unsupported value: '
        '"Sometimes"'),
    'a variable without a name': (
        s.CLUSTERS, _cluster_with(('variables',), [{'value': 1}]),
        'spec.topology.variables.name: Required value'),
    'an API server port': (
        s.CLUSTERS, dict(cluster_body('bad'), spec=dict(
            cluster_body('bad')['spec'],
            clusterNetwork={'apiServerPort': 70000})),
        'spec.clusterNetwork.apiServerPort in body should be less than or '
        'equal to 65535'),
    'a MachineDeployment without clusterName': (
        s.MACHINE_DEPLOYMENTS, {
            'apiVersion': s.API_VERSION, 'kind': 'MachineDeployment',
            'metadata': {'name': 'md'},
            'spec': {'selector': {}, 'template': {
                'spec': _machine()['spec']}}},
        'spec.clusterName: Required value'),
    'a Machine without infrastructureRef': (
        s.MACHINES, _without(_machine(), 'spec', 'infrastructureRef'),
        'spec.infrastructureRef: Required value'),
    'a Machine version as a number': (
        s.MACHINES, _machine(version=7),
        'spec.version in body must be of type string'),
    'a ClusterClass worker without infrastructure': (
        CLUSTER_CLASSES,
        _without(_class_body(), 'spec', 'workers', 'machineDeployments', 0,
                 'infrastructure'),
        'spec.workers.machineDeployments.infrastructure: Required value'),
    'an OpenStackMachineTemplate without image': (
        ('openstackmachinetemplates',) + INFRA,
        _template('OpenStackMachineTemplate', {'flavor': 'm1.small'}),
        'spec.template.spec.image: Required value'),
    'a KubeadmConfigTemplate without template': (
        ('kubeadmconfigtemplates', 'bootstrap.cluster.x-k8s.io',
         'v1beta2'),
        {'apiVersion': 'bootstrap.cluster.x-k8s.io/v1beta2',
         'kind': 'KubeadmConfigTemplate', 'metadata': {'name': 't'},
         'spec': {}},
        'spec.template: Required value'),
}


def _create_anywhere(custom, namespace, where, body, dry_run='All'):
    plural, group, version = (where if isinstance(where, tuple)
                              else (where, s.GROUP, s.VERSION))
    return create(custom, namespace, plural, body, dry_run=dry_run,
                  group=group, version=version)


@pytest.mark.parametrize('case', sorted(MALFORMED))
def test_the_api_server_refuses_malformed_objects(custom, namespace, case):
    where, body, expected = MALFORMED[case]
    with pytest.raises(kube_exc.ApiException) as raised:
        _create_anywhere(custom, namespace, where, body)
    assert raised.value.status == 422
    assert expected in s.error_text(raised.value)


def test_well_formed_objects_are_kept_whole(custom, namespace):
    """Nothing Magnum sends is pruned: the schemas cover it all."""
    body = cluster_body('whole', workers=[
        dict(worker('w', replicas=2, flavor='m1.large',
                    labels={BAY_LABEL: 'b', 'empty': ''},
                    annotations={NODEGROUP_ANNOTATION: 'default-worker'}),
             failureDomain='az1', healthCheck={'enabled': True,
                                               'checks': {'x': 1}},
             taints=[{'key': 'dedicated', 'value': 'gpu',
                      'effect': 'NoSchedule', 'propagation': 'Always'}]),
        worker('auto', replicas=None, annotations={
            s.MIN_SIZE_ANNOTATION: '1', MAX_SIZE_ANNOTATION: '3'})])
    body['spec']['paused'] = False
    body['spec']['clusterNetwork']['serviceDomain'] = 'cluster.local'
    made = create(custom, namespace, s.CLUSTERS, body, dry_run='All')
    assert made['spec'] == body['spec']
    cluster_class = _class_body()
    made = _create_anywhere(custom, namespace, CLUSTER_CLASSES,
                            cluster_class)
    assert made['spec'] == cluster_class['spec']
    template = _template('OpenStackMachineTemplate', {
        'image': {'filter': {'name': 'ubuntu'}}, 'flavor': 'm1.small',
        'ports': [{'network': {'id': 'n'}}]})
    made = _create_anywhere(custom, namespace,
                            ('openstackmachinetemplates',) + INFRA, template)
    assert made['spec'] == template['spec']


# -- the stand-in ------------------------------------------------------------

def _check_machine(machine, cluster, version, flavor):
    metadata, spec, status = (machine['metadata'], machine['spec'],
                              machine['status'])
    assert metadata['finalizers'] == [s.MACHINE_FINALIZER]
    assert metadata['annotations'] == {s.FLAVOR_ANNOTATION: flavor}
    assert metadata['labels'][s.CLUSTER_NAME_LABEL] == cluster
    assert spec['clusterName'] == cluster and spec['version'] == version
    assert re.match(r'^openstack:///[0-9a-f-]{36}$', spec['providerID'])
    assert [a['type'] for a in status['addresses']] == [
        'InternalIP', 'ExternalIP']
    assert status['addresses'][0]['address'].startswith('10.')
    assert status['addresses'][1]['address'].startswith('172.24.')
    assert status['nodeRef'] == {'name': metadata['name']}
    assert status['phase'] == 'Running'
    assert status['observedGeneration'] == metadata['generation']
    assert [(c['type'], c['status']) for c in status['conditions']] == [
        (kind, 'True') for kind in RUNNING_TYPES]


def _owner(obj):
    (owner,) = obj['metadata']['ownerReferences']
    return owner['kind'], owner['name'], owner['controller']


def test_a_cluster_becomes_available(custom, namespace, capi):
    workers = [
        worker('w1', replicas=2, labels={BAY_LABEL: 'bay-uuid'},
               annotations={NODEGROUP_ANNOTATION: 'default-worker'}),
        worker('auto', replicas=None, flavor='m1.large', annotations={
            s.MIN_SIZE_ANNOTATION: '2', MAX_SIZE_ANNOTATION: '5'})]
    create(custom, namespace, s.CLUSTERS, cluster_body('ready', workers))
    cluster = wait_settled(custom, namespace, 'ready')

    assert cluster['metadata']['finalizers'] == [s.CLUSTER_FINALIZER]
    endpoint = cluster['spec']['controlPlaneEndpoint']
    assert endpoint['port'] == 6444
    assert re.match(r'^10\.\d+\.\d+\.\d+$', endpoint['host'])
    status = cluster['status']
    assert status['phase'] == 'Provisioned'
    assert status['observedGeneration'] == cluster['metadata']['generation']
    assert status['initialization'] == {'infrastructureProvisioned': True,
                                        'controlPlaneInitialized': True}
    assert status['controlPlane'] == dict.fromkeys([
        'desiredReplicas', 'replicas', 'readyReplicas', 'availableReplicas',
        'upToDateReplicas'], 1)
    assert status['workers'] == dict.fromkeys(status['workers'], 4)
    assert [(c['type'], c['status'], c['reason']) for c in
            status['conditions']] == [
        ('InfrastructureReady', 'True', 'Ready'),
        ('ControlPlaneInitialized', 'True', 'Initialized'),
        ('ControlPlaneAvailable', 'True', 'Available'),
        ('WorkersAvailable', 'True', 'Available'),
        ('TopologyReconciled', 'True', 'ReconcileSucceeded'),
        ('Deleting', 'False', 'NotDeleting'),
        ('Available', 'True', 'Available')]

    mds = {md['metadata']['name']: md
           for md in of_cluster(custom, namespace, s.MACHINE_DEPLOYMENTS,
                                'ready')}
    assert sorted(mds) == ['ready-auto', 'ready-w1']
    w1, auto = mds['ready-w1'], mds['ready-auto']
    assert w1['metadata']['labels'] == {
        s.CLUSTER_NAME_LABEL: 'ready', s.TOPOLOGY_OWNED_LABEL: '',
        s.TOPOLOGY_DEPLOYMENT_LABEL: 'w1', BAY_LABEL: 'bay-uuid'}
    assert w1['metadata']['annotations'] == {
        NODEGROUP_ANNOTATION: 'default-worker'}
    assert auto['metadata']['annotations'] == {
        s.MIN_SIZE_ANNOTATION: '2', MAX_SIZE_ANNOTATION: '5'}
    assert (w1['spec']['replicas'], auto['spec']['replicas']) == (2, 2)
    for md in (w1, auto):
        assert _owner(md) == ('Cluster', 'ready', True)
        assert md['spec']['template']['spec']['version'] == OLD
        md_status = md['status']
        assert md_status['observedGeneration'] == md['metadata'][
            'generation']
        assert [md_status[k] for k in (
            'replicas', 'readyReplicas', 'availableReplicas',
            'upToDateReplicas')] == [2] * 4
        assert condition(md, 'Available')['status'] == 'True'

    machines = of_cluster(custom, namespace, s.MACHINES, 'ready')
    (cp,) = [m for m in machines
             if s.CONTROL_PLANE_LABEL in m['metadata']['labels']]
    assert re.match(r'^ready-control-plane-[a-z0-9]{5}$',
                    cp['metadata']['name'])
    assert cp['metadata']['labels'] == {
        s.CLUSTER_NAME_LABEL: 'ready', s.CONTROL_PLANE_LABEL: '',
        BAY_LABEL: 'bay-uuid'}
    assert _owner(cp) == ('Cluster', 'ready', True)
    _check_machine(cp, 'ready', OLD, 'm1.medium')
    for md_name, flavor in (('ready-w1', 'm1.small'),
                            ('ready-auto', 'm1.large')):
        ours = [m for m in machines if m['metadata']['labels'].get(
            s.DEPLOYMENT_NAME_LABEL) == md_name]
        assert len(ours) == 2
        for machine in ours:
            assert re.match(r'^%s-[a-z0-9]{5}$' % md_name,
                            machine['metadata']['name'])
            assert _owner(machine) == ('MachineDeployment', md_name, True)
            assert machine['metadata']['labels'][
                s.TOPOLOGY_DEPLOYMENT_LABEL] == md_name.split('-', 1)[1]
            _check_machine(machine, 'ready', OLD, flavor)

    assert_events(capi, lambda e: (e['event'], e['generation']) if e[
        'cluster'] == '%s/ready' % namespace else None, [
        ('available', cluster['metadata']['generation'])])


def test_a_cluster_may_have_a_delay_of_its_own(custom, namespace):
    body = cluster_body('slow', [worker('w1'),
                                 worker('lazy', flavor=s.SLOW_FLAVOR)])
    body['metadata']['annotations'] = {s.DELAY_ANNOTATION: '30'}
    create(custom, namespace, s.CLUSTERS, body)
    # The stand-in's first pass (a loaded machine may take seconds):
    # the machines made, the cluster's conditions written.
    cluster = wait_until(custom, namespace, 'slow', lambda c: condition(
        c, 'InfrastructureReady') and len(of_cluster(
            custom, namespace, s.MACHINES, 'slow')) == 3, 'first pass')
    machines = of_cluster(custom, namespace, s.MACHINES, 'slow')
    assert len(machines) == 3
    assert not any(m.get('status') for m in machines)
    assert condition(cluster, 'InfrastructureReady')['status'] == 'False'
    assert cluster['status']['phase'] == 'Provisioning'

    # No delay now, but m1.slow's own.
    patch(custom, namespace, s.CLUSTERS, 'slow', {'metadata': {
        'annotations': {s.DELAY_ANNOTATION: '0'}}})
    cluster = wait_until(custom, namespace, 'slow', lambda c: (
        c['status']['controlPlane']['readyReplicas'] == 1
        and c['status']['workers']['readyReplicas'] == 1), 'fast ones up')
    assert condition(cluster, 'WorkersAvailable')['status'] == 'False'
    (lazy,) = [m for m in of_cluster(custom, namespace, s.MACHINES, 'slow')
               if m['metadata']['labels'].get(s.DEPLOYMENT_NAME_LABEL)
               == 'slow-lazy']
    assert lazy['metadata']['annotations'] == {
        s.FLAVOR_ANNOTATION: s.SLOW_FLAVOR}
    assert not lazy.get('status')
    custom.delete_namespaced_custom_object(
        s.GROUP, s.VERSION, namespace, s.CLUSTERS, 'slow')
    wait_gone(custom, namespace, s.CLUSTERS, 'slow')


def test_an_autoscaled_machine_deployment_keeps_its_replicas(
        custom, namespace):
    entry = worker('auto', replicas=None, annotations={
        s.MIN_SIZE_ANNOTATION: '1', MAX_SIZE_ANNOTATION: '5'})
    create(custom, namespace, s.CLUSTERS, cluster_body('scaler', [entry]))
    wait_settled(custom, namespace, 'scaler')
    # The autoscaler scales the MachineDeployment through its scale
    # subresource; the topology has no replicas to put back.
    custom.patch_namespaced_custom_object_scale(
        s.GROUP, s.VERSION, namespace, s.MACHINE_DEPLOYMENTS, 'scaler-auto',
        {'spec': {'replicas': 3}})
    management.wait_for(lambda: get(
        custom, namespace, s.MACHINE_DEPLOYMENTS, 'scaler-auto')['status'][
        'readyReplicas'] == 3, TIMEOUT, 'three ready replicas')
    scale = custom.get_namespaced_custom_object_scale(
        s.GROUP, s.VERSION, namespace, s.MACHINE_DEPLOYMENTS, 'scaler-auto')
    assert (scale['spec']['replicas'], scale['status']['replicas']) == (3, 3)
    assert scale['status']['selector'] == (
        '%s=scaler,%s=auto' % (s.CLUSTER_NAME_LABEL,
                               s.TOPOLOGY_DEPLOYMENT_LABEL))

    # New sizes: the annotations follow, the replicas stay the
    # autoscaler's; then fixed replicas win.
    entry['metadata']['annotations'][MAX_SIZE_ANNOTATION] = '4'
    set_workers(custom, namespace, 'scaler', [entry])
    wait_settled(custom, namespace, 'scaler')
    md = get(custom, namespace, s.MACHINE_DEPLOYMENTS, 'scaler-auto')
    assert md['metadata']['annotations'][MAX_SIZE_ANNOTATION] == '4'
    assert md['spec']['replicas'] == 3
    entry['replicas'] = 1
    del entry['metadata']['annotations']
    set_workers(custom, namespace, 'scaler', [entry])
    wait_settled(custom, namespace, 'scaler')
    md = get(custom, namespace, s.MACHINE_DEPLOYMENTS, 'scaler-auto')
    assert md['spec']['replicas'] == 1
    assert 'annotations' not in md['metadata'] or not md['metadata'][
        'annotations']


def test_a_failing_flavor_says_why(custom, namespace, capi):
    create(custom, namespace, s.CLUSTERS, cluster_body(
        'fails', [worker('w1', flavor=s.FAIL_FLAVOR)]))
    cluster = wait_until(custom, namespace, 'fails', lambda c: (
        condition(c, 'WorkersAvailable') or {}).get('status') == 'False'
        and 'Failed' in condition(c, 'WorkersAvailable')['message'],
        'WorkersAvailable False')
    (machine,) = [m for m in of_cluster(custom, namespace, s.MACHINES,
                                        'fails')
                  if s.CONTROL_PLANE_LABEL not in m['metadata']['labels']]
    name = machine['metadata']['name']
    message = ('Failed to create server %s: No valid host was found. There '
               'are not enough hosts available.' % name)
    assert machine['status']['phase'] == 'Failed'
    infrastructure = condition(machine, 'InfrastructureReady')
    assert (infrastructure['status'], infrastructure['reason'],
            infrastructure['message']) == ('False', 'InstanceCreateFailed',
                                           message)
    for kind in ('Ready', 'Available'):
        assert (condition(machine, kind)['status'],
                condition(machine, kind)['message']) == ('False', message)
    for kind in ('WorkersAvailable', 'Available'):
        assert (condition(cluster, kind)['status'],
                condition(cluster, kind)['message']) == ('False', message)
    assert condition(cluster, 'ControlPlaneAvailable')['status'] == 'True'
    assert cluster['status']['phase'] == 'Provisioning'

    create(custom, namespace, s.CLUSTERS, cluster_body(
        'cp-fails', cp_flavor=s.FAIL_FLAVOR))
    cluster = wait_until(custom, namespace, 'cp-fails', lambda c: 'Failed' in (
        condition(c, 'ControlPlaneAvailable') or {}).get('message', ''),
        'ControlPlaneAvailable False')
    (machine,) = of_cluster(custom, namespace, s.MACHINES, 'cp-fails')
    message = s.failed_message(machine['metadata']['name'])
    for kind in ('ControlPlaneAvailable', 'Available'):
        assert condition(cluster, kind)['message'] == message
    assert_events(capi, lambda e: (e['cluster'], e['event']) if e[
        'event'] == 'failed' and e['cluster'].startswith(
            namespace + '/') else None, [
        ('%s/fails' % namespace, 'failed'),
        ('%s/cp-fails' % namespace, 'failed')])


def test_scaling_down_takes_annotated_machines_then_the_newest(
        custom, namespace):
    create(custom, namespace, s.CLUSTERS, cluster_body(
        'scale', [worker('w1', replicas=2)]))
    wait_settled(custom, namespace, 'scale')
    first = names(of_cluster(custom, namespace, s.MACHINES, 'scale'))
    set_workers(custom, namespace, 'scale', [worker('w1', replicas=3)])
    wait_settled(custom, namespace, 'scale')
    machines = of_cluster(custom, namespace, s.MACHINES, 'scale')
    (newest,) = names(machines) - first
    workers = sorted(first - names(
        m for m in machines
        if s.CONTROL_PLANE_LABEL in m['metadata']['labels']))
    annotated, kept = workers
    patch(custom, namespace, s.MACHINES, annotated, {'metadata': {
        'annotations': {s.DELETE_MACHINE_ANNOTATION: ''}}})

    set_workers(custom, namespace, 'scale', [worker('w1', replicas=1)])
    wait_settled(custom, namespace, 'scale')
    for name in (annotated, newest):
        wait_gone(custom, namespace, s.MACHINES, name)
    workers = [m for m in of_cluster(custom, namespace, s.MACHINES, 'scale')
               if s.CONTROL_PLANE_LABEL not in m['metadata']['labels']]
    assert names(workers) == {kept}
    md = get(custom, namespace, s.MACHINE_DEPLOYMENTS, 'scale-w1')
    assert (md['spec']['replicas'], md['status']['replicas']) == (1, 1)

    # An entry that leaves the topology takes its MachineDeployment and
    # Machines along.
    set_workers(custom, namespace, 'scale', [])
    wait_settled(custom, namespace, 'scale')
    wait_gone(custom, namespace, s.MACHINES, kept)
    assert get(custom, namespace, s.MACHINE_DEPLOYMENTS, 'scale-w1') is None
    cluster = get(custom, namespace, s.CLUSTERS, 'scale')
    assert condition(cluster, 'WorkersAvailable')['reason'] == 'NoWorkers'


def _roll_snapshot(custom, namespace):
    machines = active(of_cluster(custom, namespace, s.MACHINES, 'roll'))
    cp = [m for m in machines
          if s.CONTROL_PLANE_LABEL in m['metadata']['labels']]
    workers = [m for m in machines if m not in cp]
    return cp, workers


def _ready(machines):
    return [m for m in machines if (condition(m, 'Ready') or {}).get(
        'status') == 'True']


def _reasons_since(custom, namespace, name, resource_version):
    """The TopologyReconciled reasons of every write of the Cluster
    ``name`` after ``resource_version``, as the API server's watch replays
    them: none is missed, however slow a poll."""
    reasons = set()
    for event in watch.Watch().stream(
            custom.list_namespaced_custom_object, s.GROUP, s.VERSION,
            namespace, s.CLUSTERS, field_selector='metadata.name=%s' % name,
            resource_version=resource_version, timeout_seconds=1):
        found = condition(event['object'], 'TopologyReconciled')
        if found is not None:
            reasons.add(found['reason'])
    return reasons


def test_a_version_change_rolls_every_machine(custom, namespace, capi):
    create(custom, namespace, s.CLUSTERS, cluster_body(
        'roll', [worker('w1', replicas=2)]))
    wait_settled(custom, namespace, 'roll')
    before = names(of_cluster(custom, namespace, s.MACHINES, 'roll'))
    patched = patch(custom, namespace, s.CLUSTERS, 'roll',
                    {'spec': {'topology': {'version': NEW}}})

    # NOTE: a poll sees the Cluster now and then (in one CI run, on a
    # loaded machine, never while it was upgrading); the watch replays
    # every write since the patch.
    reasons = set()
    deadline = time.monotonic() + TIMEOUT
    while True:
        cluster = get(custom, namespace, s.CLUSTERS, 'roll')
        cp, workers = _roll_snapshot(custom, namespace)
        reasons.add(condition(cluster, 'TopologyReconciled')['reason'])
        # The control plane first; one Machine more at most, never one
        # ready Machine less.
        if any(m['spec']['version'] == NEW for m in workers):
            assert all(m['spec']['version'] == NEW for m in cp)
        assert len(cp) <= 2 and len(workers) <= 3
        assert len(_ready(cp)) >= 1 and len(_ready(workers)) >= 2
        if settled(cluster) and all(
                m['spec']['version'] == NEW for m in cp + workers):
            break
        assert time.monotonic() < deadline, 'the roll did not end'
        time.sleep(0.02)
    reasons |= _reasons_since(custom, namespace, 'roll',
                              patched['metadata']['resourceVersion'])
    assert 'ClusterUpgrading' in reasons, reasons
    after = management.wait_for(lambda: (lambda machines: len(
        machines) == 3 and machines)(of_cluster(
            custom, namespace, s.MACHINES, 'roll')), TIMEOUT,
        'the old Machines gone')
    assert not names(after) & before
    assert cluster['status']['controlPlane']['upToDateReplicas'] == 1
    assert cluster['status']['workers']['upToDateReplicas'] == 2
    md = get(custom, namespace, s.MACHINE_DEPLOYMENTS, 'roll-w1')
    assert md['spec']['template']['spec']['version'] == NEW

    # Another class: accepted, nothing rolls.
    patch(custom, namespace, s.CLUSTERS, 'roll', {'spec': {'topology': {
        'classRef': {'name': 'magnum-v2', 'namespace': 'magnum-system'}}}})
    cluster = wait_settled(custom, namespace, 'roll')
    assert names(of_cluster(custom, namespace, s.MACHINES, 'roll')) == names(
        after)
    # One event a generation done: made, upgraded, another class.
    assert_events(capi, lambda e: e['generation'] if e[
        'cluster'] == '%s/roll' % namespace else None, [2, 3, 4])


def test_a_stuck_machine_blocks_deletion_until_released(
        custom, namespace, capi):
    create(custom, namespace, s.CLUSTERS, cluster_body(
        'stuck', [worker('w1', flavor=s.STUCK_FLAVOR)]))
    wait_settled(custom, namespace, 'stuck')
    (machine,) = [m for m in of_cluster(custom, namespace, s.MACHINES,
                                        'stuck')
                  if s.CONTROL_PLANE_LABEL not in m['metadata']['labels']]
    name = machine['metadata']['name']
    custom.delete_namespaced_custom_object(
        s.GROUP, s.VERSION, namespace, s.CLUSTERS, 'stuck')
    message = ('Machine %s: waiting for the drain of node %s to finish '
               '(finalizer machine.cluster.x-k8s.io)' % (name, name))
    assert message == s.stuck_message(name)
    wait_until(custom, namespace, 'stuck', lambda c: (
        condition(c, 'Deleting') or {}).get('message') == message,
        'Deleting names the stuck Machine')
    time.sleep(3 * capi.delete_delay)
    cluster = get(custom, namespace, s.CLUSTERS, 'stuck')
    deleting = condition(cluster, 'Deleting')
    assert (deleting['reason'], deleting['message']) == (
        'WaitingForWorkersDeletion', message)
    machine = get(custom, namespace, s.MACHINES, name)
    assert machine['metadata']['finalizers'] == [s.MACHINE_FINALIZER]
    assert machine['status']['phase'] == 'Deleting'
    assert condition(machine, 'Deleting')['reason'] == 'DrainingNode'

    patch(custom, namespace, s.MACHINES, name,
          {'metadata': {'finalizers': None}})
    wait_gone(custom, namespace, s.CLUSTERS, 'stuck')


def _cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # utime and stime, fields 14 and 15 of proc(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / 100.0


def test_the_standin_idles_quietly(capi):
    before = _cpu_seconds(capi.pid)
    time.sleep(2)
    assert _cpu_seconds(capi.pid) - before < 0.1


def test_deletion_waits_for_the_machines(custom, core, namespace, capi):
    create(custom, namespace, s.CLUSTERS, cluster_body(
        'gone', [worker('w1', replicas=1)]))
    cluster = wait_settled(custom, namespace, 'gone')
    # A Secret the Cluster owns, as Magnum's are: the garbage collector's.
    core.create_namespaced_secret(namespace, {
        'metadata': {'name': 'gone-ca', 'ownerReferences': [{
            'apiVersion': s.API_VERSION, 'kind': 'Cluster', 'name': 'gone',
            'uid': cluster['metadata']['uid']}]},
        'stringData': {'tls.crt': 'x'}})
    machines = of_cluster(custom, namespace, s.MACHINES, 'gone')
    (cp,) = [m['metadata']['name'] for m in machines
             if s.CONTROL_PLANE_LABEL in m['metadata']['labels']]
    (node,) = names(machines) - {cp}
    started = time.monotonic()
    custom.delete_namespaced_custom_object(
        s.GROUP, s.VERSION, namespace, s.CLUSTERS, 'gone')

    cluster = wait_until(custom, namespace, 'gone', lambda c: (
        condition(c, 'Deleting') or {}).get('status') == 'True',
        'Deleting')
    assert cluster['status']['phase'] == 'Deleting'
    deleting = condition(cluster, 'Deleting')
    assert deleting['reason'] == 'WaitingForWorkersDeletion'
    assert deleting['message'] == s.WAITING_MESSAGE.format(machines=node)
    assert condition(cluster, 'Available')['status'] == 'False'
    cluster = wait_until(custom, namespace, 'gone', lambda c: condition(
        c, 'Deleting')['reason'] == 'WaitingForControlPlaneDeletion',
        'waiting for the control plane')
    assert condition(cluster, 'Deleting')['message'] == (
        s.WAITING_MESSAGE.format(machines=cp))
    assert get(custom, namespace, s.MACHINES, node) is None
    wait_gone(custom, namespace, s.CLUSTERS, 'gone')
    # Workers, then the control plane, each released after its delay.
    assert time.monotonic() - started >= 2 * capi.delete_delay
    management.wait_for(
        lambda: not core.list_namespaced_secret(
            namespace, field_selector='metadata.name=gone-ca').items,
        GC_TIMEOUT, 'the Cluster\'s Secret collected')
    assert ('%s/gone' % namespace, 'deleted') in [
        (e['cluster'], e['event']) for e in capi.read_events()]
