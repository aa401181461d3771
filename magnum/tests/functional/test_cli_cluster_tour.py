"""The cluster era with the real clients: python-magnumclient 3.7.0's
``magnum`` (token mode) and 5.0.0 with python-openstackclient
(``openstack coe``, ``--os-auth-type none --os-endpoint``; 4.11.0's runs
through Keystone in test_cli_cluster_keystone.py), against
magnum-api + magnum-conductor on PostgreSQL and RabbitMQ.

Both eras share the rows: a bay made with ``magnum bay-create`` is listed
by ``openstack coe cluster list`` and a cluster made with ``openstack coe
cluster create`` by ``magnum bay-list``. Clusters point the static
provisioner at a socket that does not exist, so they fail to create; a
failed cluster can still be resized, upgraded and deleted.

The ``openstack coe`` tours (``magnumclient.coe_tour`` and
``coe_ca_tour``) are shared with the same tours through a real Keystone
(test_cli_cluster_keystone.py). The ca tour's cluster is a docker cluster
on a real Docker Engine (the module's ``docker_engine``), so it is
CREATE_COMPLETE and its CA can rotate.
"""

import os
import tempfile

import pytest

from magnum.tests.functional import db_servers
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.cli, pytest.mark.postgresql, pytest.mark.rabbitmq]

SOCKET = magnumclient.TOUR_SOCKET
OSC_RELEASES = magnumclient.OSC_RELEASES


@pytest.fixture(scope='module')
def magnum():
    # NOTE: several API workers and threads, so concurrent creates really
    # race in the database (one sync worker would queue them).
    # NOTE: [static] certificate_dir: the static provisioner can rotate a
    # CA only with it (the ca tour's docker cluster).
    with tempfile.TemporaryDirectory(prefix='mgcl-') as scratch:
        certificate_dir = os.path.join(scratch, 'bays')
        os.mkdir(certificate_dir, 0o700)
        with processes.running(db_servers.PostgresDatabase()) as database:
            with processes.running(processes.MagnumServices(
                    database.url, extra={
                        'api': {'workers': 3, 'threads': 4},
                        'static': {'certificate_dir': certificate_dir}})
            ) as running:
                yield running


@pytest.fixture(scope='module')
def magnum37():
    return magnumclient.ClientVenv('3.7.0').ensure()


@pytest.fixture(scope='module')
def osc_latest(magnum):
    """The newest release only: each tour costs the suite one to two
    minutes of its two cores. 4.11.0's ``openstack coe`` runs through
    Keystone (test_cli_cluster_keystone.py: the ca tour, the cross-era
    tour, the catalog) and under magnum-ui (test_horizon.py)."""
    return magnumclient.osc_venv(OSC_RELEASES[-1]).osc(magnum.endpoint)


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


def test_openstack_coe_tour(magnum, magnum37, osc_latest, api):
    cli = magnum37.cli(magnum.endpoint)

    def seen_by_the_bay_era(uuid):
        bays = magnumclient.parse_table(cli.ok('bay-list').stdout)
        assert uuid in [row['uuid'] for row in bays]

    # noauth: the caller is an admin of the project "default".
    magnumclient.coe_tour(osc_latest, api, magnum, seen=seen_by_the_bay_era)


@pytest.mark.docker
def test_openstack_coe_ca_tour(magnum, osc_latest, api, docker_engine):
    magnumclient.coe_ca_tour(osc_latest, api, magnum, docker_engine.url)


def test_openstack_coe_ca_refusals(magnum, osc_latest, api, tmp_path):
    """What the server refuses, as ``openstack coe`` prints it: a CA
    rotation on a failed cluster (409 naming the statuses it needs), a
    cluster without a CA (404), a CSR that is not one (400 naming csr).

    NOTE: client bugs, both releases: ``ca sign`` of a file that does not
    exist prints "A CSR must be provided." and exits 0 without a request;
    ``credential rotate`` prints a failure and exits 0.
    """
    osc = osc_latest
    failed = processes.unique_name('ca-failed')
    plain = processes.unique_name('ca-plain')
    for name, extra in ((failed, ['--labels', 'kube_api_url=%s'
                                  % magnumclient.TOUR_KUBE_URL]),
                        (plain, ['--tls-disabled', '--labels',
                                 'kube_api_url=%s'
                                 % magnumclient.TOUR_KUBE_URL])):
        osc.ok('cluster', 'template', 'create', name, '--coe', 'kubernetes',
               '--image', 'fedora', '--external-network', 'public', *extra)
        osc.ok('cluster', 'create', name, '--cluster-template', name)
    uuids = [osc.json('cluster', 'show', name)['uuid']
             for name in (failed, plain)]
    for uuid in uuids:
        _wait(api, magnum, uuid, ('CREATE_FAILED',))
    garbage = tmp_path / 'garbage.csr'
    garbage.write_text('not a csr')

    def refused(args, code, *words):
        result = osc.run(*args)
        assert result.returncode == 1, str(result)
        for word in ('(HTTP %d)' % code,) + words:
            assert word in result.stderr, '%r not printed:\n%s' % (word,
                                                                    result)
        assert 'Traceback' not in result.output, str(result)

    refused(('ca', 'rotate', failed), 409, 'CREATE_FAILED',
            'CREATE_COMPLETE or UPDATE_COMPLETE')
    refused(('ca', 'show', plain), 404, 'no certificate authority')
    refused(('ca', 'rotate', plain), 404, 'no certificate authority')
    refused(('ca', 'sign', failed, str(garbage)), 400, 'csr')
    refused(('ca', 'show', 'nosuchcluster'), 404, 'nosuchcluster')

    missing = osc.run('ca', 'sign', failed, str(tmp_path / 'nofile.csr'))
    assert missing.returncode == 0, str(missing)
    assert 'A CSR must be provided.' in missing.stdout, str(missing)
    result = osc.run('credential', 'rotate', 'nosuchcluster')
    assert result.returncode == 0, str(result)
    assert 'Credential rotation failed' in result.stdout, str(result)
    assert '(HTTP 404)' in result.stdout, str(result)

    for name, uuid in zip((failed, plain), uuids):
        osc.ok('cluster', 'delete', name)
        _wait(api, magnum, uuid, (None,))
        osc.ok('cluster', 'template', 'delete', name)


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
