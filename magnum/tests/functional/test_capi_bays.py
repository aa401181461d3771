"""Cluster API bays, end to end, through the real clients.

What is real: magnum-api and two magnum-conductors (PostgreSQL, RabbitMQ)
behind the session's Keystone, python-magnumclient 5.0.0's ``openstack
coe``, the management cluster's kube-apiserver and its garbage collector
(the session's ``kube``, with the CRDs of capi/crds.yaml). What is not:
the Cluster API controllers, which capi/standin.py plays through that same
API (machines ready after 0.3 s; flavor ``m1.fail`` fails, ``m1.stuck``
never lets its Machine go, ``m1.slow`` takes longer).

Each test checks Magnum's answer against the management cluster's objects,
read with the official Kubernetes client as the admin.
"""

import base64
import glob
import os
import tempfile

from cryptography import x509 as cx509
import kubernetes.client
import pytest
import yaml

from magnum.conductor import hash_ring
from magnum.tests.functional import db_servers
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes
from magnum.tests.functional.capi import management
from magnum.tests.functional.capi import standin as standin_mod

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.kubernetes, pytest.mark.cli]

GROUP, VERSION = 'cluster.x-k8s.io', 'v1beta2'
SETTLE = 60
DELETE_TIMEOUT = 8
API_VERSION = {'OpenStack-API-Version': 'container-infra latest'}


@pytest.fixture(scope='module')
def magnum(keystone, kube, capi):
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(keystone_mod.MagnumServices(
                keystone, database.url, conductors=2,
                extra=management.magnum_config(
                    keystone, kube, DELETE_TIMEOUT))) as services:
            keystone.register_magnum(services.endpoint)
            yield services


@pytest.fixture(scope='module')
def person(keystone, magnum):
    member = keystone_mod.Person(keystone, magnum, 'capi', ['member'])
    member.api.session.headers.update(API_VERSION)
    yield member
    member.close()


@pytest.fixture(scope='module')
def osc(person):
    return person.keystone_osc(magnumclient.osc_venv('5.0.0'))


@pytest.fixture(scope='module')
def k8s(kube):
    return kubernetes.client.CustomObjectsApi(kube.client())


@pytest.fixture(scope='module')
def core(kube):
    return kubernetes.client.CoreV1Api(kube.client())


def _template(api, flavor='m1.small', **labels):
    labels = dict({'provisioner': 'capi', 'kube_tag': 'v1.33.4'}, **labels)
    response = api.post('/v1/clustertemplates', json={
        'name': processes.unique_name('capi-ct'), 'coe': 'kubernetes',
        'image_id': 'ubuntu-2404-kube', 'flavor_id': flavor,
        'master_flavor_id': 'm1.medium', 'external_network_id': 'public',
        'labels': labels})
    assert response.status_code == 201, response.text
    return response.json()


def _create(api, template, node_count=1, **extra):
    response = api.post('/v1/clusters', json=dict({
        'name': processes.unique_name('capi'), 'master_count': 1,
        'node_count': node_count, 'cluster_template_id': template['uuid']},
        **extra))
    assert response.status_code == 202, response.text
    return response.json()['uuid']


def _wait(api, magnum, uuid, statuses, timeout=SETTLE):
    return processes.wait_for_bay(api.api if hasattr(api, 'api') else api,
                                  magnum, uuid, statuses, timeout=timeout)


def _cluster(k8s, bay):
    namespace, name = bay['stack_id'].split('/')
    return k8s.get_namespaced_custom_object(GROUP, VERSION, namespace,
                                            'clusters', name)


def _children(k8s, bay, plural):
    namespace, name = bay['stack_id'].split('/')
    return k8s.list_namespaced_custom_object(
        GROUP, VERSION, namespace, plural,
        label_selector='cluster.x-k8s.io/cluster-name=%s' % name)['items']


def _gone(k8s, bay):
    try:
        _cluster(k8s, bay)
    except kubernetes.client.ApiException as e:
        return e.status == 404
    return False


