"""The Horizon panel, for real: Horizon 27.0.0 + magnum-ui 19.0.0
(python-magnumclient 4.11.0 beside them, their own virtualenv) in Debian's
chromium, headless, driven by playwright-core (``horizon_tour.js``).

Magnum (magnum-api + a conductor on PostgreSQL and RabbitMQ) is behind a
real Keystone and in its catalog as ``container-infra``, through a
recording proxy (``horizon.RecordingProxy``) so that the test sees every
call magnum-ui made and what Magnum answered. Nova, Neutron and Glance
cannot run here; ``cloud_standin`` answers the lists the forms choose
from (flavors, keypairs, zones, networks, images).

A member of a fresh project logs in and sees the Clusters page list the
clusters made through the API (one on a private Docker Engine through the
static provisioner, CREATE_COMPLETE and HEALTHY; one on a socket that does
not exist, CREATE_FAILED), with the stats and the quota donut; opens one
cluster's detail page; sees the Cluster Templates page; makes a cluster
template and then a cluster through the forms, which the API then shows
with what was chosen. An admin sees every project's quota in the admin
Quotas panel. Screenshots of every page go to a directory the test prints
(``$MAGNUM_TEST_ARTIFACTS/horizon-...``, or under the system's temporary
directory).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from magnum.tests.functional import cloud_standin
from magnum.tests.functional import horizon
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

pytestmark = [pytest.mark.horizon, pytest.mark.keystone,
              pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.docker]

TOUR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'horizon_tour.js')
BROWSER_SCRIPT = os.path.join(horizon.REPO, 'tools', 'browser.sh')
TOUR_TIMEOUT = 300
MISSING_SOCKET = 'unix:///nonexistent-horizon.sock'
# Every call magnum-ui makes when its pages load (API.md).
ON_LOAD = ('/v1/clusters/detail', '/v1/clustertemplates/detail',
           '/v1/stats', '/v1/quotas?all_tenants=True')


def _node_path():
    try:
        result = subprocess.run(
            [BROWSER_SCRIPT], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=keystone_mod.BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        keystone_mod._unavailable('chromium/playwright-core', str(e))
    if result.returncode:
        keystone_mod._unavailable('chromium/playwright-core', '%s failed:\n%s'
                                  % (BROWSER_SCRIPT, result.stderr[-4000:]))
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope='module')
def node_path():
    return _node_path()


@pytest.fixture(scope='module')
def cloud(keystone):
    with processes.running(cloud_standin.CloudStandIn()) as standin:
        standin.register(keystone)
        yield standin


@pytest.fixture(scope='module')
def magnum(keystone):
    with keystone_mod.magnum_behind(keystone) as magnum:
        yield magnum


@pytest.fixture(scope='module')
def proxy(keystone, magnum):
    with processes.running(horizon.RecordingProxy(magnum.url)) as recorder:
        # NOTE: exactly http://host:port/v1 (the client trims "/v1").
        keystone.register_magnum(recorder.url + '/v1')
        yield recorder


@pytest.fixture(scope='module')
def dashboard(keystone, cloud, proxy):
    with processes.running(horizon.Horizon(keystone)) as running:
        yield running


class Person:
    def __init__(self, keystone, magnum, who, roles):
        self.project = processes.unique_name('hz-%s' % who)
        self.user = processes.unique_name('hz-user-%s' % who)
        self.password = processes.unique_name('pw')
        self.project_id = keystone.create_project(self.project)
        keystone.create_user(self.user, self.password, self.project_id,
                             roles)
        self.api = processes.Client(magnum, headers={
            'X-Auth-Token': keystone.token_for(self.user, self.password,
                                               self.project),
            'OpenStack-API-Version': 'container-infra latest'})

    def login(self):
        return {'user': self.user, 'password': self.password}


def _artifacts_dir():
    base = os.environ.get('MAGNUM_TEST_ARTIFACTS') or os.path.join(
        tempfile.gettempdir(), 'magnum-test-artifacts')
    os.makedirs(base, exist_ok=True)
    path = tempfile.mkdtemp(prefix='horizon-%s-' % time.strftime(
        '%Y%m%d-%H%M%S'), dir=base)
    # NOTE: on the real stderr, so that it shows whether or not pytest
    # captures output.
    sys.__stderr__.write('\nhorizon screenshots in %s\n' % path)
    return path


def _tour(dashboard, proxy, node_path, config):
    argv = ['node', TOUR, json.dumps(config)]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=TOUR_TIMEOUT, cwd=os.path.dirname(TOUR),
            env=processes._child_environment({'NODE_PATH': node_path}))
    except subprocess.TimeoutExpired as e:
        raise AssertionError('the browser tour took over %ds: %s\n%s' % (
            TOUR_TIMEOUT, e, dashboard.logs(60)))
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    assert done.returncode == 0, (
        'browser tour failed (screenshots in %s):\n%s\nreport: %s\n'
        'Magnum refused: %s\n%s' % (
            config['shots'], done.stderr[-4000:],
            json.dumps(report)[-4000:], proxy.errors, dashboard.logs(60)))
    return report


def test_dashboard_tour(keystone, magnum, proxy, dashboard, docker_engine,
                        node_path):
    member = Person(keystone, magnum, 'member', ['member'])
    admin = Person(keystone, magnum, 'admin', ['admin'])
    api = member.api

    # Through the API: a template and two clusters, and a quota of 5.
    template = processes.unique_name('hz-api-ct')
    response = api.post('/v1/clustertemplates', json={
        'name': template, 'coe': 'docker', 'image_id': 'busybox',
        'labels': {'docker_url': docker_engine.url}})
    assert response.status_code == 201, response.text
    template_uuid = response.json()['uuid']
    broken = processes.unique_name('hz-api-ct-broken')
    assert api.post('/v1/clustertemplates', json={
        'name': broken, 'coe': 'docker', 'image_id': 'busybox',
        'labels': {'docker_url': MISSING_SOCKET}}).status_code == 201
    good, bad = (processes.unique_name('hz-good'),
                 processes.unique_name('hz-bad'))
    uuids = {}
    for name, ct, nodes in ((good, template, 1), (bad, broken, 2)):
        response = api.post('/v1/clusters', json={
            'name': name, 'cluster_template_id': ct, 'node_count': nodes,
            'master_count': 1})
        assert response.status_code == 202, response.text
        uuids[name] = response.json()['uuid']
    processes.wait_for_bay(api, magnum, uuids[good], ('CREATE_COMPLETE',))
    processes.wait_for_bay(api, magnum, uuids[bad], ('CREATE_FAILED',))
    response = admin.api.post('/v1/quotas', json={
        'project_id': member.project_id, 'resource': 'Cluster',
        'hard_limit': 5})
    assert response.status_code == 201, response.text

    new_template = processes.unique_name('hz-ui-ct')
    new_cluster = processes.unique_name('hz-ui-cl')
    shots = _artifacts_dir()
    report = _tour(dashboard, proxy, node_path, {
        'url': dashboard.url, 'member': member.login(),
        'admin': admin.login(), 'shots': shots,
        'clusters': [good, bad], 'detail': good,
        'detail_uuid': uuids[good], 'api_template': template,
        'template': new_template, 'cluster': new_cluster,
        'image': cloud_standin.IMAGE['name'],
        'keypair': cloud_standin.KEYPAIR['name'],
        'flavor': cloud_standin.FLAVORS[0]['name'],
        'labels': 'kube_api_url=https://127.0.0.1:1,kube_tag=v1.28.2',
        'quota_project': member.project_id,
    })

    # The Clusters page: status, health and counts of each cluster; stats
    # and the quota donut.
    rows = report['pages']['clusters']
    good_row = [r for r in rows if good in r][0]
    bad_row = [r for r in rows if bad in r][0]
    assert 'CREATE_COMPLETE' in good_row and 'HEALTHY' in good_row, rows
    assert 'CREATE_FAILED' in bad_row and 'UNHEALTHY' in bad_row, rows
    assert uuids[good] in good_row and uuids[bad] in bad_row
    assert '\t1\t1' in good_row and '\t1\t2' in bad_row, rows
    assert 'Used 2 of 5' in report['pages']['stats']
    assert 'Stats' in report['pages']['stats']
    # The detail page.
    detail = report['pages']['detail']
    assert uuids[good] in detail and 'CREATE_COMPLETE' in detail
    assert docker_engine.url in detail  # the api_address
    assert template in detail and 'HEALTHY' in detail
    # The Cluster Templates page.
    assert any(template in r and template_uuid in r
               for r in report['pages']['templates']), report['pages']
    # The admin's Quotas panel: the member's project and its limit.
    assert any(member.project_id in r and '5' in r
               for r in report['pages']['quotas'])
    assert len(report['shots']) >= 8, report['shots']

    # The forms' creations, through the API.
    assert report['template_created']['status'] == 201, report
    shown = api.get('/v1/clustertemplates/%s' % new_template).json()
    assert shown['coe'] == 'kubernetes'
    assert shown['image_id'] == cloud_standin.IMAGE['name']
    assert shown['keypair_id'] == cloud_standin.KEYPAIR['name']
    assert shown['flavor_id'] == cloud_standin.FLAVORS[0]['name']
    assert shown['external_network_id'] == cloud_standin.NETWORKS[0]['id']
    assert shown['docker_volume_size'] == 5
    assert shown['dns_nameserver'] == '8.8.8.8'
    assert shown['labels']['kube_tag'] == 'v1.28.2'
    assert report['cluster_created']['status'] == 201, report
    cluster = api.get('/v1/clusters/%s' % new_cluster).json()
    assert cluster['cluster_template_id'] == shown['uuid']
    assert cluster['node_count'] == 2 and cluster['master_count'] == 1
    assert cluster['keypair'] == cloud_standin.KEYPAIR['name']
    assert cluster['flavor_id'] == cloud_standin.FLAVORS[0]['name']
    assert cluster['master_flavor_id'] == cloud_standin.FLAVORS[0]['name']
    assert cluster['labels'].get('availability_zone') == 'nova', cluster

    # Every call of the dashboard answered: the browser's view of Horizon
    # and Horizon's of Magnum.
    failed = [call for call in report['api'] if call[1] >= 400]
    assert not failed, failed
    calls = proxy.requests
    assert not proxy.errors, proxy.errors
    paths = [path for _, path, _ in calls]
    for wanted in ON_LOAD + ('/v1/quotas/%s/Cluster' % member.project_id,):
        assert any(path.startswith(wanted) for path in paths), (wanted,
                                                                 paths)
    member.api.close()
    admin.api.close()
