"""The cluster era with the real clients: python-magnumclient 3.7.0's
``magnum`` (token mode) and 4.11.0 / 5.0.0 with python-openstackclient
(``openstack coe``, ``--os-auth-type none --os-endpoint``), against
magnum-api + magnum-conductor on PostgreSQL and RabbitMQ.

Both eras share the rows: a bay made with ``magnum bay-create`` is listed
by ``openstack coe cluster list`` and a cluster made with ``openstack coe
cluster create`` by ``magnum bay-list``. Clusters point the static
provisioner at a socket that does not exist, so they fail to create; a
failed cluster can still be resized, upgraded and deleted.
"""

import json
import subprocess

import pytest

from magnum.tests.functional import db_servers
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.cli, pytest.mark.postgresql, pytest.mark.rabbitmq]

SOCKET = magnumclient.TOUR_SOCKET
OSC_RELEASES = ('4.11.0', '5.0.0')


class OSC:
    """``openstack coe ...`` of one client release, no Keystone."""

    def __init__(self, venv, endpoint):
        self.version = venv.version
        self.argv = [venv.path + '/bin/openstack', '--os-auth-type', 'none',
                     '--os-endpoint', endpoint]

    def run(self, *args):
        argv = self.argv + ['coe'] + list(args)
        done = subprocess.run(argv, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True,
                              timeout=magnumclient.RUN_TIMEOUT,
                              env=magnumclient._environment())
        return magnumclient.Result(argv, done.returncode, done.stdout,
                                   done.stderr)

    def ok(self, *args):
        result = self.run(*args)
        assert result.returncode == 0, str(result)
        return result

    def json(self, *args):
        result = self.ok(*(args + ('-f', 'json')))
        # NOTE: some commands print a sentence before the JSON.
        text = result.stdout
        start = min([i for i in (text.find('{'), text.find('[')) if i >= 0],
                    default=0)
        try:
            return json.loads(text[start:])
        except ValueError:
            raise AssertionError('not JSON:\n%s' % result)


@pytest.fixture(scope='module')
def magnum():
    # NOTE: several API workers and threads, so concurrent creates really
    # race in the database (one sync worker would queue them).
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(processes.MagnumServices(
                database.url, extra={'api': {'workers': 3, 'threads': 4}})
        ) as running:
            yield running


@pytest.fixture(scope='module')
def magnum37():
    return magnumclient.ClientVenv('3.7.0').ensure()


@pytest.fixture(scope='module', params=OSC_RELEASES)
def osc(request, magnum):
    venv = magnumclient.ClientVenv(
        request.param, extra=('six', 'python-openstackclient')).ensure()
    return OSC(venv, magnum.endpoint)


def _wait(api, magnum, uuid, statuses):
    return processes.wait_for_bay(api, magnum, uuid, statuses)


