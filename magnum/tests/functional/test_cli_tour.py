"""The python-magnumclient 3.7.0 ``magnum`` CLI against the real services.

A user's tour of the bay era, command by command, against magnum-api +
magnum-conductor (PostgreSQL, RabbitMQ) and against magnum-all, asserting
on what the CLI prints: that is what the user sees. The CLI runs in token
mode (``--os-token --os-endpoint-override``), without Keystone.
"""


import pytest

from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = pytest.mark.cli

DEPLOYMENTS = [
    pytest.param('postgresql', id='api+conductor-postgresql',
                 marks=[pytest.mark.postgresql, pytest.mark.rabbitmq]),
    pytest.param('all', id='magnum-all-sqlite'),
]
SOCKET = magnumclient.TOUR_SOCKET
REQUIRED = magnumclient.TOUR_REQUIRED


@pytest.fixture(scope='module')
def client_venv():
    return magnumclient.ClientVenv('3.7.0').ensure()


@pytest.fixture(scope='module', params=DEPLOYMENTS)
def magnum(request, client_venv):
    with processes.deployment(request.param) as running:
        yield running


@pytest.fixture
def cli(magnum, client_venv):
    return client_venv.cli(magnum.endpoint)


def test_tour(cli, api, magnum):
    baymodel = processes.unique_name('tour-bm')
    bay = processes.unique_name('tour-bay')

    baymodel_uuid = magnumclient.baymodel_tour(cli, baymodel,
                                               '--server-type', 'vm')

    result = cli.ok('bay-create', '--name', bay, '--baymodel', baymodel,
                    '--node-count', '1', '--timeout', '10')
    assert 'Request to create bay' in result.stdout
    assert 'has been accepted' in result.stdout
    rows = magnumclient.parse_table(cli.ok('bay-list').stdout)
    mine = [row for row in rows if row['name'] == bay]
    assert len(mine) == 1, rows
    bay_uuid = mine[0]['uuid']
    assert bay_uuid in result.stdout
    assert mine[0]['status'] in ('CREATE_IN_PROGRESS', 'CREATE_FAILED')

    processes.wait_for_bay(api, magnum, bay_uuid, ('CREATE_FAILED',
                                            'CREATE_COMPLETE'))
    shown = magnumclient.parse_properties(cli.ok('bay-show', bay).stdout)
    assert shown['uuid'] == bay_uuid
    assert shown['status'] == 'CREATE_FAILED'
    assert SOCKET in shown['status_reason']
    assert shown['baymodel_id'] == baymodel_uuid
    assert shown['bay_create_timeout'] == '10'

    result = cli.run('bay-update', bay, 'replace',
                              'node_count=2')
    assert result.returncode == 0 and 'ERROR' not in result.output, (
        str(result))
    assert 'Request to update bay %s has been accepted' % bay in (
        result.stdout)
    processes.wait_for_bay(api, magnum, bay_uuid, ('UPDATE_FAILED',
                                            'UPDATE_COMPLETE'))
    shown = magnumclient.parse_properties(cli.ok('bay-show', bay).stdout)
    assert shown['node_count'] == '2'
    assert shown['status'] == 'UPDATE_FAILED'

    # The BayModel is in use: the CLI prints the server's refusal (and, as
    # 3.7.0 does for every delete, still exits 0).
    result = cli.run('baymodel-delete', baymodel)
    assert 'Delete for baymodel %s failed' % baymodel in result.output, (
        str(result))
    assert '(HTTP 409)' in result.output
    assert baymodel_uuid in result.output

    result = cli.run('bay-delete', bay)
    assert result.returncode == 0, str(result)
    assert 'Request to delete bay %s has been accepted' % bay in (
        result.stdout), str(result)
    processes.wait_for_bay(api, magnum, bay_uuid, (None,))
    assert bay not in cli.ok('bay-list').stdout

    result = cli.ok('baymodel-delete', baymodel)
    assert 'Request to delete baymodel %s has been accepted' % baymodel in (
        result.stdout)
    assert baymodel not in cli.ok('baymodel-list').stdout

    rows = magnumclient.parse_table(cli.ok('service-list').stdout)
    conductors = [row for row in rows if row['binary'] == 'magnum-conductor']
    assert conductors and all(row['state'] == 'up' for row in conductors), (
        rows)


@pytest.fixture(scope='module')
def baymodel(magnum):
    """A BayModel's name for the commands that need one (made over HTTP:
    the CLI's own create is the tour's).
    """
    client = processes.Client(magnum)
    name = processes.unique_name('bad-input')
    response = client.post('/v1/baymodels', json={
        'name': name, 'coe': 'docker', 'labels': {'docker_url': SOCKET}})
    assert response.status_code == 201, response.text
    yield name
    client.delete('/v1/baymodels/%s' % name)
    client.close()