def test_cli_create_config_ca_and_credentials(
        person, osc, magnum, k8s, core, keystone):
    """``openstack coe cluster create`` reaches CREATE_COMPLETE; the
    Cluster's topology, Secrets and cloud credentials are what the bay
    says; ``cluster config`` trusts the CA in ``<cluster>-ca``; a CA
    rotation and a credential rotation reach the management cluster."""
    template = _template(person.api)
    name = processes.unique_name('capi-cli')
    osc.ok('cluster', 'create', '--cluster-template', template['uuid'],
           '--master-count', '1', '--node-count', '2', name)
    bay = _wait(person.api, magnum, name, ('CREATE_COMPLETE',
                                           'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', bay['status_reason']
    cluster = _cluster(k8s, bay)
    topology = cluster['spec']['topology']
    assert topology['version'] == 'v1.33.4'
    assert topology['controlPlane']['replicas'] == 1
    [workers] = topology['workers']['machineDeployments']
    assert workers['replicas'] == 2
    assert bay['api_address'].startswith('https://')
    assert len(bay['node_addresses']) == 2
    assert len(bay['master_addresses']) == 1
    shown = person.api.get('/v1/clusters/%s' % bay['uuid']).json()
    assert shown['health_status'] == 'HEALTHY', shown

    namespace, cluster_name = bay['stack_id'].split('/')
    secrets = {s.metadata.name: s for s in core.list_namespaced_secret(
        namespace, label_selector='magnum.openstack.org/bay=%s'
        % bay['uuid']).items}
    for suffix in ('ca', 'etcd', 'proxy', 'sa'):
        secret = secrets['%s-%s' % (cluster_name, suffix)]
        assert secret.type == 'cluster.x-k8s.io/secret'
        assert [o.uid for o in secret.metadata.owner_references] == [
            cluster['metadata']['uid']]
    credentials = secrets['%s-cloud-config' % cluster_name]
    clouds = yaml.safe_load(base64.b64decode(
        credentials.data['clouds.yaml']))['clouds']['openstack']
    credential_id = clouds['auth']['application_credential_id']
    listed = keystone.admin_session.get(
        '/users/%s/application_credentials' % person.user_id,
        endpoint_filter={'service_type': 'identity'}).json()
    assert credential_id in [c['id'] for c in listed[
        'application_credentials']]
    # The credential's secret is never in what Magnum answers.
    secret_text = clouds['auth']['application_credential_secret']
    assert secret_text not in person.api.get(
        '/v1/clusters/%s' % bay['uuid']).text
    # Nor in any log of Magnum's processes.
    for log in glob.glob(os.path.join(magnum.work_dir, '*.log')):
        with open(log, errors='replace') as f:
            assert secret_text not in f.read(), log

    ca_pem = base64.b64decode(secrets['%s-ca' % cluster_name].data[
        'tls.crt']).decode()
    with tempfile.TemporaryDirectory() as directory:
        osc.ok('cluster', 'config', '--dir', directory, name)
        with open(os.path.join(directory, 'config')) as f:
            config = yaml.safe_load(f)
    authority = config['clusters'][0]['cluster']
    shown_ca = authority.get('certificate-authority-data')
    if shown_ca:
        shown_ca = base64.b64decode(shown_ca).decode()
    else:
        with open(authority['certificate-authority']) as f:
            shown_ca = f.read()
    assert cx509.load_pem_x509_certificate(shown_ca.encode()) == \
        cx509.load_pem_x509_certificate(ca_pem.encode())

    osc.ok('ca', 'rotate', name)
    management.wait_for(
        lambda: base64.b64decode(core.read_namespaced_secret(
            '%s-ca' % cluster_name, namespace).data['tls.crt']).decode()
        != ca_pem, 30, 'the new CA in %s-ca' % cluster_name)
    new_ca = base64.b64decode(core.read_namespaced_secret(
        '%s-ca' % cluster_name, namespace).data['tls.crt'])
    shown = person.api.get('/v1/certificates/%s' % bay['uuid']).json()
    assert cx509.load_pem_x509_certificate(shown['pem'].encode()) == \
        cx509.load_pem_x509_certificate(new_ca)

    osc.ok('credential', 'rotate', name)
    bay = _wait(person.api, magnum, name, ('UPDATE_COMPLETE',
                                           'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    rotated = yaml.safe_load(base64.b64decode(core.read_namespaced_secret(
        '%s-cloud-config' % cluster_name, namespace).data['clouds.yaml']))
    new_id = rotated['clouds']['openstack']['auth'][
        'application_credential_id']
    assert new_id != credential_id
    listed = [c['id'] for c in keystone.admin_session.get(
        '/users/%s/application_credentials' % person.user_id,
        endpoint_filter={'service_type': 'identity'}).json()[
            'application_credentials']]
    # The replaced credential stays until the next rotation (machines
    # that booted with it go on with it until they are rolled).
    assert new_id in listed and credential_id in listed
    osc.ok('credential', 'rotate', name)
    bay = _wait(person.api, magnum, name, ('UPDATE_COMPLETE',
                                           'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    third = yaml.safe_load(base64.b64decode(core.read_namespaced_secret(
        '%s-cloud-config' % cluster_name, namespace).data['clouds.yaml']))[
        'clouds']['openstack']['auth']['application_credential_id']
    listed = [c['id'] for c in keystone.admin_session.get(
        '/users/%s/application_credentials' % person.user_id,
        endpoint_filter={'service_type': 'identity'}).json()[
            'application_credentials']]
    assert credential_id not in listed
    assert new_id in listed and third in listed

    assert person.api.delete(
        '/v1/clusters/%s' % bay['uuid']).status_code == 204
    # The delete waits on the Cluster's finalizer (the stand-in lets its
    # machines go after 0.5 s each).
    deleting = management.wait_for(
        lambda: (lambda c: c if c['metadata'].get('deletionTimestamp')
                 else None)(_cluster(k8s, bay)), 10, 'the Cluster deleting')
    assert 'cluster.cluster.x-k8s.io' in deleting['metadata']['finalizers']
    assert person.api.get('/v1/clusters/%s' % bay['uuid']).json()[
        'status'] == 'DELETE_IN_PROGRESS'
    assert _wait(person.api, magnum, bay['uuid'], (None, 'DELETE_FAILED'),
                 timeout=SETTLE) is None
    assert _gone(k8s, bay)
    # The garbage collector takes the Secrets; Magnum's finalizer let the
    # credentials go only after deleting the credential from Keystone.
    management.wait_for(lambda: not core.list_namespaced_secret(
        namespace, label_selector='magnum.openstack.org/bay=%s'
        % bay['uuid']).items, 60, 'the bay\'s Secrets gone')
    listed = [c['id'] for c in keystone.admin_session.get(
        '/users/%s/application_credentials' % person.user_id,
        endpoint_filter={'service_type': 'identity'}).json()[
            'application_credentials']]
    assert new_id not in listed and third not in listed


