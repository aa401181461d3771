"""A sweep of bad input against the real API: always a 4xx, never a 500.

Runs against one magnum-api + magnum-conductor pair on PostgreSQL and
RabbitMQ: PostgreSQL is the strictest backend here (it refuses what SQLite
silently stores: over-long strings, NUL characters), so a check the API
forgot shows up as a 500.

Every case must answer with the expected 4xx whose ``faultstring`` names
the field or the problem, and must change nothing: the detailed lists of
BayModels and Bays (every field, ``updated_at`` included) are the same
before and after.
"""

import collections
import json
import time
import uuid

import pytest

from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq]

MISSING_UUID = '6b9e1b5e-1d2c-4b8a-9a3e-0d7f1c2b3a4d'
SIZE_LIMIT = 114688   # oslo.middleware's max_request_body_size default
SETTLE = 30

Case = collections.namedtuple(
    'Case', 'method path body status words headers', defaults=(None,))


class Raw(bytes):
    """A body sent as these exact bytes (not JSON-encoded)."""


NO_BODY = object()


CASES = {}


def case(name, method, path, body, status, words, headers=None, marks=()):
    assert name not in CASES, name
    CASES[name] = pytest.param(
        Case(method, path, body, status, words, headers), id=name,
        marks=marks)


def bm(**fields):
    """A BayModel create body: a valid one, changed by ``fields``."""
    return dict({'coe': 'docker'}, **fields)


def bay(**fields):
    return dict({'baymodel_id': '{baymodel}'}, **fields)


def patch(path, value=NO_BODY, op='replace'):
    operation = {'op': op, 'path': path}
    if value is not NO_BODY:
        operation['value'] = value
    return [operation]


BAYMODELS = '/v1/baymodels'
BAYS = '/v1/bays'
BAY = '/v1/bays/{bay}'
FREE_BAYMODEL = '/v1/baymodels/{free_baymodel}'

# -- BayModel create: wrong types -----------------------------------------
case('bm-coe-int', 'POST', BAYMODELS, bm(coe=5), 400, ['coe'])
case('bm-coe-unknown', 'POST', BAYMODELS, bm(coe='nosuchcoe'), 400,
     ['coe', 'nosuchcoe'])
case('bm-coe-missing', 'POST', BAYMODELS, {'name': 'no-coe'}, 400,
     ['coe', 'required'])
case('bm-coe-null', 'POST', BAYMODELS, bm(coe=None), 400,
     ['coe', 'required'])
case('bm-public-maybe', 'POST', BAYMODELS, bm(public='maybe'), 400,
     ['public', 'maybe'])
case('bm-public-list', 'POST', BAYMODELS, bm(public=[]), 400, ['public'])
case('bm-tls-disabled-maybe', 'POST', BAYMODELS, bm(tls_disabled='maybe'),
     400, ['tls_disabled'])
case('bm-labels-object-value', 'POST', BAYMODELS, bm(labels={'a': {}}),
     400, ['labels'])
case('bm-labels-list-value', 'POST', BAYMODELS, bm(labels={'a': ['x']}),
     400, ['labels'])
case('bm-labels-null-value', 'POST', BAYMODELS, bm(labels={'a': None}), 400,
     ['labels'])
case('bm-labels-string', 'POST', BAYMODELS, bm(labels='x'), 400, ['labels'])
case('bm-labels-list', 'POST', BAYMODELS, bm(labels=['a']), 400, ['labels'])
case('bm-name-int', 'POST', BAYMODELS, bm(name=5), 400, ['name'])
case('bm-name-empty', 'POST', BAYMODELS, bm(name=''), 400, ['name'])
case('bm-image-id-int', 'POST', BAYMODELS, bm(image_id=5), 400,
     ['image_id'])
case('bm-server-type-unknown', 'POST', BAYMODELS, bm(server_type='vax'),
     400, ['server_type', 'vax'])