# NOTE: 3.7.0's bay-create prints "Create for bay X failed: <the server's
# faultstring>" and exits 0; every other command exits non-zero.
SWALLOWED = 0
BAD_INPUT = [
    ('coe-unknown',
     ['baymodel-create', '--name', 'x1', '--coe', 'nosuchcoe'] + REQUIRED,
     ['coe', 'nosuchcoe', 'HTTP 400']),
    ('dns-three-octets',
     ['baymodel-create', '--name', 'x2', '--coe', 'docker',
      '--dns-nameserver', '1.2.3'] + REQUIRED,
     ['dns_nameserver', '1.2.3', 'HTTP 400']),
    ('dns-octet-too-big',
     ['baymodel-create', '--name', 'x3', '--coe', 'docker',
      '--dns-nameserver', '8.8.8.888'] + REQUIRED,
     ['dns_nameserver', 'HTTP 400']),
    ('docker-volume-size-0',
     ['baymodel-create', '--name', 'x4', '--coe', 'docker',
      '--docker-volume-size', '0'] + REQUIRED,
     ['docker_volume_size', 'HTTP 400']),
    # The CLI itself refuses a non-number, before any request.
    ('docker-volume-size-abc',
     ['baymodel-create', '--name', 'x5', '--coe', 'docker',
      '--docker-volume-size', 'abc'] + REQUIRED,
     ['--docker-volume-size', 'abc']),
    ('server-type-unknown',
     ['baymodel-create', '--name', 'x6', '--coe', 'docker',
      '--server-type', 'mainframe'] + REQUIRED,
     ['server_type', 'mainframe', 'HTTP 400']),
    ('docker-url-scheme',
     ['baymodel-create', '--name', 'x7', '--coe', 'docker',
      '--labels', 'docker_url=ftp://example'] + REQUIRED,
     ['docker_url', 'ftp://example', 'HTTP 400']),
    ('http-proxy-too-long',
     ['baymodel-create', '--name', 'x8', '--coe', 'docker',
      '--http-proxy', 'p' * 256] + REQUIRED,
     ['http_proxy', 'HTTP 400']),
    ('bay-baymodel-missing',
     ['bay-create', '--name', 'b1', '--baymodel', 'nosuchbaymodel'],
     ['nosuchbaymodel', 'HTTP 404']),
    ('bay-node-count-0',
     ['bay-create', '--name', 'b2', '--baymodel', '{baymodel}',
      '--node-count', '0'], ['node_count', 'HTTP 400'], SWALLOWED),
    ('bay-master-count-negative',
     ['bay-create', '--name', 'b3', '--baymodel', '{baymodel}',
      '--master-count', '-1'], ['master_count', 'HTTP 400'], SWALLOWED),
    ('bay-timeout-negative',
     ['bay-create', '--name', 'b4', '--baymodel', '{baymodel}',
      '--timeout', '-5'], ['bay_create_timeout', 'HTTP 400'], SWALLOWED),
    ('bay-discovery-url',
     ['bay-create', '--name', 'b5', '--baymodel', '{baymodel}',
      '--discovery-url', 'not a url'], ['discovery_url', 'HTTP 400'],
     SWALLOWED),
    ('baymodel-update-uuid',
     ['baymodel-update', '{baymodel}', 'replace', 'uuid=x'],
     ['/uuid', 'HTTP 400']),
    ('baymodel-update-coe',
     ['baymodel-update', '{baymodel}', 'replace', 'coe=nosuchcoe'],
     ['coe', 'nosuchcoe', 'HTTP 400']),
    ('baymodel-update-apiserver-port',
     ['baymodel-update', '{baymodel}', 'replace', 'apiserver_port=80'],
     ['apiserver_port', 'HTTP 400']),
]


# NOTE: the API's checks are the same in every deployment (test_bad_input
# sweeps them); here they run once, to show what the CLI prints.
@pytest.mark.parametrize('magnum', DEPLOYMENTS[:1], indirect=True)
@pytest.mark.parametrize('args, names, exit_code', [
    pytest.param(case[1], case[2], case[3] if len(case) > 3 else None,
                 id=case[0]) for case in BAD_INPUT])
def test_bad_input_prints_the_field_and_fails(cli, api, baymodel, args,
                                              names, exit_code):
    args = [arg.replace('{baymodel}', baymodel) for arg in args]
    before = processes.counts(api)
    result = cli.run(*args)
    if exit_code is None:
        assert result.returncode != 0, str(result)
    else:
        assert result.returncode == exit_code, str(result)
        assert 'Create for bay' in result.stdout, str(result)
    for name in names:
        assert name in result.output, '%r not printed:\n%s' % (name, result)
    assert 'Traceback' not in result.output, str(result)
    assert processes.counts(api) == before


@pytest.mark.parametrize('command, message', [
    pytest.param('bay-show', 'Bay nosuchname could not be found', id='bay'),
    pytest.param('baymodel-show', 'BayModel nosuchname could not be found',
                 id='baymodel'),
])
def test_show_of_a_missing_name_says_not_found(cli, command, message):
    result = cli.run(command, 'nosuchname')
    assert result.returncode != 0, str(result)
    assert message in result.stderr, str(result)
    assert '(HTTP 404)' in result.stderr


def test_client_asks_for_the_latest_microversion(cli):
    result = cli.ok('--debug', 'service-list')
    # The client logs each request as a curl command line and each answer.
    assert "OpenStack-API-Version: container-infra latest" in result.stderr
    assert 'OpenStack-API-Version: container-infra 1.14' in result.stderr
    assert 'magnum-conductor' in result.stdout