def test_resize_upgrade_nodegroups_and_autoscaling(person, osc, magnum, k8s):
    """Each change through ``openstack coe`` 5.0.0, as a user makes it;
    the management cluster's objects read back after each."""
    api = person.api
    template = _template(api, auto_scaling_enabled='false')
    uuid = _create(api, template)
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', bay['status_reason']

    # Health follows the Machines' NodeHealthy, outside any action.
    [worker] = [m for m in _children(k8s, bay, 'machines')
                if 'cluster.x-k8s.io/control-plane' not in m['metadata'][
                    'labels']]
    namespace = bay['stack_id'].split('/')[0]
    _set_condition(k8s, namespace, worker, 'NodeHealthy', 'False',
                   'NodeConditionsFailed', 'Node is not ready')
    shown = management.wait_for(
        lambda: (lambda c: c if c['health_status'] == 'UNHEALTHY' else None)(
            api.get('/v1/clusters/%s' % uuid).json()), 15, 'UNHEALTHY')
    node = worker['status']['nodeRef']['name']
    assert shown['health_status_reason']['%s.Ready' % node] == 'False'
    assert shown['status'] == 'CREATE_COMPLETE'
    _set_condition(k8s, namespace, worker, 'NodeHealthy', 'True',
                   'NodeHealthy', 'Node is healthy')
    management.wait_for(
        lambda: api.get('/v1/clusters/%s' % uuid).json()[
            'health_status'] == 'HEALTHY', 15, 'HEALTHY again')

    # Resize 1 -> 3 -> 2, the second removing a named server.
    osc.ok('cluster', 'resize', uuid, '3')
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    [md] = _children(k8s, bay, 'machinedeployments')
    assert md['spec']['replicas'] == 3
    workers = [m for m in _children(k8s, bay, 'machines')
               if 'cluster.x-k8s.io/control-plane' not in m['metadata'][
                   'labels']]
    assert len(workers) == 3
    victim = workers[1]
    server = victim['spec']['providerID'].rsplit('/', 1)[-1]
    osc.ok('cluster', 'resize', '--nodes-to-remove', server, uuid, '2')
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    names = {m['metadata']['name'] for m in _children(k8s, bay, 'machines')}
    assert victim['metadata']['name'] not in names
    assert len(bay['node_addresses']) == 2

    # Upgrade: the new template's version, the class Magnum ships now.
    newer = _template(api, kube_tag='v1.34.1')
    osc.ok('cluster', 'upgrade', uuid, newer['uuid'])
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    assert _cluster(k8s, bay)['spec']['topology']['version'] == 'v1.34.1'
    assert {m['spec']['version'] for m in _children(
        k8s, bay, 'machines')} == {'v1.34.1'}

    # A node group of its own flavor, under the autoscaler.
    osc.ok('nodegroup', 'create', uuid, 'scaled', '--node-count', '2',
           '--flavor', 'm1.large', '--min-nodes', '1', '--max-nodes', '5',
           '--labels', 'auto_scaling_enabled=true',
           '--node-labels', 'example.com/pool=batch',
           '--node-taints', 'batch:NoSchedule')
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    entries = {e['name']: e for e in _cluster(k8s, bay)['spec']['topology'][
        'workers']['machineDeployments']}
    assert 'replicas' not in entries['scaled']
    assert {'name': 'workerFlavor', 'value': 'm1.large'} in entries[
        'scaled']['variables']['overrides']
    # API 1.14's node labels and taints, for the nodes it registers.
    assert {'name': 'nodeLabels', 'value': {'example.com/pool': 'batch'}} in (
        entries['scaled']['variables']['overrides'])
    assert entries['scaled']['taints'] == [
        {'key': 'batch', 'effect': 'NoSchedule', 'propagation': 'Always'}]
    mds = {m['spec']['template']['metadata']['labels'].get(
        'topology.cluster.x-k8s.io/deployment-name') or m['metadata'][
        'labels']['topology.cluster.x-k8s.io/deployment-name']: m
        for m in _children(k8s, bay, 'machinedeployments')}
    annotations = mds['scaled']['metadata']['annotations']
    assert annotations[
        'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size'] == '1'
    assert annotations[
        'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size'] == '5'
    # The autoscaler's choice is what the node group reports.
    k8s.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, 'machinedeployments',
        mds['scaled']['metadata']['name'], {'spec': {'replicas': 3}})
    management.wait_for(
        lambda: api.get('/v1/clusters/%s/nodegroups/scaled' % uuid).json()[
            'node_count'] == 3, 15, 'node_count 3 from the MachineDeployment')
    # A new maximum reaches the annotation (not refused).
    osc.ok('nodegroup', 'update', uuid, 'scaled', '--max-nodes', '7')
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    entries = {e['name']: e for e in _cluster(k8s, bay)['spec']['topology'][
        'workers']['machineDeployments']}
    assert entries['scaled']['metadata']['annotations'][
        'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size'] == '7'
    management.wait_for(
        lambda: [m for m in _children(k8s, bay, 'machinedeployments')
                 if m['metadata']['annotations'].get(
                     'cluster.x-k8s.io/cluster-api-autoscaler-node-group-'
                     'max-size') == '7'], 15, 'max-size 7')

    # Deleting the node group removes its MachineDeployment.
    osc.ok('nodegroup', 'delete', uuid, 'scaled')
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay['status_reason']
    assert [e['name'] for e in _cluster(k8s, bay)['spec']['topology'][
        'workers']['machineDeployments']] == ['default-worker']
    management.wait_for(lambda: len(_children(
        k8s, bay, 'machinedeployments')) == 1, 15, 'one MachineDeployment')

    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    assert _wait(api, magnum, uuid, (None, 'DELETE_FAILED')) is None