case('bm-dns-int', 'POST', BAYMODELS, bm(dns_nameserver=5), 400,
     ['dns_nameserver'])
case('bm-docker-volume-size-abc', 'POST', BAYMODELS,
     bm(docker_volume_size='abc'), 400, ['docker_volume_size'])
case('bm-docker-volume-size-float', 'POST', BAYMODELS,
     bm(docker_volume_size=1.5), 400, ['docker_volume_size'])
case('bm-docker-volume-size-bool', 'POST', BAYMODELS,
     bm(docker_volume_size=True), 400, ['docker_volume_size'])
case('bm-docker-volume-size-infinity', 'POST', BAYMODELS,
     Raw(b'{"coe": "docker", "docker_volume_size": Infinity}'), 400,
     ['docker_volume_size'])
case('bm-apiserver-port-1e400', 'POST', BAYMODELS,
     Raw(b'{"coe": "docker", "apiserver_port": 1e400}'), 400,
     ['apiserver_port'])
case('bm-docker-volume-size-nan', 'POST', BAYMODELS,
     Raw(b'{"coe": "docker", "docker_volume_size": NaN}'), 400,
     ['docker_volume_size'])

# -- BayModel create: out of range ----------------------------------------
for value in (80, 1023, 65536, 70000, 0, -1):
    case('bm-apiserver-port-%s' % value, 'POST', BAYMODELS,
         bm(apiserver_port=value), 400, ['apiserver_port'])
for value in (0, -1, 10 ** 12):
    case('bm-docker-volume-size-%s' % value, 'POST', BAYMODELS,
         bm(docker_volume_size=value), 400, ['docker_volume_size'])

# -- BayModel create: bad strings -----------------------------------------
for name, value in [('three-octets', '1.2.3'), ('octet-256', '8.8.8.256'),
                    ('hostname', 'dns.example.com'), ('ipv6', '::1'),
                    ('empty', ''), ('cidr', '8.8.8.0/24')]:
    case('bm-dns-%s' % name, 'POST', BAYMODELS, bm(dns_nameserver=value),
         400, ['dns_nameserver'])
case('bm-name-uuid', 'POST', BAYMODELS, bm(name=MISSING_UUID), 400,
     ['name', 'UUID'])
case('bm-name-uuid-hex', 'POST', BAYMODELS,
     bm(name=MISSING_UUID.replace('-', '').upper()), 400, ['name', 'UUID'])
case('bm-name-256', 'POST', BAYMODELS, bm(name='n' * 256), 400, ['name'])
for field in ('image_id', 'flavor_id', 'master_flavor_id', 'keypair_id',
              'external_network_id', 'fixed_network', 'fixed_subnet',
              'network_driver', 'volume_driver', 'docker_storage_driver',
              'cluster_distro', 'http_proxy', 'https_proxy',
              'insecure_registry', 'tags'):
    case('bm-%s-256' % field.replace('_', '-'), 'POST', BAYMODELS,
         bm(**{field: 'x' * 256}), 400, [field])
case('bm-no-proxy-1025', 'POST', BAYMODELS, bm(no_proxy='x' * 1025), 400,
     ['no_proxy'])
case('bm-name-nul', 'POST', BAYMODELS, bm(name='a\x00b'), 400, ['name'])
case('bm-image-id-nul', 'POST', BAYMODELS, bm(image_id='a\x00b'), 400,
     ['image_id'])
case('bm-name-lone-surrogate', 'POST', BAYMODELS,
     Raw(b'{"coe": "docker", "name": "\\ud800"}'), 400, ['name'])
case('bm-labels-docker-url-ftp', 'POST', BAYMODELS,
     bm(labels={'docker_url': 'ftp://example'}), 400, ['labels.docker_url'])
case('bm-labels-kube-api-url-unix', 'POST', BAYMODELS,
     bm(coe='kubernetes', labels={'kube_api_url': 'unix:///x.sock'}), 400,
     ['labels.kube_api_url'])
