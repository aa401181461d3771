"""The python-magnumclient 2.1.0 ``magnum`` CLI behind a real Keystone.

2.1.0 knows only Keystone password auth: it authenticates with
``--os-auth-url <keystone>/v3 --os-username --os-tenant-name
--os-user-domain-name --os-project-domain-name`` (the password in
``OS_PASSWORD``) and finds magnum in the catalog under the service type
``container`` (``Keystone.register_magnum`` puts it there, beside
``container-infra``). The services are magnum-api + magnum-conductor on
PostgreSQL and RabbitMQ with ``auth_strategy = keystone``.

The tour is the bay era's, as a ``member`` of a fresh project; the
``service-list`` (``/v1/mservices`` is admin only) is an ``admin``'s. No
assertion message or printed output holds a password: they are in no argv.
"""


import pytest

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.cli]

VERSION = '2.1.0'
SOCKET = magnumclient.TOUR_SOCKET
REQUIRED = magnumclient.TOUR_REQUIRED


@pytest.fixture(scope='module')
def client_venv():
    return magnumclient.ClientVenv(VERSION).ensure()


@pytest.fixture(scope='module')
def magnum(keystone):
    with keystone_mod.magnum_behind(keystone) as magnum:
        yield magnum


def person_with_cli(keystone, magnum, client_venv, who, roles):
    """A ``keystone.Person`` with their 2.1.0 CLI as ``cli``."""
    person = keystone_mod.Person(keystone, magnum, who, roles)
    person.cli = person.keystone_cli(client_venv)
    return person


@pytest.fixture(scope='module')
def member(keystone, magnum, client_venv):
    person = person_with_cli(keystone, magnum, client_venv, 'member',
                             ['member'])
    yield person
    person.close()


@pytest.fixture(scope='module')
def admin(keystone, magnum, client_venv):
    person = person_with_cli(keystone, magnum, client_venv, 'admin',
                             ['admin'])
    yield person
    person.close()


def test_tour(member, magnum):
    cli, api = member.cli, member.api
    baymodel = processes.unique_name('tour21-bm')
    bay = processes.unique_name('tour21-bay')

    baymodel_uuid = magnumclient.baymodel_tour(cli, baymodel)

    # bay-create prints the new bay (2.1.0 deletes its links first).
    result = cli.ok('bay-create', '--name', bay, '--baymodel', baymodel,
                    '--node-count', '1', '--timeout', '10')
    created = magnumclient.parse_properties(result.stdout)
    assert created['name'] == bay, str(result)
    assert created['baymodel_id'] == baymodel_uuid
    assert created['status'] in ('CREATE_IN_PROGRESS', 'CREATE_FAILED')
    assert created['bay_create_timeout'] == '10'
    assert 'links' not in created
    bay_uuid = created['uuid']

    rows = magnumclient.parse_table(cli.ok('bay-list').stdout)
    mine = [row for row in rows if row['name'] == bay]
    assert len(mine) == 1, rows
    assert mine[0]['uuid'] == bay_uuid
    assert mine[0]['node_count'] == '1'
    assert mine[0]['master_count'] == '1'
    assert mine[0]['status'] in ('CREATE_IN_PROGRESS', 'CREATE_FAILED')

    processes.wait_for_bay(api, magnum, bay_uuid, ('CREATE_FAILED',
                                            'CREATE_COMPLETE'))
    shown = magnumclient.parse_properties(cli.ok('bay-show', bay).stdout)
    assert shown['uuid'] == bay_uuid
    assert shown['status'] == 'CREATE_FAILED'
    assert SOCKET in shown['status_reason']
    assert shown['baymodel_id'] == baymodel_uuid

    # bay-update prints the bay as the PATCH answered it.
    result = cli.ok('bay-update', bay, 'replace', 'node_count=2')
    updated = magnumclient.parse_properties(result.stdout)
    assert updated['uuid'] == bay_uuid, str(result)
    assert updated['node_count'] == '2'
    processes.wait_for_bay(api, magnum, bay_uuid, ('UPDATE_FAILED',
                                            'UPDATE_COMPLETE'))
    shown = magnumclient.parse_properties(cli.ok('bay-show', bay).stdout)
    assert shown['node_count'] == '2'
    assert shown['status'] == 'UPDATE_FAILED'

    # The BayModel is in use: 2.1.0 prints the server's refusal and, as
    # for every delete, exits 0.
    result = cli.run('baymodel-delete', baymodel)
    assert result.returncode == 0, str(result)
    assert 'Delete for baymodel %s failed' % baymodel in result.stdout, (
        str(result))
    assert baymodel_uuid in result.stdout
    assert '(HTTP 409)' in result.stdout

    result = cli.ok('bay-delete', bay)
    assert 'Request to delete bay %s has been accepted' % bay in (
        result.stdout), str(result)
    processes.wait_for_bay(api, magnum, bay_uuid, (None,))
    assert bay not in cli.ok('bay-list').stdout

    result = cli.ok('baymodel-delete', baymodel)
    assert 'Request to delete baymodel %s has been accepted' % baymodel in (
        result.stdout), str(result)
    assert baymodel not in cli.ok('baymodel-list').stdout


