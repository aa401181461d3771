"""Containers through real magnum-api and magnum-conductor processes, on a
static docker bay over a real, private Docker Engine (docker_engine.py).

The services run on PostgreSQL and RabbitMQ with ``auth_strategy =
noauth`` (identity from the X-Project-Id/X-User-Id/X-Roles headers), the
reconciler every second and ``[docker] stop_timeout = 1``. Every check of
the engine's side asks the engine itself (the Docker SDK on its socket).
"""

import time

import pytest

from magnum.tests.functional import db_servers
from magnum.tests.functional import processes

pytestmark = [pytest.mark.docker, pytest.mark.postgresql,
              pytest.mark.rabbitmq]

IMAGE = 'busybox:latest'
# PID 1 of a container ignores SIGTERM unless it handles it: this one
# does, so a stop takes no longer than the sleep it is in.
SERVE = ('sh -c \'trap "exit 0" TERM; echo hello from $GREETING; '
         'while true; do sleep 0.2; done\'')


def _headers(project, roles='member'):
    return {'X-Project-Id': project, 'X-User-Id': 'user-%s' % project,
            'X-Roles': roles}


@pytest.fixture(scope='module')
def magnum(docker_engine):
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(processes.MagnumServices(
                database.url, periodic_interval=1,
                extra={'docker': {'stop_timeout': 1}})) as magnum:
            yield magnum


@pytest.fixture(scope='module')
def engine(docker_engine):
    client = docker_engine.client()
    yield client
    client.close()