case('bm-labels-provisioner-unknown', 'POST', BAYMODELS,
     bm(labels={'provisioner': 'nosuch'}), 400,
     ['labels.provisioner', 'nosuch'])

# -- BayModel create: unknown and read-only fields ------------------------
for field, value in [('flavour', 'm1.small'), ('uuid', MISSING_UUID),
                     ('id', 1), ('project_id', 'p'), ('user_id', 'u'),
                     ('created_at', '2020-01-01T00:00:00'), ('links', [])]:
    case('bm-field-%s' % field.replace('_', '-'), 'POST', BAYMODELS,
         bm(**{field: value}), 400, [field])

# -- request bodies -------------------------------------------------------
for name, raw, words in [
        ('bad-json', b'{"coe": ', ['JSON']),
        ('trailing-garbage', b'{"coe": "docker"} x', ['JSON']),
        ('list', b'[]', ['object']),
        ('list-of-object', b'[{"coe": "docker"}]', ['object']),
        ('string', b'"docker"', ['object']),
        ('number', b'5', ['object']),
        ('null', b'null', ['object']),
        ('empty', b'', ['body'])]:
    case('body-%s' % name, 'POST', BAYMODELS, Raw(raw), 400, words)
case('body-deep-nesting', 'POST', BAYMODELS, Raw(b'[' * 100000), 400,
     ['JSON'])
case('body-deep-nesting-text-plain', 'POST', BAYMODELS, Raw(b'[' * 100000),
     400, ['JSON'], headers={'Content-Type': 'text/plain'})
case('body-not-utf8', 'POST', BAYMODELS, Raw(b'{"coe": "\xff\xfe"}'), 400,
     ['UTF-8'])
# NOTE: a bad boundary was a 500 (pecan parsed the form while routing).
case('body-multipart', 'POST', BAYMODELS, Raw(b'\xa5\x01'), 415,
     ['JSON', 'multipart/form-data'],
     headers={'Content-Type': 'multipart/form-data'})
case('body-too-large', 'POST', BAYMODELS,
     bm(labels={'big': 'x' * SIZE_LIMIT}), 413, ['too large'])
case('body-too-large-patch', 'PATCH', FREE_BAYMODEL,
     patch('/labels', {'big': 'x' * SIZE_LIMIT}), 413, ['too large'])
case('body-bad-version', 'POST', BAYMODELS, bm(name='bad-version'), 406,
     ['9.9'], headers={'OpenStack-API-Version': 'container-infra 9.9'})
case('body-bad-version-syntax', 'POST', BAYMODELS, bm(name='bad-version'),
     406, ['abc'], headers={'OpenStack-API-Version': 'container-infra abc'})

# -- Bay create -----------------------------------------------------------
for value in ('abc', 0, -1, 10 ** 12, 100001):
    case('bay-node-count-%s' % value, 'POST', BAYS, bay(node_count=value),
         400, ['node_count'])
case('bay-node-count-float', 'POST', BAYS, bay(node_count=1.5), 400,
     ['node_count'])
case('bay-node-count-bool', 'POST', BAYS, bay(node_count=True), 400,
     ['node_count'])
case('bay-node-count-list', 'POST', BAYS, bay(node_count=[1]), 400,
     ['node_count'])
for value in (-1, 0, 101, 'x'):
    case('bay-master-count-%s' % value, 'POST', BAYS,
         bay(master_count=value), 400, ['master_count'])
for value in (-5, 'abc', 10 ** 12):
    case('bay-create-timeout-%s' % value, 'POST', BAYS,
         bay(bay_create_timeout=value), 400, ['bay_create_timeout'])
case('bay-baymodel-id-missing', 'POST', BAYS, {'name': 'b'}, 400,
     ['baymodel_id', 'required'])
case('bay-baymodel-id-null', 'POST', BAYS, {'baymodel_id': None}, 400,
     ['baymodel_id', 'required'])
