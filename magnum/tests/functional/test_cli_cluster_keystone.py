"""The cluster era's ``openstack coe`` through a real Keystone.

python-magnumclient 4.11.0 and 5.0.0 with python-openstackclient log in
with Keystone v3 password auth (``--os-auth-url``, ``--os-username``,
``--os-project-name``, the domain options; the password in
``OS_PASSWORD``, never in an argv) and find magnum in the token's catalog
under ``container-infra``. The services are magnum-api + magnum-conductor
on PostgreSQL and RabbitMQ with ``auth_strategy = keystone`` and
``[static] certificate_dir`` (a static provisioner rotates a CA only with
it), and a real Docker Engine for the ca tour's cluster, which must be
CREATE_COMPLETE to rotate its CA.

Each release runs, as a ``member`` of a fresh project:

* ``magnumclient.coe_tour``: cluster template create/list/show/delete,
  cluster create/list/show/resize/upgrade/delete, nodegroup
  list/show/create/update/delete, stats, credential rotate; quotas as an
  ``admin`` of another project;
* ``magnumclient.coe_ca_tour``: ca show/sign/rotate (the PEMs checked with
  ``cryptography`` against the CA the API holds, before and after) and
  credential rotate on a docker cluster;
* the cross-era check with the 2.1.0 ``magnum`` CLI (Keystone password
  auth too): a bay made with ``magnum bay-create`` is listed by
  ``openstack coe cluster list``, a cluster made with ``openstack coe
  cluster create`` by ``magnum bay-list``.

NOTE: every ``openstack`` call costs a second or more of imports and a
Keystone login, so the module starts its tours at once, side by side
in threads (each with its own names and clusters), the first time a test
asks (``tours``); each test waits for its own and reports it as itself.
"""

import concurrent.futures
import os
import tempfile

import pytest

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.cli, pytest.mark.keystone, pytest.mark.postgresql,
              pytest.mark.rabbitmq, pytest.mark.docker]

RELEASES = magnumclient.OSC_RELEASES
# NOTE: each release's coe tour once in the suite (its ~40 client calls
# cost one to two minutes of the suite's two cores): 4.11.0's here,
# through Keystone; 5.0.0's without it (test_cli_cluster_tour.py). 5.0.0
# goes through Keystone in the cross-era tour and the catalog test.
COE_TOUR_RELEASES = ('4.11.0',)
# NOTE: the ca tour likewise once a release: 5.0.0's without Keystone
# (test_cli_cluster_tour.py), 4.11.0's here.
CA_TOUR_RELEASES = ('4.11.0',)
# Seconds a tour may take once the pool runs it (the machine may be busy).
TOUR_TIMEOUT = 600


@pytest.fixture(scope='module')
def magnum(keystone):
    with tempfile.TemporaryDirectory(prefix='mgks-') as scratch:
        certificate_dir = os.path.join(scratch, 'bays')
        os.mkdir(certificate_dir, 0o700)
        with keystone_mod.magnum_behind(keystone, extra={
                'static': {'certificate_dir': certificate_dir}}) as magnum:
            yield magnum


@pytest.fixture(scope='module')
def member(keystone, magnum):
    person = keystone_mod.Person(keystone, magnum, 'member', ['member'])
    yield person
    person.close()


@pytest.fixture(scope='module')
def admin(keystone, magnum):
    person = keystone_mod.Person(keystone, magnum, 'admin', ['admin'])
    yield person
    person.close()


@pytest.fixture(scope='module')
def venvs():
    """Every client release this module runs, built before any tour."""
    found = {version: magnumclient.osc_venv(version) for version in RELEASES}
    found['2.1.0'] = magnumclient.ClientVenv('2.1.0').ensure()
    return found