def _set_condition(k8s, namespace, machine, kind, status, reason,
                   message):
    """Set a condition of ``machine`` as a controller would."""
    current = k8s.get_namespaced_custom_object(
        GROUP, VERSION, namespace, 'machines', machine['metadata']['name'])
    conditions = [c for c in current['status'].get('conditions', [])
                  if c['type'] != kind]
    conditions.append({'type': kind, 'status': status, 'reason': reason,
                       'message': message,
                       'lastTransitionTime': '2026-12-03T00:00:00Z'})
    k8s.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, 'machines', machine['metadata']['name'],
        {'status': {'conditions': conditions}})


def test_failure_reason_word_for_word(person, magnum):
    api = person.api
    uuid = _create(api, _template(api, flavor='m1.fail'))
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_FAILED'
    # The failing condition's reason and message, word for word.
    assert bay['status_reason'].startswith(
        'InstanceCreateFailed: Failed to create server '), bay[
        'status_reason']
    assert bay['status_reason'].endswith(
        ': No valid host was found. There are not enough hosts '
        'available.'), bay['status_reason']
    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    assert _wait(api, magnum, uuid, (None, 'DELETE_FAILED')) is None


def test_failed_change_asked_with_rollback_is_rolled_back(
        person, magnum, k8s):
    """A node group that fails, asked with ?rollback=True: the action
    ends ROLLED_BACK, the group's row is gone, and so is its
    MachineDeployment from the Cluster."""
    api = person.api
    uuid = _create(api, _template(api))
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', bay['status_reason']
    response = api.post('/v1/clusters/%s/nodegroups?rollback=True' % uuid,
                        json={'name': 'doomed', 'node_count': 1,
                              'flavor_id': 'm1.fail'})
    assert response.status_code == 202, response.text
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_FAILED'
    assert 'No valid host was found' in bay['status_reason']
    assert 'rolled back' in bay['status_reason'], bay['status_reason']
    [action] = [a for a in api.get('/v1/clusters/%s/actions' % uuid).json()[
        'actions'] if a['kind'] == 'nodegroup_create']
    assert action['status'] == 'ROLLED_BACK', action
    assert api.get('/v1/clusters/%s/nodegroups/doomed' % uuid
                   ).status_code == 404
    assert [e['name'] for e in _cluster(k8s, bay)['spec']['topology'][
        'workers']['machineDeployments']] == ['default-worker']
    management.wait_for(lambda: len(_children(
        k8s, bay, 'machinedeployments')) == 1, 15, 'the failed group gone')

    # An upgrade that fails (its machines' version fails in the stand-in),
    # asked with ?rollback=True: the Cluster goes back to its version.
    before = api.get('/v1/bays/%s' % uuid).json()
    failing = _template(api, kube_tag='v1.34.1-fail')
    response = api.post('/v1/clusters/%s/actions/upgrade?rollback=True'
                        % uuid, json={'cluster_template': failing['uuid']})
    assert response.status_code == 202, response.text
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_FAILED'
    assert 'rolled back' in bay['status_reason'], bay['status_reason']
    assert bay['baymodel_id'] == before['baymodel_id']
    assert _cluster(k8s, bay)['spec']['topology']['version'] == 'v1.33.4'
    management.wait_for(
        lambda: {m['spec']['version'] for m in _children(
            k8s, bay, 'machines')} == {'v1.33.4'}, 30,
        'every machine back at v1.33.4')
    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    assert _wait(api, magnum, uuid, (None, 'DELETE_FAILED')) is None