case('bay-baymodel-id-unknown-uuid', 'POST', BAYS,
     {'baymodel_id': MISSING_UUID}, 400, ['baymodel_id', MISSING_UUID])
case('bay-baymodel-id-unknown-name', 'POST', BAYS,
     {'baymodel_id': 'nosuchbaymodel'}, 400,
     ['baymodel_id', 'nosuchbaymodel'])
case('bay-baymodel-id-int', 'POST', BAYS, {'baymodel_id': 5}, 400,
     ['baymodel_id'])
case('bay-baymodel-id-256', 'POST', BAYS, {'baymodel_id': 'b' * 256}, 400,
     ['baymodel_id'])
case('bay-name-uuid', 'POST', BAYS, bay(name=MISSING_UUID), 400,
     ['name', 'UUID'])
case('bay-name-256', 'POST', BAYS, bay(name='b' * 256), 400, ['name'])
case('bay-name-leading-digit', 'POST', BAYS, bay(name='1bay'), 400,
     ['name'])
case('bay-name-space', 'POST', BAYS, bay(name='my bay'), 400, ['name'])
case('bay-name-int', 'POST', BAYS, bay(name=5), 400, ['name'])
case('bay-discovery-url-not-url', 'POST', BAYS,
     bay(discovery_url='not a url'), 400, ['discovery_url'])
case('bay-discovery-url-ftp', 'POST', BAYS,
     bay(discovery_url='ftp://example.com/x'), 400, ['discovery_url'])
case('bay-discovery-url-256', 'POST', BAYS,
     bay(discovery_url='https://example.com/' + 'x' * 240), 400,
     ['discovery_url'])
for field, value in [('nosuchfield', 1), ('status', 'CREATE_COMPLETE'),
                     ('uuid', MISSING_UUID), ('api_address', 'http://x'),
                     ('node_addresses', []), ('project_id', 'p'),
                     ('stack_id', 's')]:
    case('bay-field-%s' % field.replace('_', '-'), 'POST', BAYS,
         bay(**{field: value}), 400, [field])
case('bay-body-list', 'POST', BAYS, Raw(b'[]'), 400, ['object'])
case('bay-body-empty', 'POST', BAYS, Raw(b''), 400, ['body'])

# -- Bay PATCH: only node_count changes ----------------------------------
for path in ('/uuid', '/id', '/created_at', '/updated_at', '/project_id',
             '/user_id', '/status', '/status_reason', '/api_address',
             '/node_addresses', '/master_addresses', '/links',
             '/baymodel_id', '/name', '/master_count', '/stack_id',
             '/bay_create_timeout', '/discovery_url', '/nosuchfield'):
    case('bay-patch-%s' % path.strip('/').replace('_', '-'), 'PATCH', BAY,
         patch(path, 'x'), 400, [path])
case('bay-patch-remove-uuid', 'PATCH', BAY, patch('/uuid', op='remove'),
     400, ['/uuid'])
for name, path in [('root', '/'), ('no-slash', 'nopath'), ('empty', ''),
                   ('double-slash', '//node_count'),
                   ('trailing-slash', '/node_count/')]:
    case('bay-patch-path-%s' % name, 'PATCH', BAY, patch(path, 2), 400,
         ['path'])
case('bay-patch-path-missing', 'PATCH', BAY, [{'op': 'replace', 'value': 2}],
     400, ['path'])
case('bay-patch-path-int', 'PATCH', BAY,
     [{'op': 'replace', 'path': 5, 'value': 2}], 400, ['path'])
case('bay-patch-path-into-int', 'PATCH', BAY, patch('/node_count/x', 2), 400,
     ['index'])
for op in ('move', 'copy', 'test', 'REPLACE', 5):
    case('bay-patch-op-%s' % op, 'PATCH', BAY,
         [{'op': op, 'path': '/node_count', 'from': '/node_count',
           'value': 2}], 400, ['op'])
