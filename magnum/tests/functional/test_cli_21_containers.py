"""python-magnumclient 2.1.0's ``container-*`` commands behind a real
Keystone, on a static docker bay over a real, private Docker Engine.

2.1.0 is the only release with container commands. The services are
magnum-api + magnum-conductor on PostgreSQL and RabbitMQ with
``auth_strategy = keystone`` (see test_cli_21_tour.py); the user is a
``member`` of a fresh project and logs in with a password kept out of
every argv.
"""

import time

import pytest

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes
from magnum.tests.functional import test_cli_21_tour as tour21

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.cli, pytest.mark.docker]

IMAGE = 'busybox:latest'
COMMAND = ('sh -c \'trap "exit 0" TERM; echo hello from the tour; '
           'while true; do sleep 0.2; done\'')


@pytest.fixture(scope='module')
def client_venv():
    return magnumclient.ClientVenv(tour21.VERSION).ensure()


@pytest.fixture(scope='module')
def magnum(keystone, docker_engine):
    with keystone_mod.magnum_behind(
            keystone, extra={'docker': {'stop_timeout': 1}}) as magnum:
        yield magnum


@pytest.fixture(scope='module')
def member(keystone, magnum, client_venv):
    person = tour21.person_with_cli(keystone, magnum, client_venv,
                                    'member', ['member'])
    yield person
    person.close()


@pytest.fixture(scope='module')
def bay(member, magnum, docker_engine):
    """A static docker bay on the engine, made with the 2.1.0 CLI."""
    cli = member.cli
    baymodel = processes.unique_name('ctour-bm')
    name = processes.unique_name('ctour-bay')
    cli.ok('baymodel-create', '--name', baymodel, '--coe', 'docker',
           *magnumclient.TOUR_REQUIRED,
           '--labels', 'docker_url=%s' % docker_engine.url)
    created = magnumclient.parse_properties(
        cli.ok('bay-create', '--name', name, '--baymodel', baymodel)
        .stdout)
    done = processes.wait_for_bay(member.api, magnum, created['uuid'],
                                  ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert done['status'] == 'CREATE_COMPLETE', done
    return done


def _status(member, name):
    return magnumclient.parse_properties(
        member.cli.ok('container-show', name).stdout)['status']


def test_container_tour(member, bay, docker_engine):
    cli = member.cli
    name = processes.unique_name('ctour')

    result = cli.ok('container-create', '--name', name, '--image', IMAGE,
                    '--bay', bay['name'], '--command', COMMAND,
                    '--memory', '64m')
    created = magnumclient.parse_properties(result.stdout)
    assert created['name'] == name, str(result)
    assert created['status'] == 'Stopped'
    assert created['bay_uuid'] == bay['uuid']
    assert created['memory'] == '64m'
    uuid = created['uuid']

    client = docker_engine.client()
    try:
        on_engine = client.containers.list(
            all=True, filters={'label': 'magnum.container.uuid=%s' % uuid})
        assert len(on_engine) == 1
        assert on_engine[0].attrs['HostConfig']['Memory'] == 64 * 1024 ** 2
    finally:
        client.close()

    rows = magnumclient.parse_table(cli.ok('container-list').stdout)
    assert {'uuid': uuid, 'name': name, 'status': 'Stopped',
            'bay_uuid': bay['uuid']} in rows
    rows = magnumclient.parse_table(
        cli.ok('container-list', '--bay', bay['name']).stdout)
    assert [row['uuid'] for row in rows] == [uuid]

    shown = magnumclient.parse_properties(
        cli.ok('container-show', name).stdout)
    assert shown['uuid'] == uuid
    assert shown['image'] == IMAGE

    cli.ok('container-start', name)
    assert _status(member, name) == 'Running'

    deadline = time.monotonic() + 10
    while 'hello from the tour' not in cli.ok('container-logs',
                                              name).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    result = cli.ok('container-exec', name, '--command', 'echo exec works')
    assert result.stdout.strip() == 'exec works', str(result)

    for command, status in [('container-pause', 'Paused'),
                            ('container-unpause', 'Running'),
                            ('container-reboot', 'Running'),
                            ('container-stop', 'Stopped')]:
        result = cli.ok(command, name)
        assert 'failed' not in result.stdout, str(result)
        assert _status(member, name) == status, command

    result = cli.ok('container-delete', name)
    assert 'Request to delete container %s has been accepted' % name in (
        result.stdout), str(result)
    assert name not in cli.ok('container-list').stdout


def test_cli_prints_the_engines_refusal(member, bay):
    name = processes.unique_name('cbad')
    member.cli.ok('container-create', '--name', name, '--image', IMAGE,
                  '--bay', bay['name'], '--command', 'nosuchcommand')
    # 2.1.0 prints an action's failure and exits 0.
    result = member.cli.run('container-start', name)
    assert 'Start for container %s failed' % name in result.stdout, (
        str(result))
    assert 'executable file not found' in result.stdout
    assert '(HTTP 400)' in result.stdout
    assert _status(member, name) == 'Error'
    member.cli.ok('container-delete', name)


def test_show_of_a_missing_container_says_not_found(member):
    result = member.cli.run('container-show', 'nosuchcontainer')
    assert result.returncode == 1, str(result)
    assert 'Container nosuchcontainer could not be found' in result.stderr
    assert '(HTTP 404)' in result.stderr