class Project:
    """One project's HTTP client and its static docker bay."""

    def __init__(self, magnum, url, name):
        self.name = name
        self.api = processes.Client(magnum, headers=_headers(name))
        baymodel = self.api.post('/v1/baymodels', json={
            'name': processes.unique_name('bm'), 'coe': 'docker',
            'labels': {'docker_url': url}})
        assert baymodel.status_code == 201, baymodel.text
        bay = self.api.post('/v1/bays', json={
            'name': processes.unique_name('bay'),
            'baymodel_id': baymodel.json()['uuid']})
        assert bay.status_code == 201, bay.text
        self.bay = processes.wait_for_bay(
            self.api, magnum, bay.json()['uuid'],
            ('CREATE_COMPLETE', 'CREATE_FAILED'))
        assert self.bay['status'] == 'CREATE_COMPLETE', self.bay

    def create(self, **values):
        body = {'name': processes.unique_name('c'), 'image': IMAGE,
                'command': SERVE, 'bay_uuid': self.bay['uuid']}
        body.update(values)
        return self.api.post('/v1/containers', json=body)

    def show(self, ident):
        response = self.api.get('/v1/containers/%s' % ident)
        assert response.status_code == 200, response.text
        return response.json()

    def act(self, ident, action, **kwargs):
        return self.api.request('PUT', '/v1/containers/%s/%s'
                                % (ident, action), **kwargs)

    def wait_for(self, ident, statuses, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            body = self.show(ident)
            if body['status'] in statuses:
                return body
            assert time.monotonic() < deadline, (
                'container %s is still %s, not %s' % (ident, body['status'],
                                                      statuses))
            time.sleep(0.1)


@pytest.fixture(scope='module')
def alice(magnum, docker_engine):
    project = Project(magnum, docker_engine.url, 'alice')
    yield project
    project.api.close()


@pytest.fixture(scope='module')
def bob(magnum, docker_engine):
    project = Project(magnum, docker_engine.url, 'bob')
    yield project
    project.api.close()


def _engine_container(engine, uuid):
    found = engine.containers.list(
        all=True, filters={'label': 'magnum.container.uuid=%s' % uuid})
    assert len(found) == 1, found
    return found[0]


def test_full_life(alice, engine):
    response = alice.create(environment={'GREETING': 'magnum'},
                            memory='64m', labels={'team': 'blue'})
    assert response.status_code == 201, response.text
    created = response.json()
    uuid = created['uuid']
    assert created['status'] == 'Stopped'
    assert created['environment'] == {'GREETING': '******'}

    on_engine = _engine_container(engine, uuid)
    assert on_engine.labels['magnum.project_id'] == 'alice'
    assert on_engine.labels['magnum.bay_uuid'] == alice.bay['uuid']
    assert on_engine.labels['team'] == 'blue'
    assert on_engine.status == 'created'

    response = alice.act(uuid, 'start')
    assert response.status_code == 200, response.text
    assert response.json()['status'] == 'Running'
    on_engine.reload()
    assert on_engine.status == 'running'

    deadline = time.monotonic() + 10
    while True:
        logs = alice.api.get('/v1/containers/%s/logs' % uuid)
        assert logs.status_code == 200, logs.text
        if 'hello from magnum' in logs.json()['output']:
            break
        assert time.monotonic() < deadline, logs.text
        time.sleep(0.1)

    response = alice.act(created['name'], 'execute',
                         params={'command': 'echo out of $0 here'})
    assert response.status_code == 200, response.text
    # No shell splits the words of an exec: $0 stays as it is.
    assert response.json()['output'] == 'out of $0 here\n'
    assert response.json()['exit_code'] == 0

    for action, status, state in [('pause', 'Paused', 'paused'),
                                  ('unpause', 'Running', 'running'),
                                  ('reboot', 'Running', 'running'),
                                  ('stop', 'Stopped', 'exited')]:
        response = alice.act(uuid, action)
        assert response.status_code == 200, (action, response.text)
        assert response.json()['status'] == status, action
        on_engine.reload()
        assert on_engine.status == state, action

    response = alice.api.delete('/v1/containers/%s' % uuid)
    assert response.status_code == 204, response.text
    assert alice.api.get('/v1/containers/%s' % uuid).status_code == 404
    assert engine.containers.list(
        all=True, filters={'label': 'magnum.container.uuid=%s' % uuid}) == []


def test_delete_of_a_running_container_stops_it(alice, engine):
    uuid = alice.create().json()['uuid']
    assert alice.act(uuid, 'start').status_code == 200
    response = alice.api.delete('/v1/containers/%s' % uuid)
    assert response.status_code == 204, response.text
    assert engine.containers.list(
        all=True, filters={'label': 'magnum.container.uuid=%s' % uuid}) == []


def test_memory_is_enforced_by_the_engine(alice, engine):
    uuid = alice.create(memory='64m').json()['uuid']
    inspected = engine.api.inspect_container(
        _engine_container(engine, uuid).id)
    assert inspected['HostConfig']['Memory'] == 64 * 1024 ** 2
    alice.api.delete('/v1/containers/%s' % uuid)


def test_memory_over_the_hosts_is_400(alice, engine):
    total = engine.info()['MemTotal']
    response = alice.create(memory='%dk' % (total // 1024 + 1024))
    assert response.status_code == 400, response.text
    assert 'memory' in processes.faultstring(response)
    assert str(total) in processes.faultstring(response)


def test_memory_under_the_engines_minimum_is_its_400(alice):
    response = alice.create(memory='1m')
    assert response.status_code == 400, response.text
    # The engine's own words.
    assert 'Minimum memory limit allowed is' in processes.faultstring(
        response)


def test_missing_image_is_error_with_the_engines_message(alice):
    response = alice.create(image='nosuchimage:1.0')
    assert response.status_code == 201, response.text
    assert response.json()['status'] == 'Creating'
    done = alice.wait_for(response.json()['uuid'], ('Error', 'Stopped'))
    assert done['status'] == 'Error', done
    # Nothing is pulled here: the engine says why it could not pull.
    assert 'nosuchimage' in done['status_reason']
    assert alice.bay['uuid'] in done['status_reason']
    assert alice.api.delete('/v1/containers/%s'
                            % done['uuid']).status_code == 204


def test_bad_command_is_400_with_the_engines_message(alice):
    uuid = alice.create(command='nosuchcommand --flag').json()['uuid']
    response = alice.act(uuid, 'start')
    assert response.status_code == 400, response.text
    assert 'executable file not found' in processes.faultstring(response)
    shown = alice.show(uuid)
    assert shown['status'] == 'Error'
    assert 'executable file not found' in shown['status_reason']
    assert alice.api.delete('/v1/containers/%s' % uuid).status_code == 204


def test_killed_behind_magnums_back_shows_stopped(alice, engine):
    uuid = alice.create().json()['uuid']
    alice.act(uuid, 'start')
    _engine_container(engine, uuid).kill()
    shown = alice.wait_for(uuid, ('Stopped',))
    assert 'Exited' in shown['status_reason']
    alice.api.delete('/v1/containers/%s' % uuid)


def test_removed_behind_magnums_back_shows_unknown(alice, engine):
    uuid = alice.create().json()['uuid']
    alice.act(uuid, 'start')
    _engine_container(engine, uuid).remove(force=True)
    shown = alice.wait_for(uuid, ('Unknown',))
    assert 'removed outside Magnum' in shown['status_reason']
    response = alice.act(uuid, 'start')
    assert response.status_code == 409, response.text
    # It can be deleted; only its row was left.
    assert alice.api.delete('/v1/containers/%s' % uuid).status_code == 204


def test_two_projects_are_isolated(alice, bob, engine):
    mine = alice.create().json()
    theirs = bob.create().json()
    assert mine['bay_uuid'] != theirs['bay_uuid']

    listed = [c['uuid'] for c in alice.api.get(
        '/v1/containers').json()['containers']]
    assert mine['uuid'] in listed and theirs['uuid'] not in listed
    listed = [c['uuid'] for c in bob.api.get(
        '/v1/containers/detail').json()['containers']]
    assert theirs['uuid'] in listed and mine['uuid'] not in listed

    for method, path in [
            ('GET', '/v1/containers/%s' % mine['uuid']),
            ('GET', '/v1/containers/%s/logs' % mine['uuid']),
            ('PUT', '/v1/containers/%s/start' % mine['uuid']),
            ('DELETE', '/v1/containers/%s' % mine['uuid'])]:
        assert bob.api.request(method, path).status_code == 404, path
    # Nor may bob put a container on alice's bay.
    response = bob.create(bay_uuid=alice.bay['uuid'])
    assert response.status_code == 400, response.text

    labels = _engine_container(engine, theirs['uuid']).labels
    assert labels['magnum.project_id'] == 'bob'
    for c in (mine, theirs):
        owner = alice if c is mine else bob
        assert owner.api.delete('/v1/containers/%s'
                                % c['uuid']).status_code == 204


def test_kubernetes_bay_is_400(alice, magnum):
    baymodel = alice.api.post('/v1/baymodels', json={
        'name': processes.unique_name('kbm'), 'coe': 'kubernetes',
        'labels': {'kube_api_url': 'http://127.0.0.1:1'}}).json()
    bay = alice.api.post('/v1/bays', json={
        'name': processes.unique_name('kbay'),
        'baymodel_id': baymodel['uuid']}).json()
    processes.wait_for_bay(alice.api, magnum, bay['uuid'],
                           ('CREATE_FAILED', 'CREATE_COMPLETE'))
    response = alice.create(bay_uuid=bay['uuid'])
    assert response.status_code == 400, response.text
    assert 'kubernetes' in processes.faultstring(response)


def test_stopped_engine_is_503_naming_the_bay(magnum, docker_engine):
    # A bay of its own on an engine that then goes away.
    from magnum.tests.functional import docker_engine as engine_mod
    with processes.running(engine_mod.DockerEngine()) as doomed:
        carol = Project(magnum, doomed.url, 'carol')
        uuid = carol.create().json()['uuid']
    response = carol.act(uuid, 'start')
    assert response.status_code == 503, response.text
    assert carol.bay['uuid'] in processes.faultstring(response)
    carol.api.close()