case('bay-patch-op-missing', 'PATCH', BAY,
     [{'path': '/node_count', 'value': 2}], 400, ['op'])
case('bay-patch-value-missing', 'PATCH', BAY, patch('/node_count'), 400,
     ['value'])
for name, value in [('abc', 'abc'), ('0', 0), ('-1', -1),
                    ('10e12', 10 ** 12), ('list', [2]), ('object', {'n': 2})]:
    case('bay-patch-node-count-%s' % name, 'PATCH', BAY,
         patch('/node_count', value), 400, ['node_count'])
case('bay-patch-node-count-null', 'PATCH', BAY, patch('/node_count', None),
     400, ['node_count', 'required'])
case('bay-patch-node-count-remove', 'PATCH', BAY,
     patch('/node_count', op='remove'), 400, ['node_count'])
case('bay-patch-node-count-bool', 'PATCH', BAY, patch('/node_count', True),
     400, ['node_count'])
case('bay-patch-node-count-float', 'PATCH', BAY, patch('/node_count', 2.5),
     400, ['node_count'])
for name, raw, words in [('object', b'{"op": "replace"}', ['list']),
                         ('empty-list', b'[]', ['list']),
                         ('list-of-string', b'["x"]', ['object']),
                         ('bad-json', b'[{"op": ', ['JSON']),
                         ('empty', b'', ['body'])]:
    case('bay-patch-body-%s' % name, 'PATCH', BAY, Raw(raw), 400, words)
case('bay-patch-missing-bay', 'PATCH', '/v1/bays/nosuchbay',
     patch('/node_count', 2), 404, ['nosuchbay'])

# -- BayModel PATCH -------------------------------------------------------
for path in ('/uuid', '/id', '/created_at', '/updated_at', '/project_id',
             '/user_id', '/links', '/nosuchfield'):
    case('bm-patch-%s' % path.strip('/').replace('_', '-'), 'PATCH',
         FREE_BAYMODEL, patch(path, 'x'), 400, [path])
for name, body, words in [
        ('coe-unknown', patch('/coe', 'nosuchcoe'), ['coe', 'nosuchcoe']),
        ('coe-remove', patch('/coe', op='remove'), ['coe', 'required']),
        ('coe-null', patch('/coe', None), ['coe', 'required']),
        ('apiserver-port-80', patch('/apiserver_port', 80),
         ['apiserver_port']),
        ('apiserver-port-70000', patch('/apiserver_port', 70000),
         ['apiserver_port']),
        ('docker-volume-size-0', patch('/docker_volume_size', 0),
         ['docker_volume_size']),
        ('docker-volume-size-abc', patch('/docker_volume_size', 'abc'),
         ['docker_volume_size']),
        ('dns-bad', patch('/dns_nameserver', '1.2.3'), ['dns_nameserver']),
        ('labels-string', patch('/labels', 'x'), ['labels']),
        ('labels-list-value', patch('/labels/a', ['x'], op='add'),
         ['labels']),
        ('labels-docker-url-ftp', patch('/labels/docker_url', 'ftp://x',
                                        op='add'), ['labels.docker_url']),
        ('name-uuid', patch('/name', MISSING_UUID), ['name', 'UUID']),
        ('name-256', patch('/name', 'n' * 256), ['name']),
        ('public-maybe', patch('/public', 'maybe'), ['public']),
        ('server-type-unknown', patch('/server_type', 'vax'),
         ['server_type']),
        ('image-id-256', patch('/image_id', 'x' * 256), ['image_id']),
        ('op-move', [{'op': 'move', 'from': '/image_id',
                      'path': '/flavor_id'}], ['move']),
        ('value-missing', patch('/image_id'), ['value']),
        ('path-root', patch('/', 'x'), ['path'])]:
    case('bm-patch-%s' % name, 'PATCH', FREE_BAYMODEL, body, 400, words)
case('bm-patch-labels-null-value', 'PATCH', FREE_BAYMODEL,
     patch('/labels/a', None, op='add'), 400, ['labels'])