def _cross_era(osc, cli21, member, magnum):
    """2.1.0's bays are clusters and the other way round (one project)."""
    baymodel = processes.unique_name('x21-bm')
    bay = processes.unique_name('x21-bay')
    cluster = processes.unique_name('x21-cl')
    cli21.ok('baymodel-create', '--name', baymodel, '--coe', 'docker',
             *magnumclient.TOUR_REQUIRED, '--labels',
             'docker_url=%s' % magnumclient.TOUR_SOCKET)
    created = magnumclient.parse_properties(cli21.ok(
        'bay-create', '--name', bay, '--baymodel', baymodel).stdout)
    bay_uuid = created['uuid']
    mine = [row for row in osc.json('cluster', 'list')
            if row['uuid'] == bay_uuid]
    assert len(mine) == 1 and mine[0]['name'] == bay, mine
    shown = osc.json('cluster', 'show', bay)
    assert shown['cluster_template_id'] == created['baymodel_id']

    result = osc.ok('cluster', 'create', cluster, '--cluster-template',
                    baymodel)
    assert 'accepted' in result.stdout, str(result)
    rows = magnumclient.parse_table(cli21.ok('bay-list').stdout)
    mine = [row for row in rows if row['name'] == cluster]
    assert len(mine) == 1, rows
    cluster_uuid = mine[0]['uuid']
    shown = magnumclient.parse_properties(
        cli21.ok('bay-show', cluster).stdout)
    assert shown['baymodel_id'] == created['baymodel_id']

    for uuid in (bay_uuid, cluster_uuid):
        processes.wait_for_bay(member.api, magnum, uuid,
                               ('CREATE_FAILED', 'CREATE_COMPLETE'))
    cli21.ok('bay-delete', cluster)
    osc.ok('cluster', 'delete', bay)
    for uuid in (bay_uuid, cluster_uuid):
        processes.wait_for_bay(member.api, magnum, uuid, (None,))
    cli21.ok('baymodel-delete', baymodel)
    assert baymodel not in cli21.ok('baymodel-list').stdout


@pytest.fixture(scope='module')
def tours(magnum, member, admin, venvs, docker_engine):
    """Every tour of every release, started at once: ``(name, release)``
    to a future.
    """
    pool = concurrent.futures.ThreadPoolExecutor(3 * len(RELEASES))
    futures = {}
    cli21 = member.keystone_cli(venvs['2.1.0'])
    for release in RELEASES:
        venv = venvs[release]
        if release in COE_TOUR_RELEASES:
            futures['coe', release] = pool.submit(
                magnumclient.coe_tour, member.keystone_osc(venv),
                member.api, magnum, admin=admin.keystone_osc(venv),
                project=member.project_id)
        if release in CA_TOUR_RELEASES:
            futures['ca', release] = pool.submit(
                magnumclient.coe_ca_tour, member.keystone_osc(venv),
                member.api, magnum, docker_engine.url)
        futures['cross21', release] = pool.submit(
            _cross_era, member.keystone_osc(venv), cli21, member, magnum)
    yield futures
    # NOTE: no tour may outlive the services it talks to.
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize('release', COE_TOUR_RELEASES)
def test_openstack_coe_tour(tours, release):
    tours['coe', release].result(TOUR_TIMEOUT)


@pytest.mark.parametrize('release', CA_TOUR_RELEASES)
def test_openstack_coe_ca_tour(tours, release):
    tours['ca', release].result(TOUR_TIMEOUT)


@pytest.mark.parametrize('release', RELEASES)
def test_cross_era_with_the_21_cli(tours, release):
    tours['cross21', release].result(TOUR_TIMEOUT)


@pytest.mark.parametrize('release', RELEASES)
def test_endpoint_comes_from_the_catalog(member, magnum, venvs, release):
    # No --os-endpoint: the client finds container-infra in the catalog.
    osc = member.keystone_osc(venvs[release])
    osc.options = ['--debug']
    result = osc.ok('cluster', 'list')
    assert '%s/clusters' % magnum.endpoint in result.stderr, str(result)
    assert 'OpenStack-API-Version: container-infra' in result.stderr
    # keystoneauth logs the token only as a hash, and never the password.
    assert member._password not in result.output


@pytest.mark.parametrize('release', RELEASES)
def test_a_member_may_not_set_quotas(member, admin, venvs, release):
    """NOTE: ``openstack coe quotas create`` prints the server's refusal
    on stdout and exits 0 all the same (a client bug; both releases).
    """
    osc = member.keystone_osc(venvs[release])
    result = osc.run('quotas', 'create', '--project-id', member.project_id,
                     '--resource', 'Cluster', '--hard-limit', '100')
    assert 'failed: Policy does not allow quota:create' in result.stdout, (
        str(result))
    assert '(HTTP 403)' in result.stdout, str(result)
    assert 'Traceback' not in result.output
    quotas = admin.api.get('/v1/quotas', params={'all_tenants': 'True'})
    assert quotas.status_code == 200, quotas.text
    assert member.project_id not in quotas.text