def test_magnum_37_cluster_tour(magnum, magnum37, api):
    cli = magnum37.cli(magnum.endpoint)
    template = processes.unique_name('ct37')
    cluster = processes.unique_name('c37')
    created = magnumclient.parse_properties(cli.ok(
        'cluster-template-create', '--name', template, '--coe', 'docker',
        *magnumclient.TOUR_REQUIRED, '--labels',
        'docker_url=%s' % SOCKET).stdout)
    assert created['name'] == template
    rows = magnumclient.parse_table(cli.ok('cluster-template-list').stdout)
    assert template in [row['name'] for row in rows]
    shown = magnumclient.parse_properties(
        cli.ok('cluster-template-show', template).stdout)
    assert shown['keypair_id'] == 'default'

    result = cli.ok('cluster-create', '--name', cluster,
                    '--cluster-template', template, '--node-count', '2')
    assert 'Request to create cluster' in result.stdout
    rows = magnumclient.parse_table(cli.ok('cluster-list').stdout)
    mine = [row for row in rows if row['name'] == cluster]
    assert len(mine) == 1 and mine[0]['keypair'] == 'default', rows
    uuid = mine[0]['uuid']
    _wait(api, magnum, uuid, ('CREATE_FAILED',))
    shown = magnumclient.parse_properties(
        cli.ok('cluster-show', cluster).stdout)
    assert shown['cluster_template_id'] == created['uuid']
    assert shown['node_count'] == '2'
    assert SOCKET in shown['status_reason']

    cli.ok('cluster-update', cluster, 'replace', 'node_count=3')
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    shown = magnumclient.parse_properties(
        cli.ok('cluster-show', cluster).stdout)
    assert shown['node_count'] == '3'

    # The bay era lists it; a bay shows among the clusters.
    bays = magnumclient.parse_table(cli.ok('bay-list').stdout)
    assert uuid in [row['uuid'] for row in bays]
    bay = processes.unique_name('bay37')
    cli.ok('bay-create', '--name', bay, '--baymodel', template)
    rows = magnumclient.parse_table(cli.ok('cluster-list').stdout)
    assert bay in [row['name'] for row in rows]

    # Quotas and stats (noauth: the caller is an admin of "default").
    cli.ok('quotas-create', '--project-id', 'p37', '--resource', 'Cluster',
           '--hard-limit', '7')
    shown = magnumclient.parse_properties(
        cli.ok('quotas-show', '--project-id', 'p37', '--resource',
               'Cluster').stdout)
    assert shown['hard_limit'] == '7'
    cli.ok('quotas-update', '--project-id', 'p37', '--resource', 'Cluster',
           '--hard-limit', '9')
    rows = magnumclient.parse_table(cli.ok('quotas-list').stdout)
    assert any(row['project_id'] == 'p37' and row['hard_limit'] == '9'
               for row in rows) or rows == [], rows
    cli.ok('quotas-delete', '--project-id', 'p37', '--resource', 'Cluster')
    result = cli.ok('stats-list')
    stats = magnumclient.parse_properties(result.stdout) or {
        row.get('Property', ''): row.get('Value')
        for row in magnumclient.parse_table(result.stdout)}
    assert int(stats.get('clusters', 0)) >= 2, str(result)

    cli.ok('cluster-delete', cluster)
    cli.ok('bay-delete', bay)
    _wait(api, magnum, uuid, (None,))