case('bm-patch-body-object', 'PATCH', FREE_BAYMODEL,
     Raw(b'{"op": "replace", "path": "/name", "value": "x"}'), 400,
     ['list'])

# -- query parameters -----------------------------------------------------
for collection in ('baymodels', 'bays', 'bays/detail', 'mservices'):
    prefix = 'query-%s-' % collection.replace('/', '-')
    for value in ('0', '-1', 'x', '1.5'):
        case(prefix + 'limit-%s' % value, 'GET',
             '/v1/%s?limit=%s' % (collection, value), None, 400, ['limit'])
    case(prefix + 'marker-not-uuid', 'GET',
         '/v1/%s?marker=notauuid' % collection, None, 400, ['marker'])
    case(prefix + 'sort-key-unknown', 'GET',
         '/v1/%s?sort_key=nosuchkey' % collection, None, 400,
         ['sort_key', 'nosuchkey'])
    case(prefix + 'sort-dir-up', 'GET', '/v1/%s?sort_dir=up' % collection,
         None, 400, ['sort_dir', 'up'])
    case(prefix + 'unknown-parameter', 'GET',
         '/v1/%s?colour=blue' % collection, None, 400, ['colour'])
case('query-baymodels-limit-repeated', 'GET', '/v1/baymodels?limit=1&limit=2',
     None, 400, ['limit'])
case('query-bays-sort-dir-repeated', 'GET',
     '/v1/bays?sort_dir=asc&sort_dir=desc', None, 400, ['sort_dir'])
case('query-baymodels-marker-missing', 'GET',
     '/v1/baymodels?marker=%s' % MISSING_UUID, None, 400,
     ['marker', MISSING_UUID])
case('query-bays-marker-missing', 'GET', '/v1/bays?marker=%s' % MISSING_UUID,
     None, 400, ['marker', MISSING_UUID])
case('query-mservices-marker-missing', 'GET', '/v1/mservices?marker=99999',
     None, 400, ['marker'])
case('query-baymodels-sort-key-labels', 'GET', '/v1/baymodels?sort_key=labels',
     None, 400, ['sort_key', 'labels'])
case('query-bays-sort-key-node-addresses', 'GET',
     '/v1/bays?sort_key=node_addresses', None, 400, ['sort_key'])
case('query-item-unknown-parameter', 'GET', BAY + '?colour=blue', None, 400,
     ['colour'])

# -- addressing -----------------------------------------------------------
case('item-missing-bay', 'GET', '/v1/bays/nosuchbay', None, 404,
     ['nosuchbay'])
case('item-missing-bay-uuid', 'GET', '/v1/bays/%s' % MISSING_UUID, None, 404,
     [MISSING_UUID])
case('item-missing-baymodel', 'GET', '/v1/baymodels/nosuchbaymodel', None,
     404, ['nosuchbaymodel'])
case('item-ident-256', 'GET', '/v1/bays/' + 'x' * 256, None, 404,
     ['could not be found'])
case('item-ident-nul', 'GET', '/v1/bays/a%00b', None, 404, ['not be found'])
case('delete-missing-bay', 'DELETE', '/v1/bays/nosuchbay', None, 404,
     ['nosuchbay'])
case('delete-missing-baymodel', 'DELETE', '/v1/baymodels/%s' % MISSING_UUID,
     None, 404, [MISSING_UUID])
case('delete-collection', 'DELETE', BAYMODELS, None, 405, ['DELETE'])
case('patch-collection', 'PATCH', BAYS, patch('/node_count', 2), 405,
     ['PATCH'])
case('put-item', 'PUT', BAY, {'node_count': 2}, 405, ['PUT'])


# -- fixtures and the test ------------------------------------------------

@pytest.fixture(scope='module')
def magnum():
    with processes.deployment('postgresql') as running:
        yield running


