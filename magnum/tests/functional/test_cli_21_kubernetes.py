"""The python-magnumclient 2.1.0 CLI's pod-*, rc-* and coe-service-*
behind a real Keystone, on a static bay over a real kube-apiserver.

magnum-api and magnum-conductor (PostgreSQL, RabbitMQ, Keystone auth) as in
test_cli_21_tour.py; the Kubernetes API has tokens and RBAC, Magnum's
credentials are in the conductor's ``[kubernetes] kubeconfig``. The user is
a ``member`` of a fresh project; the manifests are files the CLI reads.
"""

import json

import kubernetes.client
import pytest

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes
from magnum.tests.functional import test_cli_21_tour as tour
from magnum.tests.functional import test_kubernetes_objects as objects

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.cli, pytest.mark.kubernetes]



@pytest.fixture(scope='module')
def client_venv():
    return magnumclient.ClientVenv('2.1.0').ensure()


@pytest.fixture(scope='module')
def magnum(keystone, kube, tmp_path_factory):
    kubeconfig = kube.magnum_kubeconfig(
        str(tmp_path_factory.mktemp('kubecfg') / 'kubeconfig'))
    with keystone_mod.magnum_behind(keystone, extra={
            'kubernetes': {'kubeconfig': kubeconfig}}) as magnum:
        yield magnum


@pytest.fixture(scope='module')
def member(keystone, magnum, client_venv):
    person = tour.person_with_cli(keystone, magnum, client_venv, 'k8s',
                                  ['member'])
    yield person
    person.close()


@pytest.fixture(scope='module')
def bay(member, magnum, kube):
    cli = member.cli
    name = processes.unique_name('k8s21')
    cli.ok('baymodel-create', '--name', name, '--coe', 'kubernetes',
           *magnumclient.TOUR_REQUIRED, '--labels',
           'kube_api_url=%s' % kube.url)
    created = magnumclient.parse_properties(cli.ok(
        'bay-create', '--name', name, '--baymodel', name).stdout)
    shown = processes.wait_for_bay(member.api, magnum, created['uuid'],
                                   ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert shown['status'] == 'CREATE_COMPLETE', shown
    return shown


def _file(tmp_path, resource, name, fmt='yaml'):
    path = tmp_path / ('%s.%s' % (name, fmt))
    path.write_text(objects.manifest(resource, name, fmt))
    return str(path)


def test_pod_tour(member, bay, tmp_path):
    cli = member.cli
    name = processes.unique_name('pod')

    created = magnumclient.parse_properties(cli.ok(
        'pod-create', '--bay', bay['name'],
        '--manifest', _file(tmp_path, 'pod', name)).stdout)
    assert created['name'] == name
    assert created['bay_uuid'] == bay['uuid']
    assert created['status'] == 'Pending'

    rows = magnumclient.parse_table(cli.ok('pod-list', '--bay',
                                           bay['name']).stdout)
    assert {'uuid': created['uuid'], 'name': name} in rows

    shown = magnumclient.parse_properties(cli.ok(
        'pod-show', name, '--bay', bay['name']).stdout)
    assert shown['uuid'] == created['uuid']
    assert 'nginx:1' in shown['images']

    updated = magnumclient.parse_properties(cli.ok(
        'pod-update', name, '--bay', bay['name'], 'add',
        'labels/tier=front').stdout)
    assert 'front' in updated['labels']

    result = cli.ok('pod-delete', name, '--bay', bay['name'])
    assert 'Request to delete pod %s has been accepted' % name in (
        result.stdout), str(result)


def test_rc_tour_scales(member, bay, tmp_path, kube):
    cli = member.cli
    name = processes.unique_name('rc')

    created = magnumclient.parse_properties(cli.ok(
        'rc-create', '--bay', bay['uuid'],
        '--manifest', _file(tmp_path, 'rc', name, 'json')).stdout)
    assert created['name'] == name
    assert created['replicas'] == '1'

    rows = magnumclient.parse_table(cli.ok('rc-list', '--bay',
                                           bay['name']).stdout)
    assert {'uuid': created['uuid'], 'name': name,
            'bay_uuid': bay['uuid']} in rows

    updated = magnumclient.parse_properties(cli.ok(
        'rc-update', name, '--bay', bay['name'], 'replace',
        'replicas=2').stdout)
    assert updated['replicas'] == '2'
    with kube.client() as api:
        rc = kubernetes.client.CoreV1Api(api)\
            .read_namespaced_replication_controller(
                name, 'magnum-%s' % bay['project_id'])
    assert rc.spec.replicas == 2

    shown = magnumclient.parse_properties(cli.ok(
        'rc-show', created['uuid'], '--bay', bay['name']).stdout)
    assert shown['replicas'] == '2'

    result = cli.ok('rc-delete', name, '--bay', bay['name'])
    assert 'Request to delete rc %s has been accepted' % name in (
        result.stdout), str(result)


def test_coe_service_tour(member, bay, tmp_path):
    cli = member.cli
    name = processes.unique_name('svc')

    created = magnumclient.parse_properties(cli.ok(
        'coe-service-create', '--bay', bay['name'],
        '--manifest', _file(tmp_path, 'service', name)).stdout)
    assert created['name'] == name
    assert created['ip'].startswith('10.0.0.')

    rows = magnumclient.parse_table(cli.ok('coe-service-list', '--bay',
                                           bay['name']).stdout)
    assert {'uuid': created['uuid'], 'name': name,
            'bay_uuid': bay['uuid']} in rows

    # replace manifest=FILE: the CLI sends the file's text.
    new = json.loads(objects.manifest('service', name))
    new['spec']['selector'] = {'app': 'other'}
    path = tmp_path / 'new.json'
    path.write_text(json.dumps(new))
    updated = magnumclient.parse_properties(cli.ok(
        'coe-service-update', name, '--bay', bay['name'], 'replace',
        'manifest=%s' % path).stdout)
    assert 'other' in updated['selector']

    shown = magnumclient.parse_properties(cli.ok(
        'coe-service-show', name, '--bay', bay['name']).stdout)
    assert 'other' in shown['selector']

    result = cli.ok('coe-service-delete', name, '--bay', bay['name'])
    assert 'has been accepted' in result.stdout, str(result)
    assert name not in cli.ok('coe-service-list', '--bay',
                              bay['name']).stdout


def test_errors_print_the_faultstring(member, bay, tmp_path):
    cli = member.cli
    # A Service manifest given to pod-create.
    result = cli.run('pod-create', '--bay', bay['name'], '--manifest',
                     _file(tmp_path, 'service', 'wrongkind'))
    assert result.returncode == 1, str(result)
    assert "'Service'" in result.stderr and '(HTTP 400)' in result.stderr
    result = cli.run('pod-show', 'nosuchpod', '--bay', bay['name'])
    assert result.returncode == 1, str(result)
    assert 'nosuchpod' in result.stderr and '(HTTP 404)' in result.stderr
    assert 'Traceback' not in result.output
