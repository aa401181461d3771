"""Certificates end to end: a static docker bay whose real Docker Engine
serves the bay's own certificates with ``--tlsverify``.

magnum-api and magnum-conductor run on PostgreSQL and RabbitMQ (noauth)
with ``[static] certificate_dir``: the conductor delivers the bay's CA,
server certificate and key there, and the test starts dockerd on a free
TCP port with those files (tools/docker-engine.sh). Containers then go
through Magnum over TLS with the conductor's client certificate; a
certificate signed through ``POST /v1/certificates`` and the bundle of
``GET /v1/bays/<ident>/config`` let the test's own Docker SDK in; after a
CA rotation (and dockerd restarted on the new files) the old certificate
is refused and Magnum still works. Finally responses, logs and the key
columns of the database are scanned for private keys in clear.
"""

import os
import shutil
import ssl
import tempfile
import time

from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
import docker
from docker import tls as docker_tls
import pytest
import requests
import sqlalchemy as sa

from magnum.common import x509
from magnum.tests.functional import db_servers
from magnum.tests.functional import docker_engine as docker_engine_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.docker, pytest.mark.postgresql,
              pytest.mark.rabbitmq]

OWNER = {'X-Project-Id': 'cert-owner', 'X-User-Id': 'alice',
         'X-Roles': 'member'}
OTHER = {'X-Project-Id': 'cert-other', 'X-User-Id': 'bob',
         'X-Roles': 'member'}
RESPONSES = []   # every body the API sent, for the final scan


class World:
    pass


def _record(response):
    RESPONSES.append(response.text)
    return response


def _csr_pem(key, cn='tenant', org='system:masters'):
    csr = x509.make_csr(key, x509.name(cn, org))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def _docker_client(world, cert, key, ca):
    """The test's own Docker SDK client with a certificate and key."""
    d = tempfile.mkdtemp(dir=world.scratch)
    tls = docker_tls.TLSConfig(
        client_cert=(_write(d, 'cert.pem', cert), _write(d, 'key.pem', key)),
        ca_cert=_write(d, 'ca.pem', ca), verify=True)
    client = docker.APIClient(base_url=world.engine.tcp_url, tls=tls,
                              timeout=10, version='1.41')
    client.trust_env = False  # REQUESTS_CA_BUNDLE would win over the CA
    return client


@pytest.fixture(scope='module')
def world():
    w = World()
    w.scratch = tempfile.mkdtemp(prefix='mgcert-')
    w.cert_dir = os.path.join(w.scratch, 'bays')
    os.mkdir(w.cert_dir, 0o700)
    port = processes.free_port()
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(processes.MagnumServices(
                database.url, periodic_interval=1,
                extra={'static': {'certificate_dir': w.cert_dir},
                       'docker': {'stop_timeout': 1}})) as magnum:
            w.database, w.magnum = database, magnum
            w.api = processes.Client(magnum, headers=OWNER)
            w.other = processes.Client(magnum, headers=OTHER)
            baymodel = _record(w.api.post('/v1/baymodels', json={
                'name': processes.unique_name('tls'), 'coe': 'docker',
                'labels': {'docker_url': 'tcp://127.0.0.1:%d' % port}}))
            assert baymodel.status_code == 201, baymodel.text
            t0 = time.monotonic()
            bay = _record(w.api.post('/v1/bays', json={
                'name': processes.unique_name('tls'),
                'baymodel_id': baymodel.json()['uuid']}))
            assert bay.status_code == 201, bay.text
            w.bay = bay.json()['uuid']
            w.bay_dir = os.path.join(w.cert_dir, w.bay)
            # The conductor delivers the certificates, then waits for the
            # endpoint to serve them.
            deadline = time.monotonic() + 30
            while not os.path.exists(os.path.join(w.bay_dir, 'server.key')):
                assert time.monotonic() < deadline, magnum.logs()
                time.sleep(0.1)
            w.delivered = time.monotonic() - t0
            assert _record(w.api.get('/v1/bays/%s' % w.bay)).json()[
                'status'] == 'CREATE_IN_PROGRESS'
            with processes.running(docker_engine_mod.DockerEngine(
                    tls_dir=w.bay_dir, tcp_port=port)) as engine:
                w.engine = engine
                processes.wait_for_bay(w.api, magnum, w.bay,
                                       ('CREATE_COMPLETE', 'CREATE_FAILED'))
                w.created = time.monotonic() - t0
                yield w
            w.api.close()
            w.other.close()
    shutil.rmtree(w.scratch, ignore_errors=True)