def test_service_list_as_admin(admin):
    result = admin.cli.ok('service-list')
    rows = magnumclient.parse_table(result.stdout)
    conductors = [row for row in rows if row['binary'] == 'magnum-conductor']
    assert conductors and all(row['state'] == 'up' for row in conductors), (
        str(result))


def test_service_list_as_member_is_refused(member):
    result = member.cli.run('service-list')
    assert result.returncode == 1, str(result)
    assert 'ERROR' in result.stderr, str(result)
    assert '(HTTP 403)' in result.stderr, str(result)
    assert 'Traceback' not in result.output


@pytest.mark.parametrize('args, names', [
    pytest.param(['baymodel-create', '--name', 'x1', '--coe', 'nosuchcoe'],
                 ['coe', 'nosuchcoe', '(HTTP 400)'], id='coe-unknown'),
    pytest.param(['baymodel-create', '--name', 'x2', '--coe', 'docker',
                  '--docker-volume-size', '0'],
                 ['docker_volume_size', '(HTTP 400)'],
                 id='docker-volume-size-0'),
    pytest.param(['baymodel-create', '--name', 'x3', '--coe', 'docker',
                  '--dns-nameserver', '1.2.3'],
                 ['dns_nameserver', '1.2.3', '(HTTP 400)'],
                 id='dns-three-octets'),
])
def test_bad_field_prints_the_faultstring(member, args, names):
    before = processes.counts(member.api)
    result = member.cli.run(*(args + REQUIRED))
    assert result.returncode == 1, str(result)
    assert result.stderr.startswith('ERROR'), str(result)
    for name in names:
        assert name in result.stderr, '%r not printed:\n%s' % (name, result)
    assert 'Traceback' not in result.output, str(result)
    assert processes.counts(member.api) == before


def test_non_number_is_refused_by_the_cli(member):
    # argparse (type=int) refuses it before any request.
    result = member.cli.run('baymodel-create', '--name', 'x4', '--coe',
                            'docker', '--docker-volume-size', 'abc',
                            *REQUIRED)
    assert result.returncode == 2, str(result)
    assert '--docker-volume-size' in result.stderr
    assert 'abc' in result.stderr


def test_show_of_a_missing_name_says_not_found(member):
    result = member.cli.run('bay-show', 'nosuchname')
    assert result.returncode == 1, str(result)
    assert 'Bay nosuchname could not be found' in result.stderr, str(result)
    assert '(HTTP 404)' in result.stderr


def test_endpoint_comes_from_the_catalog(member, magnum):
    # No --bypass-url: keystoneauth finds service type ``container`` in
    # the token's catalog, and the request goes to magnum-api.
    result = member.cli.ok('--debug', 'baymodel-list')
    assert 'GET call to container for %s/baymodels' % magnum.endpoint in (
        result.stderr), str(result)
    # 2.x clients send no microversion: the server answers with 1.1.
    assert 'OpenStack-API-Version: container-infra 1.1 ' in result.stderr
    # keystoneauth logs the token only as a hash, and never the password.
    assert member.cli._password not in result.output


def test_register_magnum_is_idempotent(keystone, magnum):
    def catalog():
        services = keystone._api('GET', '/services')['services']
        ids = [s['id'] for s in services
               if s['type'] in ('container', 'container-infra')]
        endpoints = [e for e in keystone._api('GET', '/endpoints')[
            'endpoints'] if e['service_id'] in ids]
        return sorted(ids), sorted(
            (e['service_id'], e['interface'], e['region_id'], e['url'])
            for e in endpoints)

    before = catalog()
    keystone.register_magnum(magnum.endpoint)
    assert catalog() == before
    assert len(before[0]) == 2
    assert len(before[1]) == 6
    assert {url for *_, url in before[1]} == {magnum.endpoint}
