"""The real processes, end to end, in each way Magnum is deployed.

The same scenario runs against magnum-api + magnum-conductor on RabbitMQ
with PostgreSQL, the same on MariaDB, and magnum-all on SQLite with no
configuration file. A bay whose BayModel points the static provisioner at a
Docker socket that does not exist must reach CREATE_FAILED with the
endpoint's error: that proves the API's cast crossed the transport and the
conductor drove the provisioner.
"""

import os
import uuid

import pytest

from magnum.tests.functional import processes

DEPLOYMENTS = [
    pytest.param('postgresql', id='api+conductor-postgresql',
                 marks=[pytest.mark.postgresql, pytest.mark.rabbitmq]),
    pytest.param('mysql', id='api+conductor-mariadb',
                 marks=[pytest.mark.mysql, pytest.mark.rabbitmq]),
    pytest.param('all', id='magnum-all-sqlite'),
]
MISSING_SOCKET = 'unix:///nonexistent/docker.sock'
# Seconds for the conductor to finish a bay operation (it fails at once).


@pytest.fixture(scope='module', params=DEPLOYMENTS)
def magnum(request):
    with processes.deployment(request.param) as running:
        yield running


def create_baymodel(api, **fields):
    body = {'name': processes.unique_name('bm'), 'coe': 'docker',
            'labels': {'docker_url': MISSING_SOCKET}}
    body.update(fields)
    response = api.post('/v1/baymodels', json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_bay_lifecycle_crosses_rpc_to_the_conductor(api, magnum):
    baymodel = create_baymodel(api)

    response = api.post('/v1/bays', json={
        'name': processes.unique_name('bay'), 'baymodel_id': baymodel['name'],
        'node_count': 1})
    assert response.status_code == 201, response.text
    bay = response.json()
    assert bay['status'] == 'CREATE_IN_PROGRESS'
    assert bay['baymodel_id'] == baymodel['uuid']

    failed = processes.wait_for_bay(api, magnum, bay['uuid'],
                          ('CREATE_FAILED', 'CREATE_COMPLETE'))
    assert failed['status'] == 'CREATE_FAILED'
    assert MISSING_SOCKET in failed['status_reason']
    assert 'did not answer' in failed['status_reason']

    # The BayModel cannot go while the bay uses it.
    response = api.delete('/v1/baymodels/%s' % baymodel['uuid'])
    assert response.status_code == 409, response.text
    assert baymodel['uuid'] in processes.faultstring(response)

    # NOTE: at once, no retry: whoever sees the final status finds the bay
    # unlocked (the conductor frees it in the same UPDATE).
    response = api.patch(
        '/v1/bays/%s' % bay['uuid'],
        json=[{'op': 'replace', 'path': '/node_count', 'value': 2}])
    assert response.status_code == 202, response.text
    assert response.json()['status'] == 'UPDATE_IN_PROGRESS'
    assert response.json()['node_count'] == 2
    updated = processes.wait_for_bay(api, magnum, bay['uuid'],
                           ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    assert updated['status'] == 'UPDATE_FAILED'
    assert MISSING_SOCKET in updated['status_reason']
    assert updated['node_count'] == 2

    response = api.delete('/v1/bays/%s' % bay['name'])
    assert response.status_code == 204, response.text
    processes.wait_for_bay(api, magnum, bay['uuid'], (None,))
    listed = api.get('/v1/bays').json()['bays']
    assert bay['uuid'] not in [item['uuid'] for item in listed]

    response = api.delete('/v1/baymodels/%s' % baymodel['uuid'])
    assert response.status_code == 204, response.text
    assert api.get('/v1/baymodels/%s' % baymodel['uuid']).status_code == 404


def test_conductor_is_up_in_mservices(api, magnum):
    response = api.get('/v1/mservices')
    assert response.status_code == 200, response.text
    conductors = [row for row in response.json()['mservices']
                  if row['binary'] == 'magnum-conductor']
    hosts = getattr(magnum, 'conductor_hosts', None)
    if hosts:
        assert sorted(row['host'] for row in conductors) == sorted(hosts)
    assert conductors
    assert all(row['state'] == 'up' for row in conductors), conductors
    assert all(row['report_count'] >= 1 for row in conductors), conductors


@pytest.mark.parametrize('method, path, status', [
    ('GET', '/', 200),
    ('GET', '/v1', 200),
    ('GET', '/v1/bays', 200),
    ('GET', '/v1/bays/nosuchbay', 404),
    ('GET', '/v1/nosuchcollection', 404),
    ('POST', '/v1/baymodels', 400),
    ('PUT', '/v1/baymodels', 405),
    ('GET', '/healthcheck', 200),
])
def test_every_response_carries_a_request_id(api, method, path, status):
    # Client asserts the header on every answer.
    response = api.request(method, path)
    assert response.status_code == status, response.text


def test_request_ids_differ(api):
    first = api.get('/v1/bays').headers[processes.REQUEST_ID]
    second = api.get('/v1/bays').headers[processes.REQUEST_ID]
    assert first != second


@pytest.mark.parametrize('header, status, answered', [
    (None, 200, 'container-infra 1.1'),
    ('container-infra latest', 200, 'container-infra 1.14'),
    ('container-infra 1.1', 200, 'container-infra 1.1'),
    ('container-infra 9.9', 406, None),
])
def test_microversion_negotiation(api, header, status, answered):
    headers = {} if header is None else {'OpenStack-API-Version': header}
    response = api.get('/v1/baymodels', headers=headers)
    assert response.status_code == status, response.text
    assert response.headers['OpenStack-API-Minimum-Version'] == (
        'container-infra 1.1')
    assert response.headers['OpenStack-API-Maximum-Version'] == (
        'container-infra 1.14')
    if answered:
        assert response.headers['OpenStack-API-Version'] == answered
        assert 'baymodels' in response.json()
    else:
        assert '9.9' in processes.faultstring(response)


def test_healthcheck(api):
    response = api.get('/healthcheck')
    assert response.status_code == 200
    assert response.text.strip() == 'OK'


@pytest.fixture(scope='module')
def twenty_five_baymodels(magnum):
    client = processes.Client(magnum)
    made = [create_baymodel(client, name='page-%02d-%s' % (
        n, uuid.uuid4().hex[:4]))['uuid'] for n in range(25)]
    yield made
    for ident in made:
        client.delete('/v1/baymodels/%s' % ident)
    client.close()


@pytest.mark.parametrize('query', [
    'limit=10',
    'limit=10&sort_dir=desc',
    'limit=10&sort_key=name&sort_dir=desc',
    'limit=10&sort_key=coe',
    'limit=10&sort_key=created_at&sort_dir=desc',
    # Columns holding NULL or booleans: the marker's value needs care.
    'limit=10&sort_key=image_id',
    'limit=10&sort_key=image_id&sort_dir=desc',
    'limit=10&sort_key=public',
    'limit=10&sort_key=tls_disabled&sort_dir=desc',
])
@pytest.mark.parametrize('collection', ['baymodels', 'baymodels/detail'])
def test_pagination_returns_each_row_once(api, twenty_five_baymodels,
                                          collection, query):
    seen = []
    pages = []
    url = '/v1/%s?%s' % (collection, query)
    while url:
        assert len(pages) < 20, 'the next links never end: %s' % pages
        response = api.get(url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        rows = body['baymodels']
        assert len(rows) <= 10
        pages.append(len(rows))
        seen.extend(row['uuid'] for row in rows)
        url = body.get('next')
        if url:
            assert 'limit=10' in url and 'marker=' in url, url
    assert len(seen) == len(set(seen)), 'rows repeated: %s' % pages
    assert set(twenty_five_baymodels) <= set(seen)
    total = len(seen)
    assert pages == [10] * (total // 10) + ([total % 10] if total % 10
                                            else [])


def test_magnum_all_keeps_its_state_under_home(magnum):
    if not isinstance(magnum, processes.MagnumAll):
        pytest.skip('only magnum-all runs without a configuration file')
    # No configuration file: [DEFAULT] state_path is ~/.magnum.
    assert os.path.isfile(os.path.join(magnum.home, '.magnum',
                                       'magnum.sqlite'))
