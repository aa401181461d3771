"""Who may do what, with real Keystone tokens, and no secret ever leaks.

Four callers: a reader, a member and an admin of project A, and a member of
project B. Each tries every operation on BayModels (private and public),
Bays and the conductors list; ``EXPECTED`` holds every cell's status. Then
every response body and every line Magnum logged during the module is
scanned for the users' passwords and tokens and for PEM private keys.
"""

import glob
import os
import time

import pytest
import requests

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone]

CALLERS = ('reader_a', 'member_a', 'admin_a', 'member_b')
# operation: statuses for reader_a, member_a, admin_a, member_b
EXPECTED = {
    'baymodel.list': (200, 200, 200, 200),
    'baymodel.show': (200, 200, 200, 404),
    'baymodel.create': (403, 201, 201, 201),
    'baymodel.update': (403, 200, 200, 404),
    'baymodel.delete': (403, 204, 204, 404),
    'public.create': (403, 403, 201, 403),
    'public.show': (200, 200, 200, 200),
    'public.update': (403, 403, 200, 403),
    'public.delete': (403, 403, 204, 403),
    'bay.list': (200, 200, 200, 200),
    'bay.show': (200, 200, 200, 404),
    # B cannot see A's private BayModel: naming it is bad input.
    'bay.create': (403, 201, 201, 400),
    'bay.update': (403, 202, 202, 404),
    'bay.delete': (403, 204, 204, 404),
    'mservices.list': (403, 403, 200, 403),
}
MISSING_SOCKET = 'unix:///nonexistent/docker.sock'
SECRETS = []       # every password and token made here
BODIES = []        # every response body Magnum sent


class RecordingClient(processes.Client):
    def request(self, method, path, **kwargs):
        response = super().request(method, path, **kwargs)
        BODIES.append(response.text)
        return response


@pytest.fixture(scope='module')
def magnum(keystone):
    # debug: "never logged" holds at every level.
    with keystone_mod.magnum_behind(
            keystone, extra={'DEFAULT': {'debug': True}}) as magnum:
        yield magnum


@pytest.fixture(scope='module')
def clients(keystone, magnum):
    projects = {p: processes.unique_name('project-%s' % p) for p in 'ab'}
    ids = {p: keystone.create_project(name) for p, name in projects.items()}
    made = {}
    for caller in CALLERS:
        role, project = caller.split('_')
        name = processes.unique_name(caller)
        password = processes.unique_name('pw')
        keystone.create_user(name, password, ids[project], [role])
        token = keystone.token_for(name, password, projects[project])
        SECRETS.extend([password, token])
        made[caller] = RecordingClient(magnum,
                                       headers={'X-Auth-Token': token})
    yield made
    for client in made.values():
        client.close()


def _baymodel(client, **fields):
    body = {'coe': 'docker', 'name': processes.unique_name('bm'),
            'labels': {'docker_url': MISSING_SOCKET}}
    body.update(fields)
    response = client.post('/v1/baymodels', json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _settled_bay(client, baymodel):
    response = client.post('/v1/bays', json={
        'baymodel_id': baymodel['uuid'],
        'name': processes.unique_name('bay')})
    assert response.status_code == 201, response.text
    uuid = response.json()['uuid']
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.get('/v1/bays/%s' % uuid).json()['status']
        if not status.endswith('IN_PROGRESS'):
            return uuid
        time.sleep(0.2)
    raise AssertionError('bay %s did not settle' % uuid)


def _attempt(operation, caller, clients):
    """Run ``operation`` as ``caller`` on fresh rows; its HTTP status."""
    owner, admin = clients['member_a'], clients['admin_a']
    me = clients[caller]
    kind, action = operation.split('.')
    rename = [{'op': 'replace', 'path': '/name',
               'value': processes.unique_name('renamed')}]
    if kind == 'mservices':
        return me.get('/v1/mservices').status_code
    if kind in ('baymodel', 'public'):
        public = kind == 'public'
        if action == 'list':
            return me.get('/v1/baymodels').status_code
        if action == 'create':
            return me.post('/v1/baymodels', json={
                'coe': 'docker', 'public': public}).status_code
        row = _baymodel(admin if public else owner, public=public)
        path = '/v1/baymodels/%s' % row['uuid']
        status = {'show': lambda: me.get(path),
                  'update': lambda: me.patch(path, json=rename),
                  'delete': lambda: me.delete(path)}[action]().status_code
        if status >= 400:
            # Refused: the row is exactly as it was.
            assert admin.get(path).json()['name'] == row['name']
        return status
    baymodel = _baymodel(owner)
    if action == 'list':
        return me.get('/v1/bays').status_code
    if action == 'create':
        return me.post('/v1/bays', json={
            'baymodel_id': baymodel['uuid']}).status_code
    uuid = _settled_bay(owner, baymodel)
    path = '/v1/bays/%s' % uuid
    scale = [{'op': 'replace', 'path': '/node_count', 'value': 2}]
    status = {'show': lambda: me.get(path),
              'update': lambda: me.patch(path, json=scale),
              'delete': lambda: me.delete(path)}[action]().status_code
    if status >= 400:
        assert admin.get(path).json()['node_count'] == 1
    return status


@pytest.mark.parametrize('operation', sorted(EXPECTED))
def test_rbac_matrix(operation, clients):
    got = tuple(_attempt(operation, caller, clients) for caller in CALLERS)
    assert got == EXPECTED[operation], dict(zip(CALLERS, got))


def test_other_projects_private_rows_never_listed(clients):
    mine = _baymodel(clients['member_a'])
    listed = [m['uuid'] for m in clients['member_b'].get(
        '/v1/baymodels').json()['baymodels']]
    assert mine['uuid'] not in listed


@pytest.mark.parametrize('token', ['', 'garbage', 'revoked'])
def test_missing_garbage_or_revoked_token_is_401(token, keystone, magnum):
    if token == 'revoked':
        name, password = processes.unique_name('u'), processes.unique_name(
            'pw')
        project = processes.unique_name('p')
        keystone.create_user(name, password,
                             keystone.create_project(project), ['member'])
        token = keystone.token_for(name, password, project)
        SECRETS.extend([password, token])
        requests.delete(keystone.url + '/auth/tokens', timeout=30, headers={
            'X-Auth-Token': keystone.admin_session.get_token(),
            'X-Subject-Token': token}).raise_for_status()
    headers = {'X-Auth-Token': token} if token else {}
    response = RecordingClient(magnum, headers=headers).get('/v1/baymodels')
    assert response.status_code == 401
    assert 'error_message' in response.json()


def test_no_secret_in_any_response_or_log_line(magnum):
    """Runs last in this module: everything above has been recorded."""
    assert SECRETS and BODIES
    logs = []
    for path in glob.glob(os.path.join(magnum.work_dir, '*.log')):
        with open(path, errors='replace') as f:
            logs.append((os.path.basename(path), f.read()))
    assert logs
    for secret in SECRETS:
        # NOTE: the messages name where, never the secret itself.
        assert not any(secret in body for body in BODIES), (
            'a password or token is in a response body')
        for name, text in logs:
            assert secret not in text, 'a password or token is in ' + name
    for name, text in logs + [('a response', b) for b in BODIES]:
        assert 'PRIVATE KEY-----' not in text, 'a private key in ' + name