def test_delivered_files_are_private_and_from_the_bays_ca(world):
    bay = world.api.get('/v1/bays/%s' % world.bay).json()
    assert bay['status'] == 'CREATE_COMPLETE', bay
    assert os.stat(world.bay_dir).st_mode & 0o777 == 0o700
    for name in ('ca.crt', 'server.crt', 'server.key'):
        assert os.stat(os.path.join(world.bay_dir, name)).st_mode & 0o777 \
            == 0o600
    shown = _record(world.api.get('/v1/certificates/%s' % world.bay))
    assert shown.status_code == 200, shown.text
    with open(os.path.join(world.bay_dir, 'ca.crt')) as f:
        assert shown.json()['pem'] == f.read()
    assert shown.json()['bay_uuid'] == world.bay
    print('\ncertificates delivered %.2fs, bay complete %.2fs after POST'
          % (world.delivered, world.created))


def test_containers_go_through_tls(world):
    created = _record(world.api.post('/v1/containers', json={
        'name': processes.unique_name('c'), 'image': 'busybox:latest',
        'command': 'echo over tls', 'bay_uuid': world.bay}))
    assert created.status_code == 201, created.text
    uuid = created.json()['uuid']
    started = _record(world.api.request(
        'PUT', '/v1/containers/%s/start' % uuid))
    assert started.status_code == 200, started.text
    listed = _record(world.api.get('/v1/containers?bay_ident=%s'
                                   % world.bay))
    assert uuid in [c['uuid'] for c in listed.json()['containers']]


def test_no_client_certificate_is_refused_by_the_engine(world):
    ca = os.path.join(world.bay_dir, 'ca.crt')
    tls = docker_tls.TLSConfig(ca_cert=ca, verify=True)
    client = docker.APIClient(base_url=world.engine.tcp_url, tls=tls,
                              timeout=10, version='1.41')
    client.trust_env = False
    with pytest.raises((requests.exceptions.SSLError,
                        requests.exceptions.ConnectionError,
                        docker.errors.APIError)):
        client.version()


def test_signed_csr_lets_the_tests_docker_sdk_in(world):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = _csr_pem(key, cn='tenant-tool')
    signed = _record(world.api.post('/v1/certificates', json={
        'bay_uuid': world.bay, 'csr': csr}))
    assert signed.status_code == 201, signed.text
    body = signed.json()
    cert = cx509.load_pem_x509_certificate(body['pem'].encode())
    assert cert.subject.get_attributes_for_oid(
        cx509.NameOID.COMMON_NAME)[0].value == 'tenant-tool'
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days <= 31
    ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    client = _docker_client(world, body['pem'], key_pem, ca)
    assert client.version()['ApiVersion']
    world.old_signed = (body['pem'], key_pem, ca)


def _tampered_csr():
    pem = _csr_pem(x509.new_key())
    der = cx509.load_pem_x509_csr(pem.encode()).public_bytes(
        serialization.Encoding.DER)
    der = der[:-3] + bytes([der[-3] ^ 0x01]) + der[-2:]
    import base64
    body = base64.encodebytes(der).decode()
    return ('-----BEGIN CERTIFICATE REQUEST-----\n%s'
            '-----END CERTIFICATE REQUEST-----\n' % body)


@pytest.mark.parametrize('kind', ['garbage', 'certificate', 'private_key',
                                  'weak_rsa', 'bad_signature', 'empty'])
def test_bad_csrs_are_400s_naming_csr(world, kind):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csrs = {
        'garbage': 'not a csr at all',
        'certificate': world.api.get('/v1/certificates/%s'
                                     % world.bay).json()['pem'],
        'private_key': x509.key_pem(x509.new_key()),
        'weak_rsa': _csr_pem(weak),
        'bad_signature': _tampered_csr(),
        'empty': '',
    }
    response = _record(world.api.post('/v1/certificates', json={
        'bay_uuid': world.bay, 'csr': csrs[kind]}))
    assert response.status_code == 400, response.text
    fault = processes.faultstring(response)
    assert 'csr' in fault
    assert 'PRIVATE KEY-----' not in response.text


def test_another_projects_bay_is_404(world):
    csr = _csr_pem(x509.new_key())
    for response in (
            world.other.get('/v1/certificates/%s' % world.bay),
            world.other.post('/v1/certificates', json={
                'bay_uuid': world.bay, 'csr': csr}),
            world.other.patch('/v1/certificates/%s' % world.bay),
            world.other.get('/v1/bays/%s/config' % world.bay)):
        _record(response)
        assert response.status_code == 404, response.text