def test_stuck_delete_fails_with_its_reason_then_carries_on(
        person, magnum, k8s):
    api = person.api
    uuid = _create(api, _template(api, flavor='m1.stuck'))
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', bay['status_reason']
    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    bay = _wait(api, magnum, uuid, ('DELETE_FAILED',),
                timeout=DELETE_TIMEOUT + 30)
    [stuck] = [m for m in _children(k8s, bay, 'machines')
               if 'cluster.x-k8s.io/control-plane' not in m['metadata'][
                   'labels']]
    assert standin_mod.stuck_message(stuck['metadata']['name']) in bay[
        'status_reason'], bay['status_reason']
    # The finalizer goes (an operator's hand); deleting again carries on.
    namespace = bay['stack_id'].split('/')[0]
    k8s.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, 'machines', stuck['metadata']['name'],
        {'metadata': {'finalizers': None}})
    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    assert _wait(api, magnum, uuid, (None, 'DELETE_FAILED')) is None
    assert _gone(k8s, bay)


def test_owner_killed_new_owner_watches_and_completes(person, magnum, k8s):
    """kill -9 of the bay's conductor while its machines come up: the
    other conductor takes the bay over and its watch completes it."""
    api = person.api
    uuid = _create(api, _template(api, flavor='m1.slow'))
    bay = management.wait_for(
        lambda: (lambda b: b if b.get('stack_id') else None)(
            api.get('/v1/clusters/%s' % uuid).json()), 20,
        'the Cluster made')
    assert bay['status'] == 'CREATE_IN_PROGRESS'
    # The bay's owner on the hash ring, as the conductors compute it.
    owner = hash_ring.Ring(magnum.conductor_hosts).owner(uuid)
    victim = next(p for p in magnum.conductors if p.name == owner)
    magnum.kill_conductor(victim)
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'),
                timeout=SETTLE + 30)
    assert bay['status'] == 'CREATE_COMPLETE', bay['status_reason']
    magnum.add_conductor()
    assert api.delete('/v1/clusters/%s' % uuid).status_code == 204
    assert _wait(api, magnum, uuid, (None, 'DELETE_FAILED')) is None