def test_openstack_coe_tour(magnum, magnum37, osc, api):
    template = processes.unique_name('ct')
    cluster = processes.unique_name('cl')
    created = osc.json('cluster', 'template', 'create', template,
                       '--coe', 'kubernetes', '--image', 'fedora',
                       '--external-network', 'public', '--keypair', 'kp',
                       '--labels', 'kube_api_url=https://127.0.0.1:1,'
                       'kube_tag=v1.20')
    assert created['name'] == template and created['coe'] == 'kubernetes'
    listed = osc.json('cluster', 'template', 'list')
    assert template in [row['name'] for row in listed]
    upgrade_to = processes.unique_name('ct2')
    osc.ok('cluster', 'template', 'create', upgrade_to, '--coe',
           'kubernetes', '--image', 'fedora', '--external-network', 'public',
           '--labels', 'kube_api_url=https://127.0.0.1:1,kube_tag=v1.21')

    result = osc.ok('cluster', 'create', cluster, '--cluster-template',
                    template, '--node-count', '2', '--master-count', '1')
    assert 'accepted' in result.stdout, str(result)
    rows = osc.json('cluster', 'list')
    mine = [row for row in rows if row['name'] == cluster]
    assert len(mine) == 1, rows
    assert mine[0]['keypair'] == 'kp'
    uuid = mine[0]['uuid']
    _wait(api, magnum, uuid, ('CREATE_FAILED', 'CREATE_COMPLETE'))
    shown = osc.json('cluster', 'show', cluster)
    assert shown['cluster_template_id'] == created['uuid']
    assert shown['labels']['kube_tag'] == 'v1.20'

    # The bay era sees it.
    cli = magnum37.cli(magnum.endpoint)
    bays = magnumclient.parse_table(cli.ok('bay-list').stdout)
    assert uuid in [row['uuid'] for row in bays]

    osc.ok('cluster', 'resize', cluster, '3')
    done = _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    assert done['node_count'] == 3
    osc.ok('cluster', 'upgrade', cluster, upgrade_to)
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    shown = osc.json('cluster', 'show', cluster)
    assert shown['coe_version'] == 'v1.21'

    groups = osc.json('nodegroup', 'list', cluster)
    assert {g['name'] for g in groups} == {'default-master',
                                          'default-worker'}
    osc.ok('nodegroup', 'create', cluster, 'extra', '--node-count', '1')
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    shown = osc.json('nodegroup', 'show', cluster, 'extra')
    assert shown['node_count'] == 1 and shown['role'] == 'worker'
    if osc.version.startswith('4.'):
        osc.ok('nodegroup', 'update', cluster, 'extra', 'replace',
               'max_node_count=4')
    else:  # 5.0.0 has options instead of a patch
        osc.ok('nodegroup', 'update', cluster, 'extra', '--max-nodes', '4')
    assert osc.json('nodegroup', 'show', cluster, 'extra')[
        'max_node_count'] == 4
    osc.ok('nodegroup', 'delete', cluster, 'extra')
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))

    project = processes.unique_name('proj')
    osc.ok('quotas', 'create', '--project-id', project, '--resource',
           'Cluster', '--hard-limit', '3')
    # NOTE: the quotas and stats commands print plain text (no -f json).
    shown = osc.ok('quotas', 'show', '--project-id', project,
                   '--resource', 'Cluster')
    assert "'hard_limit': 3" in shown.stdout or '| 3 ' in shown.stdout, (
        str(shown))
    osc.ok('quotas', 'update', '--project-id', project, '--resource',
           'Cluster', '--hard-limit', '4')
    osc.ok('quotas', 'list', '--all-tenants')
    osc.ok('quotas', 'delete', '--project-id', project, '--resource',
           'Cluster')
    stats = osc.ok('stats', 'list', 'default')  # noauth's project
    assert 'clusters' in stats.stdout, str(stats)

    osc.ok('credential', 'rotate', cluster)
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))

    osc.ok('cluster', 'delete', cluster)
    _wait(api, magnum, uuid, (None,))


def test_concurrent_creates_never_overshoot_the_quota(magnum, api):
    """More creates at once than the quota allows: exactly the quota's
    worth succeed (the rest are 403 naming the limit), on PostgreSQL."""
    import concurrent.futures
    import requests

    project = processes.unique_name('race')
    member = {'X-Project-Id': project, 'X-User-Id': 'u', 'X-Roles': 'member',
              'OpenStack-API-Version': 'container-infra latest'}
    admin = dict(member, **{'X-Roles': 'admin'})
    response = api.post('/v1/quotas', headers=admin, json={
        'project_id': project, 'resource': 'Cluster', 'hard_limit': 3})
    assert response.status_code == 201, response.text
    template = api.post('/v1/clustertemplates', headers=member, json={
        'name': 'race', 'coe': 'docker', 'labels': {
            'docker_url': SOCKET}})
    assert template.status_code == 201, template.text

    def create(n):
        return requests.post(magnum.url + '/v1/clusters', headers=member,
                             timeout=30, json={
                                 'name': 'race%d' % n,
                                 'cluster_template_id': 'race'})

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(create, range(10)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] * 3 + [403] * 7, [(r.status_code, r.text)
                                           for r in answers]
    refused = [r for r in answers if r.status_code == 403][0]
    assert 'hard_limit' in processes.faultstring(refused)
    listed = api.get('/v1/clusters', headers=member).json()['clusters']
    assert len(listed) == 3