def test_bay_config_is_a_working_docker_bundle(world):
    response = world.api.get('/v1/bays/%s/config' % world.bay)
    assert response.status_code == 200, response.text
    assert response.headers['Cache-Control'] == 'no-store'
    bundle = response.json()['docker']
    assert response.json()['format'] == 'docker'
    with open(os.path.join(world.bay_dir, 'server.key')) as f:
        assert bundle['key.pem'] != f.read()  # the caller's own, fresh key
    client = _docker_client(world, bundle['cert.pem'], bundle['key.pem'],
                            bundle['ca.pem'])
    assert client.version()['ApiVersion']
    again = world.api.get('/v1/bays/%s/config' % world.bay).json()
    assert again['docker']['key.pem'] != bundle['key.pem']


@pytest.mark.cli
def test_cli_370_ca_show_and_ca_sign_in_token_mode(world):
    # NOTE: with noauth, a token-mode client is an administrator of the
    # project "default"; it reaches the bay by its UUID.
    cli = magnumclient.ClientVenv('3.7.0').ensure().cli(
        world.magnum.endpoint)
    shown = cli.ok('ca-show', '--bay', world.bay)
    ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    assert ca.strip() in shown.stdout
    csr_path = _write(world.scratch, 'cli.csr', _csr_pem(x509.new_key(),
                                                         cn='cli-user'))
    signed = cli.ok('ca-sign', '--bay', world.bay, '--csr', csr_path)
    pem = signed.stdout[signed.stdout.index('-----BEGIN CERTIFICATE'):]
    cert = cx509.load_pem_x509_certificate(pem.strip().encode())
    assert cert.issuer == cx509.load_pem_x509_certificate(
        ca.encode()).subject
    assert 'PRIVATE KEY' not in shown.output + signed.output
    # ca-rotate needs /v1/clusters/<uuid> in 3.7.0 (cs.clusters.get), and
    # then fails on its own side whatever the server answers: with no
    # request body its _update() reads the raw answer (a StringIO) as a
    # resource ("'_io.StringIO' object has no attribute 'items'"). The
    # PATCH has been answered by then: the CA did rotate.
    if world.api.get('/v1/clusters/%s' % world.bay).status_code != 200:
        return
    rotated = cli.run('ca-rotate', '--cluster', world.bay)
    new_ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    assert new_ca != ca, str(rotated)
    if rotated.returncode:
        assert "'_io.StringIO' object has no attribute 'items'" in (
            rotated.stderr), str(rotated)
    world.engine.restart()   # dockerd reads the new files
    assert world.api.post('/v1/containers', json={
        'name': processes.unique_name('c'), 'image': 'busybox:latest',
        'command': 'echo cli rotated', 'bay_uuid': world.bay}
    ).status_code == 201


def test_rotation_refuses_old_certificates_and_magnum_still_works(world):
    old_ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    t0 = time.monotonic()
    rotated = _record(world.api.patch('/v1/certificates/%s' % world.bay))
    rotate_time = time.monotonic() - t0
    assert rotated.status_code == 202, rotated.text
    new_ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    assert new_ca != old_ca
    with open(os.path.join(world.bay_dir, 'ca.crt')) as f:
        assert f.read() == new_ca
    world.engine.restart()   # dockerd reads the new files
    cert, key, ca = world.old_signed
    old = _docker_client(world, cert, key, new_ca)
    with pytest.raises((requests.exceptions.SSLError,
                        requests.exceptions.ConnectionError, ssl.SSLError)):
        old.version()
    created = _record(world.api.post('/v1/containers', json={
        'name': processes.unique_name('c'), 'image': 'busybox:latest',
        'command': 'echo rotated', 'bay_uuid': world.bay}))
    assert created.status_code == 201, created.text
    print('\nCA rotation answered in %.2fs' % rotate_time)


def test_no_private_key_in_clear_anywhere(world):
    # Responses (a config bundle holds the caller's own fresh key, which is
    # not Magnum's: those answers are not recorded).
    for text in RESPONSES:
        assert 'PRIVATE KEY-----' not in text
    # Logs of every process.
    for name in os.listdir(world.magnum.work_dir):
        path = os.path.join(world.magnum.work_dir, name)
        if os.path.isfile(path):
            with open(path, 'rb') as f:
                assert b'PRIVATE KEY-----' not in f.read(), name
    # The key columns of the database.
    engine = sa.create_engine(world.database.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                'SELECT ca_key, server_key, client_key, ca_cert '
                'FROM bay_certificate')).all()
    finally:
        engine.dispose()
    assert rows
    for row in rows:
        for value in row[:3]:
            assert value.startswith('fernet:')
            assert 'PRIVATE KEY' not in value
        assert row[3].startswith('-----BEGIN CERTIFICATE-----')
