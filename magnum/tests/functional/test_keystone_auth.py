"""magnum-api behind a real Keystone: tokens decide who sees what.

A real Keystone (``keystone.Keystone``, its own virtualenv, SQLite) and
magnum-api + magnum-conductor on PostgreSQL and RabbitMQ with
``auth_strategy = keystone``; keystonemiddleware validates every token with
the ``magnum`` service user. Two users in two projects are made through
Keystone's API. No assertion message ever holds a token or a password.
"""

import json

import pytest

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes
from magnum.tests.functional import test_fuzz

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone]

BAYMODELS = '/v1/baymodels'


@pytest.fixture(scope='module')
def magnum(keystone):
    with keystone_mod.magnum_behind(keystone) as magnum:
        yield magnum


class Person:
    """A user in a project of their own, with a fresh token."""

    def __init__(self, keystone, magnum, who):
        self.project = processes.unique_name('project-%s' % who)
        self.name = processes.unique_name('user-%s' % who)
        password = processes.unique_name('pw')
        self.project_id = keystone.create_project(self.project)
        self.user_id = keystone.create_user(self.name, password,
                                            self.project_id, ['member'])
        self.client = processes.Client(magnum, headers={
            'X-Auth-Token': keystone.token_for(self.name, password,
                                               self.project)})


@pytest.fixture(scope='module')
def people(keystone, magnum):
    a = Person(keystone, magnum, 'a')
    b = Person(keystone, magnum, 'b')
    yield a, b
    a.client.close()
    b.client.close()


@pytest.fixture(scope='module')
def baymodel_of_a(people):
    a, _ = people
    response = a.client.post(BAYMODELS, json={
        'coe': 'docker', 'name': processes.unique_name('bm-a')})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def anonymous(magnum):
    client = processes.Client(magnum)
    yield client
    client.close()


def _is_error_format(response):
    fault = json.loads(response.json()['error_message'])
    return bool(fault['faultstring'])


def test_version_documents_need_no_token(anonymous):
    for path in ('/', '/v1', '/v1/'):
        response = anonymous.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.json()


def test_no_token_is_401_in_the_error_format(anonymous, keystone):
    response = anonymous.get(BAYMODELS)
    assert response.status_code == 401, response.text
    assert _is_error_format(response), response.text
    # Where to get a token: the Keystone the service is configured with.
    assert keystone.url in response.headers.get('WWW-Authenticate', '')


def test_garbage_token_is_401(anonymous):
    response = anonymous.get(BAYMODELS,
                             headers={'X-Auth-Token': 'not-a-token'})
    assert response.status_code == 401, response.status_code
    assert _is_error_format(response), response.text


def test_create_takes_identity_from_the_token(people, baymodel_of_a):
    a, _ = people
    assert baymodel_of_a['project_id'] == a.project_id
    assert baymodel_of_a['user_id'] == a.user_id
    shown = a.client.get('%s/%s' % (BAYMODELS, baymodel_of_a['uuid']))
    assert shown.status_code == 200, shown.text
    listed = a.client.get(BAYMODELS).json()['baymodels']
    assert baymodel_of_a['uuid'] in [row['uuid'] for row in listed]


def test_another_project_sees_nothing(people, baymodel_of_a):
    _, b = people
    shown = b.client.get('%s/%s' % (BAYMODELS, baymodel_of_a['uuid']))
    assert shown.status_code == 404, shown.text
    assert _is_error_format(shown), shown.text
    listed = b.client.get(BAYMODELS)
    assert listed.status_code == 200, listed.text
    assert listed.json()['baymodels'] == []


def test_identity_headers_from_the_client_are_ignored(people, baymodel_of_a):
    a, b = people
    claimed = {'X-Project-Id': a.project_id, 'X-Tenant-Id': a.project_id,
               'X-User-Id': a.user_id, 'X-Roles': 'admin',
               'X-Identity-Status': 'Confirmed'}
    shown = b.client.get('%s/%s' % (BAYMODELS, baymodel_of_a['uuid']),
                         headers=claimed)
    assert shown.status_code == 404, shown.text
    listed = b.client.get(BAYMODELS, headers=claimed)
    assert listed.status_code == 200, listed.text
    assert listed.json()['baymodels'] == []
    # What B creates is B's, whatever the headers claim.
    created = b.client.post(BAYMODELS, headers=claimed, json={
        'coe': 'docker', 'name': processes.unique_name('bm-b')})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body['project_id'], body['user_id']) == (b.project_id, b.user_id)
    # And the claimed headers alone, without a token, get nowhere.
    anonymous = processes.Client(b.client.magnum, headers=claimed)
    try:
        response = anonymous.get(BAYMODELS)
        assert response.status_code == 401, response.status_code
    finally:
        anonymous.close()


def test_fuzzed_requests_behind_keystone(keystone, magnum):
    """Requests generated from /v1/openapi.json with a member's token:
    no 5xx, every refusal in the error form, refusals change nothing
    (test_fuzz.py says how)."""
    test_fuzz.behind_keystone(keystone, magnum)