def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(person):
    api = person.api
    before = len(api.get('/v1/clusters').json()['clusters'])
    cases = [({'kube_tag': 'latest'}, {}, 'labels'),
             ({'auto_scaling_enabled': 'true'}, {}, 'max_node_count'),
             ({'auto_scaling_enabled': 'true', 'min_node_count': '3',
               'max_node_count': '2'}, {}, 'min_node_count'),
             ({'boot_volume_size': 'big'}, {}, 'labels')]
    for labels, extra, field in cases:
        template = _template(api, **labels)
        response = api.post('/v1/clusters', json=dict({
            'name': processes.unique_name('capi-bad'), 'node_count': 1,
            'cluster_template_id': template['uuid']}, **extra))
        assert response.status_code == 400, (labels, response.text)
        assert field in processes.faultstring(response), response.text
    assert len(api.get('/v1/clusters').json()['clusters']) == before


def test_watch_resumes_and_lists_again_after_the_api_server_restarts(
        kube, k8s, capi):
    """The provisioner's watch against the real API server: an event
    reaches the subscriber; across a restart of kube-apiserver (its watches
    broken), the watch lists again and goes on."""
    from oslo_config import cfg

    from magnum import conf  # noqa: F401 (the options)
    from magnum.drivers.capi import kube as capi_kube
    from magnum.drivers.capi import watch
    cfg.CONF.set_override('kubeconfig', management.admin_kubeconfig(kube),
                          'capi')
    capi_kube.reset()
    seen = []
    watcher = watch.Watcher()
    watcher.subscribe(seen.append)
    namespace = 'capi-watch-%s' % processes.unique_name('w')[-8:]
    kubernetes.client.CoreV1Api(kube.client()).create_namespace(
        {'metadata': {'name': namespace}})
    try:
        management.wait_for(lambda: watcher.synced, 15, 'synced')

        def machine(name, bay):
            return {'apiVersion': '%s/%s' % (GROUP, VERSION),
                    'kind': 'Machine',
                    'metadata': {'name': name, 'labels': {
                        'magnum.openstack.org/bay': bay}},
                    'spec': {'clusterName': 'none', 'bootstrap': {
                        'dataSecretName': 'none'}, 'infrastructureRef': {
                        'apiGroup': 'infrastructure.cluster.x-k8s.io',
                        'kind': 'OpenStackMachine', 'name': 'none'}}}
        k8s.create_namespaced_custom_object(
            GROUP, VERSION, namespace, 'machines', machine('one', 'bay-1'))
        management.wait_for(lambda: 'bay-1' in seen, 10, 'the first event')
        assert watcher.objects_of('bay-1')[2][0]['metadata']['name'] == 'one'
        kube.restart()
        k8s.create_namespaced_custom_object(
            GROUP, VERSION, namespace, 'machines', machine('two', 'bay-2'))
        management.wait_for(lambda: 'bay-2' in seen, 30,
                            'an event after the restart')
        management.wait_for(lambda: watcher.synced, 15, 'synced again')
        k8s.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, 'machines', 'one')
        management.wait_for(lambda: not watcher.objects_of('bay-1')[2], 10,
                            'the deletion seen')
    finally:
        watcher.unsubscribe(seen.append)
        cfg.CONF.clear_override('kubeconfig', 'capi')
        capi_kube.reset()
        kubernetes.client.CoreV1Api(kube.client()).delete_namespace(
            namespace)


def test_swarm_template_refused_naming_coe(person):
    response = person.api.post('/v1/clustertemplates', json={
        'name': processes.unique_name('capi-swarm'), 'coe': 'swarm',
        'image_id': 'img', 'flavor_id': 'm1.small',
        'external_network_id': 'public',
        'labels': {'provisioner': 'capi'}})
    if response.status_code == 201:
        response = person.api.post('/v1/clusters', json={
            'name': processes.unique_name('capi-swarm'),
            'cluster_template_id': response.json()['uuid']})
    assert response.status_code == 400, response.text
    assert 'coe' in processes.faultstring(response), response.text