@pytest.fixture(scope='module')
def api(magnum):
    client = processes.Client(magnum)
    yield client
    client.close()


def _settle(api, ident):
    """Wait until the bay is in no *_IN_PROGRESS state (or gone)."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        response = api.get('/v1/bays/%s' % ident)
        if (response.status_code == 404
                or not response.json()['status'].endswith('IN_PROGRESS')):
            return
        time.sleep(0.1)
    pytest.fail('bay %s is still in progress after %ds' % (ident, SETTLE))


@pytest.fixture(scope='module')
def targets(api):
    """The rows the cases point at: a BayModel in use by a bay (settled in
    CREATE_FAILED: nothing happens to it on its own) and a free BayModel.
    """
    def create(path, body):
        response = api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()['uuid']

    used = create(BAYMODELS, bm(name='used-%s' % uuid.uuid4().hex[:8],
                                labels={'docker_url': 'unix:///no.sock'}))
    free = create(BAYMODELS, bm(name='free-%s' % uuid.uuid4().hex[:8],
                                labels={'docker_url': 'unix:///no.sock'}))
    bay_uuid = create(BAYS, {'baymodel_id': used,
                             'name': 'target-%s' % uuid.uuid4().hex[:8]})
    _settle(api, bay_uuid)
    return {'baymodel': used, 'free_baymodel': free, 'bay': bay_uuid}


def _fill(value, targets):
    if isinstance(value, Raw):
        return value
    if isinstance(value, str):
        return value.format(**targets) if '{' in value else value
    if isinstance(value, list):
        return [_fill(item, targets) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, targets) for key, item in value.items()}
    return value


def snapshot(api):
    """Every field of every BayModel and Bay."""
    state = {}
    for collection in ('baymodels', 'bays'):
        response = api.get('/v1/%s/detail' % collection)
        assert response.status_code == 200, response.text
        state[collection] = sorted(response.json()[collection],
                                   key=lambda row: row['uuid'])
    return state


def _undo(api, method, path, response):
    """Clean up after a case the server wrongly accepted, so that the
    conductor's work on it cannot show up in the next case's snapshot.
    """
    if method == 'POST' and path == BAYS:
        ident = response.json()['uuid']
        _settle(api, ident)
        api.delete('/v1/bays/%s' % ident)
        _settle(api, ident)
        deadline = time.monotonic() + SETTLE
        while (api.get('/v1/bays/%s' % ident).status_code != 404
               and time.monotonic() < deadline):
            time.sleep(0.1)
    elif method == 'POST' and path == BAYMODELS:
        api.delete('/v1/baymodels/%s' % response.json()['uuid'])
    elif path.startswith('/v1/bays/'):
        _settle(api, path.rsplit('/', 1)[1])


@pytest.mark.parametrize('case', CASES.values())
def test_bad_input_is_a_4xx_naming_the_problem(api, targets, case):
    path = _fill(case.path, targets)
    headers = dict(case.headers or {})
    if case.body is None:
        data = None
    elif isinstance(case.body, Raw):
        data = bytes(case.body)
        headers.setdefault('Content-Type', 'application/json')
    else:
        data = json.dumps(_fill(case.body, targets))
        headers.setdefault('Content-Type', 'application/json')

    before = snapshot(api)
    response = api.request(case.method, path, data=data, headers=headers)
    if response.status_code < 300:
        _undo(api, case.method, path, response)
    assert response.status_code == case.status, (
        '%s %s answered %s (wanted %s): %s' % (
            case.method, path[:100], response.status_code, case.status,
            response.text[:500]))
    assert response.headers['Content-Type'].startswith('application/json')
    fault = json.loads(response.json()['error_message'])
    assert fault['faultcode'] == 'Client', fault
    assert fault['debuginfo'] is None, fault
    for word in case.words:
        assert word.lower() in fault['faultstring'].lower(), (
            '%r is not named in %r' % (word, fault['faultstring']))
    assert snapshot(api) == before, 'the request changed something'
